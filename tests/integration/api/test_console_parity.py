"""What the console does, over REST too (issue 13): named tokens as the audit log's actor,
customer mapping checked against Autotask, customer unmap and remap, subscription suggestions by
SKU or name; and the Autotask names stored (they outlive the process, no Autotask call to read
them). Real HTTP, the real façade, the Autotask sandbox — on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from contractsync.bootstrap import build_app_service
from contractsync.service.actor import ADMIN
from tests.integration.api.test_end_to_end_http import TODAY, World, _iso, _ok, world

__all__ = ["world"]


def _customer(world: World, customer_id: str) -> dict[str, Any]:
    return next(c for c in world.service.list_customers(ADMIN) if c["id"] == customer_id)


def test_a_named_token_is_the_actor_of_what_it_does(world: World) -> None:
    api, admin = world.api, world.tokens["admin"]
    issued = _ok(
        api.post("/v1/tokens", headers=admin, json={"name": "Billing bot", "reseller_id": "r1"}), 201
    )
    assert issued["name"] == "Billing bot" and issued["kind"] == "reseller" and issued["source"] == "api"
    bot = {"Authorization": f"Bearer {issued['token']}"}
    [record] = _ok(
        api.post(
            "/v1/subscriptions/s1/operations", headers=bot, json={"type": "update_quantity", "quantity": 14}
        )
    )
    assert record["actor"] == "Billing bot"
    listed = {t["id"]: t for t in _ok(api.get("/v1/tokens", headers=admin))}
    assert listed[issued["id"]]["name"] == "Billing bot" and "token" not in listed[issued["id"]]
    assert issued["token"] not in str(listed)

    # Names tell tokens apart: a second "Billing bot" is refused, nothing stored.
    twice = api.post("/v1/tokens", headers=admin, json={"name": " Billing bot ", "reseller_id": "r2"})
    assert twice.status_code == 409 and "Billing bot" in twice.json()["error"]["message"]
    assert len(_ok(api.get("/v1/tokens", headers=admin))) == len(listed)
    # A name is required; a reseller cannot make tokens; an unknown reseller is 404.
    assert api.post("/v1/tokens", headers=admin, json={"reseller_id": "r1"}).status_code == 422
    assert api.post("/v1/tokens", headers=admin, json={"name": "\t"}).status_code == 422
    assert api.post("/v1/tokens", headers=world.tokens["r1"], json={"name": "mine"}).status_code == 403
    assert api.post("/v1/tokens", headers=admin, json={"name": "x", "reseller_id": "nope"}).status_code == 404
    assert len(_ok(api.get("/v1/tokens", headers=admin))) == len(listed)


def test_a_company_autotask_does_not_have_is_refused(world: World) -> None:
    api, r1 = world.api, world.tokens["r1"]
    _ok(
        api.post(
            "/v1/customers",
            headers=r1,
            json={"id": "c1b", "reseller_id": "r1", "name": "Litware", "provider_margins": {}},
        ),
        201,
    )
    refused = api.post(
        "/v1/mappings/customers",
        headers=r1,
        json={"customer_id": "c1b", "connection_id": "at1", "company_id": 999999},
    )
    assert refused.status_code == 422, refused.text
    assert "Autotask has no customer company 999999" in refused.json()["error"]["message"]
    assert _customer(world, "c1b")["mapping"] is None


def test_a_customer_is_unmapped_and_remapped_over_rest(world: World) -> None:
    api, r1, r2 = world.api, world.tokens["r1"], world.tokens["r2"]
    who = next(
        t for t in _ok(api.get("/v1/tokens", headers=world.tokens["admin"])) if t["reseller_id"] == "r1"
    )
    label = f"token #{who['id']} ({who['hint']})"  # an unnamed token keeps its number and hint
    # Another reseller's customer is not found; a customer that is not mapped is 404.
    assert api.delete("/v1/mappings/customers/c1", headers=r2).status_code == 404

    unmapped = _ok(api.delete("/v1/mappings/customers/c1", headers=r1))
    assert unmapped["type"] == "CreateConnectionCustomerMapping" and unmapped["actor"] == label
    assert unmapped["reason"] == (
        "unmapped from Autotask company 501 (Contoso Ltd); its 1 mapped subscription keeps its contract "
        "service (unmap it separately to stop syncing)"
    )
    assert _customer(world, "c1")["mapping"] is None
    assert world.service.get_subscription(ADMIN, "s1")["mapping"]["contract_id"] == 701  # still synced
    assert api.delete("/v1/mappings/customers/c1", headers=r1).status_code == 404

    body = {"customer_id": "c1", "connection_id": "at1", "company_id": 501}
    _ok(api.post("/v1/mappings/customers", headers=r1, json=body), 201)
    # Remap: to a company Autotask lacks (422), to the same one (409), then to Fabrikam.
    to = {"connection_id": "at1", "company_id": 999999}
    assert api.put("/v1/mappings/customers/c1", headers=r1, json=to).status_code == 422
    assert api.put("/v1/mappings/customers/c1", headers=r1, json=to | {"company_id": 501}).status_code == 409
    assert api.put("/v1/mappings/customers/c1", headers=r2, json=to | {"company_id": 502}).status_code == 404
    remapped = _ok(api.put("/v1/mappings/customers/c1", headers=r1, json=to | {"company_id": 502}))
    assert remapped["reason"].startswith(
        "remapped from Autotask company 501 to 502 (Fabrikam Inc); its 1 mapped"
    )
    assert remapped["actor"] == label
    assert _customer(world, "c1")["mapping"] == {"connection_id": "at1", "company_id": 502}
    log = _ok(api.get("/v1/operations", headers=r1, params={"type": "CreateConnectionCustomerMapping"}))
    reasons = [r["reason"] or "" for r in log["items"]]
    assert sum(r.startswith("unmapped from") for r in reasons) == 1
    assert sum(r.startswith("remapped from") for r in reasons) == 1


def test_subscription_suggestions_by_sku_over_rest(world: World) -> None:
    api, r1 = world.api, world.tokens["r1"]
    seeded = httpx.post(
        f"{world.sandbox.base_url}/sandbox/seed",
        json={
            "services": [
                {
                    "name": "M365 Business Premium (CSP)",
                    "sku": "cfq7ttc0lcht:0002",
                    "unitCost": "18.0000",
                    "unitPrice": "22.0000",
                    "periodType": 1,
                }
            ]
        },
        timeout=10,
    ).json()
    [sku_service] = seeded["services"]
    start = TODAY.replace(day=1)
    for sub_id, offer_id, offer_name in (
        ("s1-bp", "CFQ7TTC0LCHT:0002:0001", "Microsoft 365 Business Premium"),  # by SKU
        ("s1-none", "CFQ7TTC0LCHZ:0001", "Visio Plan 2"),  # nothing matches
    ):
        _ok(
            api.post(
                "/v1/subscriptions",
                headers=r1,
                json={
                    "id": sub_id,
                    "customer_id": "c1",
                    "offer_id": offer_id,
                    "offer_name": offer_name,
                    "kind": "nce",
                    "quantity": 3,
                    "term": "P1Y",
                    "billing_cycle": "monthly",
                    "start_date": _iso(start),
                    "end_date": _iso(start.replace(year=start.year + 1)),
                    "auto_renew": True,
                    "list_price": "20.00",
                },
            ),
            201,
        )
    found = _ok(api.get("/v1/mappings/subscription-suggestions", headers=r1, params={"connection_id": "at1"}))
    assert found["subscriptions"] == [
        {
            "subscription_id": "s1-bp",
            "contract_id": 701,
            "service_id": sku_service,
            "contract_service_id": None,
            "matched_by": "SKU (new service line)",
        }
    ]
    assert found["subscriptions_skipped"] == [
        {"subscription_id": "s1-none", "reason": "no Autotask service has the offer's SKU or name"}
    ]
    # Another reseller's connection is not found.
    other = api.get(
        "/v1/mappings/subscription-suggestions", headers=world.tokens["r2"], params={"connection_id": "at1"}
    )
    assert other.status_code == 404

    chosen = {
        "connection_id": "at1",
        "subscriptions": [{k: v for k, v in found["subscriptions"][0].items() if k != "matched_by"}],
    }
    accepted = _ok(api.post("/v1/mappings/subscription-suggestions/accept", headers=r1, json=chosen))
    assert [r["status"] for r in accepted["subscriptions"]] == ["mapped"]
    assert world.service.get_subscription(ADMIN, "s1-bp")["mapping"]["service_id"] == sku_service
    # Never overwritten: accepting again is refused, the mapping stays.
    again = _ok(api.post("/v1/mappings/subscription-suggestions/accept", headers=r1, json=chosen))
    assert again["subscriptions"][0]["status"] == "refused" and again["subscriptions"][0]["error"]
    # The service's name was stored on mapping, for the console.
    assert (
        world.service.autotask_names(ADMIN, "at1")["services"][sku_service] == "M365 Business Premium (CSP)"
    )


def test_autotask_names_are_stored_and_outlive_the_process(world: World) -> None:
    names = world.service.autotask_names(ADMIN, "at1")
    assert names["companies"][501] == "Contoso Ltd" and names["contracts"][701] == "Contoso CSP"
    assert names["services"][601] == "Microsoft 365 E5"

    def no_autotask(row: Any) -> Any:
        raise AssertionError("a stored name needs no Autotask call")

    restarted = build_app_service(world.settings, connector_factory=no_autotask, upgrade=False)
    assert restarted.autotask_names(ADMIN, "at1") == names
    # A company new in Autotask: not read on a page view (the names are stored), read by a reconciliation.
    seeded = httpx.post(
        f"{world.sandbox.base_url}/sandbox/seed",
        json={"companies": [{"companyName": "Northwind Traders"}]},
        timeout=10,
    ).json()
    [new_company] = seeded["companies"]
    assert new_company not in world.service.autotask_names(ADMIN, "at1")["companies"]
    world.service.reconciliation(ADMIN, "at1")
    assert world.service.autotask_names(ADMIN, "at1")["companies"][new_company] == "Northwind Traders"
    assert restarted.autotask_names(ADMIN, "at1")["companies"][new_company] == "Northwind Traders"


@pytest.mark.parametrize("company_id", [0, -1, "501", None])
def test_a_bad_company_id_is_refused_before_autotask(world: World, company_id: Any) -> None:
    body = {"connection_id": "at1", "company_id": company_id}
    assert (
        world.api.put("/v1/mappings/customers/c1", headers=world.tokens["r1"], json=body).status_code == 422
    )
