"""Bad input is refused with 422 (or 400 for broken JSON), names the field, and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from contractsync.service.actor import ADMIN
from contractsync.service.facade import ContractSync
from tests.integration.api.conftest import ADMIN as ADMIN_HEADERS
from tests.integration.api.conftest import SUBSCRIPTION, TestClient
from tests.memory_service import snapshot

RESELLER = {"id": "r3", "name": "Fabrikam", "promotion_setting": "keep"}
CONNECTION = {
    "id": "at3",
    "reseller_id": "r1",
    "kind": "autotask",
    "username": "u",
    "secret": "s",
    "integration_code": "IC",
    "timezone": "Europe/Berlin",
}
CUSTOMER = {"id": "c3", "reseller_id": "r1", "name": "Contoso"}
NEW_SUBSCRIPTION = {**SUBSCRIPTION, "id": "s3", "customer_id": "c1"}
QUANTITY = {"type": "update_quantity", "quantity": 12}
MARGIN = {"type": "update_price_margin", "margin_percent": "25"}
OPS = "/v1/subscriptions/s1/operations"
SUB_MAP = {"subscription_id": "s1", "connection_id": "at1", "contract_id": 100, "service_id": 7}

# (method, path, body, the field the message must name)
CASES: list[tuple[str, str, Any, str]] = [
    # quantities: strict non-negative bounded integers
    ("POST", OPS, {**QUANTITY, "quantity": True}, "quantity"),
    ("POST", OPS, {**QUANTITY, "quantity": 12.5}, "quantity"),
    ("POST", OPS, {**QUANTITY, "quantity": 12.5}, "quantity"),
    ("POST", OPS, {**QUANTITY, "quantity": -1}, "quantity"),
    ("POST", OPS, {**QUANTITY, "quantity": "12"}, "quantity"),
    ("POST", OPS, {**QUANTITY, "quantity": 10**12}, "quantity"),
    ("POST", OPS, {"type": "update_quantity"}, "quantity"),
    ("POST", OPS, {"type": "upgrade", "target_subscription_id": "s2", "quantity": 0}, "quantity"),
    # discriminated union: unknown type, a field of another type, unknown fields
    ("POST", OPS, {"type": "teleport"}, "type"),
    ("POST", OPS, {"quantity": 3}, "type"),
    ("POST", OPS, {"type": "cancel", "quantity": 0}, "quantity"),
    ("POST", OPS, {**QUANTITY, "note": "x"}, "note"),
    ("POST", OPS, {"type": "renew", "quantity": 5}, "end_date"),
    ("POST", OPS, {"type": "update_auto_renew", "auto_renew": "yes"}, "auto_renew"),
    ("POST", OPS, {"type": "update_billing_cycle", "billing_cycle": "weekly"}, "billing_cycle"),
    # decimals: strings only, bounded, limited places
    ("POST", OPS, {**MARGIN, "margin_percent": 25}, "margin_percent"),
    ("POST", OPS, {**MARGIN, "margin_percent": 25.5}, "margin_percent"),
    ("POST", OPS, {**MARGIN, "margin_percent": "abc"}, "margin_percent"),
    ("POST", OPS, {**MARGIN, "margin_percent": "1001"}, "margin_percent"),
    ("POST", OPS, {**MARGIN, "margin_percent": "-100.5"}, "margin_percent"),
    ("POST", OPS, {**MARGIN, "margin_percent": "1.123456"}, "margin_percent"),
    ("POST", OPS, {**MARGIN, "margin_percent": "NaN"}, "margin_percent"),
    ("POST", OPS, {"type": "update_price_margin"}, "margin_percent"),
    # dates: YYYY-MM-DD and real
    ("POST", OPS, {**QUANTITY, "effective_date": "2024-02-30"}, "effective_date"),
    ("POST", OPS, {**QUANTITY, "effective_date": "20240520"}, "effective_date"),
    ("POST", OPS, {**QUANTITY, "effective_date": "2024-05-20T00:00:00Z"}, "effective_date"),
    ("POST", OPS, {**QUANTITY, "effective_date": 20240520}, "effective_date"),
    ("POST", OPS, {**QUANTITY, "preview": "true"}, "preview"),
    ("POST", OPS, {**QUANTITY, "preview": 1}, "preview"),
    # subscriptions
    ("POST", "/v1/subscriptions", {**NEW_SUBSCRIPTION, "list_price": 10.0}, "list_price"),
    ("POST", "/v1/subscriptions", {**NEW_SUBSCRIPTION, "list_price": "-1"}, "list_price"),
    ("POST", "/v1/subscriptions", {**NEW_SUBSCRIPTION, "list_price": "1000000.01"}, "list_price"),
    ("POST", "/v1/subscriptions", {**NEW_SUBSCRIPTION, "list_price": "1.1234567"}, "list_price"),
    ("POST", "/v1/subscriptions", {**NEW_SUBSCRIPTION, "kind": "perpetual"}, "kind"),
    ("POST", "/v1/subscriptions", {**NEW_SUBSCRIPTION, "term": "P2Y"}, "term"),
    ("POST", "/v1/subscriptions", {**NEW_SUBSCRIPTION, "auto_renew": "true"}, "auto_renew"),
    ("POST", "/v1/subscriptions", {**NEW_SUBSCRIPTION, "quantity": False}, "quantity"),
    ("POST", "/v1/subscriptions", {**NEW_SUBSCRIPTION, "start_date": "15/01/2024"}, "start_date"),
    ("POST", "/v1/subscriptions", {**NEW_SUBSCRIPTION, "end_date": "2023-01-01"}, "end_date"),
    ("POST", "/v1/subscriptions", {**NEW_SUBSCRIPTION, "id": ""}, "id"),
    ("POST", "/v1/subscriptions", {**NEW_SUBSCRIPTION, "id": "a/b"}, "id"),
    ("POST", "/v1/subscriptions", {**NEW_SUBSCRIPTION, "id": "x" * 101}, "id"),
    ("POST", "/v1/subscriptions", {**NEW_SUBSCRIPTION, "status": "active"}, "status"),
    (
        "POST",
        "/v1/subscriptions",
        {**NEW_SUBSCRIPTION, "promotion": {"id": "p", "discount_percent": "101"}},
        "discount_percent",
    ),
    ("POST", "/v1/subscriptions", {k: v for k, v in NEW_SUBSCRIPTION.items() if k != "offer_id"}, "offer_id"),
    ("POST", "/v1/subscriptions", [NEW_SUBSCRIPTION], "body"),
    # resellers, connections, customers
    ("POST", "/v1/resellers", {**RESELLER, "promotion_setting": "share"}, "promotion_setting"),
    ("POST", "/v1/resellers", {**RESELLER, "name": "   "}, "name"),
    ("POST", "/v1/resellers", {**RESELLER, "admin": True}, "admin"),
    ("POST", "/v1/resellers/r1/billing-approvals", {"approved_through": "2024-5-31"}, "approved_through"),
    ("POST", "/v1/connections", {**CONNECTION, "kind": "connectwise"}, "kind"),
    ("POST", "/v1/connections", {**CONNECTION, "timezone": "Mars/Olympus_Mons"}, "timezone"),
    ("POST", "/v1/connections", {**CONNECTION, "settle_seconds": -1}, "settle_seconds"),
    ("POST", "/v1/connections", {**CONNECTION, "settle_seconds": 1.5}, "settle_seconds"),
    ("POST", "/v1/connections", {**CONNECTION, "policies": {"upgrade": "sometimes"}}, "upgrade"),
    ("POST", "/v1/connections", {**CONNECTION, "policies": {"downgrade": "auto"}}, "downgrade"),
    ("POST", "/v1/connections", {**CONNECTION, "base_url": "ftp://example.com"}, "base_url"),
    ("POST", "/v1/connections", {k: v for k, v in CONNECTION.items() if k != "secret"}, "secret"),
    ("POST", "/v1/customers", {**CUSTOMER, "provider_margins": {"microsoft": 20}}, "provider_margins"),
    ("POST", "/v1/customers", {**CUSTOMER, "provider_margins": {"Micro soft": "20"}}, "provider_margins"),
    ("PUT", "/v1/customers/c1/provider-margins/microsoft", {"margin_percent": "-101"}, "margin_percent"),
    ("PUT", "/v1/customers/c1/provider-margins/Micro$oft", {"margin_percent": "20"}, "provider"),
    # mappings
    ("POST", "/v1/mappings/subscriptions", {**SUB_MAP, "contract_id": "100"}, "contract_id"),
    ("POST", "/v1/mappings/subscriptions", {**SUB_MAP, "contract_id": 0}, "contract_id"),
    ("POST", "/v1/mappings/subscriptions", {**SUB_MAP, "service_id": True}, "service_id"),
    (
        "POST",
        "/v1/mappings/customers",
        {"customer_id": "c1", "connection_id": "at1", "company_id": 1.5},
        "company_id",
    ),
    # daily work
    ("POST", "/v1/sweeps", {"date": "tomorrow"}, "date"),
    ("POST", "/v1/sweeps", {"date": "2024-05-20", "preview": 1}, "preview"),
    ("POST", "/v1/sweeps", {}, "date"),
    ("POST", "/v1/reconciliation", {"fix": "true"}, "fix"),
    # query and path parameters
    ("GET", "/v1/subscriptions?page=0", None, "page"),
    ("GET", "/v1/subscriptions?page_size=201", None, "page_size"),
    ("GET", "/v1/subscriptions?page=x", None, "page"),
    ("GET", "/v1/subscriptions?sync_state=weird", None, "sync_state"),
    ("GET", "/v1/operations?status=bogus", None, "status"),
    ("GET", "/v1/operations?type=Nope", None, "type"),
    ("GET", "/v1/operations/0", None, "operation_id"),
    ("POST", "/v1/operations/0/retry", None, "operation_id"),
    ("GET", "/v1/contracts", None, "connection_id"),
    ("GET", "/v1/contract-services?connection_id=at1&contract_id=x", None, "contract_id"),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), CASES)
def test_refused_with_the_field_named_and_nothing_changed(
    client: TestClient,
    service: ContractSync,
    seeded: dict[str, dict[str, str]],
    method: str,
    path: str,
    body: Any,
    field: str,
) -> None:
    before = snapshot(service)
    response = client.request(method, path, json=body, headers=seeded["r1"])
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["message"] or field in str(error["details"]), error
    assert error["details"], error
    assert snapshot(service) == before


def test_a_refused_secret_is_not_echoed(client: TestClient, seeded: dict[str, dict[str, str]]) -> None:
    body = {**CONNECTION, "secret": "hunter2-but-long", "timezone": "nowhere"}
    response = client.post("/v1/connections", json=body, headers=seeded["r1"])
    assert response.status_code == 422
    assert "hunter2" not in response.text


def test_valid_operation_bodies_reach_the_facade_as_sent(
    client: TestClient, service: ContractSync, seeded: dict[str, dict[str, str]]
) -> None:
    """Each valid body is applied as sent, to a subscription of its own: what changed is what it said."""
    renewal = {"end_date": "2026-01-14", "quantity": 5, "list_price": "9.500000", "offer_id": "X:1",
               "term": "P1M", "billing_cycle": "monthly"}  # fmt: skip
    # (body, what the subscription holds afterwards)
    cases: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({"type": "update_quantity", "quantity": 0, "effective_date": "2024-02-29", "preview": True},
         {"quantity": 10}),
        ({"type": "update_price_margin", "margin_percent": None}, {"price_margin_percent": None}),
        ({"type": "update_price_margin", "margin_percent": "-12.5"},
         {"price_margin_percent": "-12.5", "unit_price": "8.7500"}),
        ({"type": "cancel"}, {"status": "canceled"}),
        ({"type": "suspend"}, {"status": "suspended"}),
        ({"type": "reactivate"}, {"status": "active"}),  # suspended first, below
        ({"type": "update_billing_cycle", "billing_cycle": "annual"}, {"billing_cycle": "annual"}),
        ({"type": "update_friendly_name", "friendly_name": "Sales team"}, {"friendly_name": "Sales team"}),
        ({"type": "update_auto_renew", "auto_renew": False}, {"auto_renew": False}),
        ({"type": "renew", **renewal}, {**renewal, "list_price": "9.5000"}),
        ({"type": "expire"}, {"status": "expired"}),
        ({"type": "upgrade", "target_subscription_id": "s9", "quantity": 1}, {"quantity": 9}),
        ({"type": "change_reseller", "reseller_id": "r2", "customer_id": "c2"},
         {"reseller_id": "r2", "customer_id": "c2"}),
    ]  # fmt: skip
    service.create_subscription(ADMIN, {**SUBSCRIPTION, "id": "s9", "customer_id": "c1", "offer_id": "X:9"})
    for n, (body, after) in enumerate(cases):
        subscription_id = f"v{n}"
        service.create_subscription(ADMIN, {**SUBSCRIPTION, "id": subscription_id, "customer_id": "c1"})
        if body["type"] == "reactivate":
            service.apply_operation(ADMIN, subscription_id, {"type": "suspend"})
        # Only the provider may move a subscription to another reseller (r1 cannot see r2).
        headers = ADMIN_HEADERS if body["type"] == "change_reseller" else seeded["r1"]
        response = client.post(f"/v1/subscriptions/{subscription_id}/operations", json=body, headers=headers)
        assert response.status_code == 200, response.text
        held = service.get_subscription(ADMIN, subscription_id)
        assert {field: held[field] for field in after} == after, body
    assert service.get_subscription(ADMIN, "s9")["quantity"] == 11  # the upgrade's target


def test_unknown_query_parameters_are_refused(client: TestClient, seeded: dict[str, dict[str, str]]) -> None:
    response = client.get("/v1/subscriptions?sync-state=failed", headers=seeded["r1"])
    assert response.status_code == 422
    assert "sync-state" in response.json()["error"]["message"]
    assert client.get("/v1/subscriptions?sync_state=synced&page=1", headers=seeded["r1"]).status_code == 200


def test_authentication_comes_before_query_checks(client: TestClient) -> None:
    assert client.get("/v1/subscriptions?sync-state=failed").status_code == 401


def test_an_integral_json_number_is_an_integer(
    client: TestClient, service: ContractSync, seeded: dict[str, dict[str, str]]
) -> None:
    """JSON has one number type and the document says "integer": 12.0 is 12 (as JSON Schema has
    it), and reaches the façade as the int 12."""
    response = client.post(OPS, json={**QUANTITY, "quantity": 12.0}, headers=seeded["r1"])
    assert response.status_code == 200, response.text
    quantity = service.get_subscription(ADMIN, "s1")["quantity"]
    assert quantity == 12 and type(quantity) is int
