"""The Partner Center sandbox over HTTPS: sign-in, paging, subscription changes, faults, webhooks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from contractsync.partner_center_sandbox.server import PartnerCenterSandbox
from contractsync.partner_center_sandbox.state import SandboxConfig


@pytest.fixture
def pc() -> Iterator[PartnerCenterSandbox]:
    with PartnerCenterSandbox(config=SandboxConfig(seed="5x2", today=lambda: date(2024, 6, 3))) as sandbox:
        yield sandbox


def http(pc: PartnerCenterSandbox) -> httpx.Client:
    return httpx.Client(base_url=pc.base_url, verify=str(pc.ca_file))


def sign_in(
    pc: PartnerCenterSandbox, client: httpx.Client, refresh_token: str | None = None
) -> httpx.Response:
    config = pc.config
    return client.post(
        f"/{config.partner_tenant}/oauth2/v2.0/token",
        data={
            "grant_type": "refresh_token",
            "client_id": config.client_id,
            "client_secret": config.client_secret,
            "refresh_token": refresh_token or config.refresh_token,
            "scope": "https://api.partnercenter.microsoft.com/user_impersonation offline_access",
        },
    )


def bearer(pc: PartnerCenterSandbox, client: httpx.Client) -> dict[str, str]:
    return {"Authorization": "Bearer " + sign_in(pc, client).json()["access_token"]}


def test_sign_in_issues_rotated_tokens_and_the_api_checks_them(pc: PartnerCenterSandbox) -> None:
    with http(pc) as client:
        assert client.get("/v1/customers?size=10").status_code == 401
        assert (
            client.get("/v1/customers?size=10", headers={"Authorization": "Bearer nope"}).status_code == 401
        )
        first = sign_in(pc, client).json()
        assert first["token_type"] == "Bearer" and first["refresh_token"] != pc.config.refresh_token
        # The rotated refresh token signs in too; an unknown one is refused as OAuth says.
        assert sign_in(pc, client, first["refresh_token"]).status_code == 200
        refused = sign_in(pc, client, "stolen")
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
        wrong_secret = client.post(
            f"/{pc.config.partner_tenant}/oauth2/v2.0/token",
            data={
                "grant_type": "refresh_token",
                "client_id": pc.config.client_id,
                "client_secret": "x",
                "refresh_token": pc.config.refresh_token,
            },
        )
        assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
        headers = {"Authorization": "Bearer " + first["access_token"]}
        assert client.get("/v1/customers?size=10", headers=headers).status_code == 200
        discovery = client.get(f"/{pc.config.partner_tenant}/v2.0/.well-known/openid-configuration").json()
        assert discovery["token_endpoint"].endswith("/oauth2/v2.0/token")


def test_customers_page_with_continuation_tokens(pc: PartnerCenterSandbox) -> None:
    with http(pc) as client:
        headers = bearer(pc, client)
        seen, token = [], None
        while True:
            extra = {"MS-ContinuationToken": token} if token else {}
            query = "?size=2&seekOperation=Next" if token else "?size=2"
            page = client.get(f"/v1/customers{query}", headers={**headers, **extra}).json()
            assert page["attributes"]["objectType"] == "Collection"
            seen += [c["companyProfile"]["tenantId"] for c in page["items"]]
            nxt = page["links"].get("next")
            if nxt is None:
                break
            assert nxt["uri"].endswith("seekOperation=Next")
            (token,) = [h["value"] for h in nxt["headers"] if h["key"] == "MS-ContinuationToken"]
        assert len(seen) == len(set(seen)) == 5
        bad = client.get("/v1/customers?size=2", headers={**headers, "MS-ContinuationToken": "garbage"})
        assert bad.status_code == 400


def test_patch_changes_quantity_status_and_auto_renew_and_refuses_nonsense(pc: PartnerCenterSandbox) -> None:
    tenant = next(iter(pc.state.customers))
    subscription_id = next(iter(pc.state.subscriptions[tenant]))
    path = f"/v1/customers/{tenant}/subscriptions/{subscription_id}"
    with http(pc) as client:
        headers = bearer(pc, client)
        etag = client.get(path, headers=headers).json()["attributes"]["etag"]
        changed = client.patch(path, headers=headers, json={"quantity": 9, "autoRenewEnabled": False}).json()
        assert (changed["quantity"], changed["autoRenewEnabled"]) == (9, False)
        assert changed["attributes"]["etag"] != etag
        for body in ({"quantity": 0}, {"quantity": "9"}, {"status": "expired"}, {"autoRenewEnabled": "no"}):
            assert client.patch(path, headers=headers, json=body).status_code == 400
        assert client.patch(path, headers=headers, json={"status": "deleted"}).json()["status"] == "deleted"
        assert client.patch(path, headers=headers, json={"status": "active"}).status_code == 409
        assert client.get(f"/v1/customers/{tenant}/subscriptions/unknown", headers=headers).status_code == 404


def test_transitions_move_seats_and_are_listed(pc: PartnerCenterSandbox) -> None:
    tenant = list(pc.state.customers)[3]
    source = next(iter(pc.state.subscriptions[tenant]))
    path = f"/v1/customers/{tenant}/subscriptions/{source}/transitions"
    with http(pc) as client:
        headers = bearer(pc, client)
        seats = pc.state.subscription(tenant, source)["quantity"]
        body = {
            "toCatalogItemId": "CFQ7TTC0LF8S:0001:CFQ7TTC0K9G9",
            "quantity": 1,
            "transitionType": "transition_only",
        }
        made = client.post(path, headers=headers, json=body).json()
        assert made["fromSubscriptionId"] == source and made["quantity"] == 1
        assert pc.state.subscription(tenant, source)["quantity"] == seats - 1
        assert pc.state.subscription(tenant, made["toSubscriptionId"])["quantity"] == 1
        (listed,) = client.get(path, headers=headers).json()["transition"]
        assert listed["operationId"] == made["operationId"]
        too_many = client.post(path, headers=headers, json={**body, "quantity": seats})
        assert too_many.status_code == 400


def test_faults_answer_429_with_retry_after_and_5xx(pc: PartnerCenterSandbox) -> None:
    with http(pc) as client:
        headers = bearer(pc, client)
        client.post("/sandbox/faults", json={"status": 429, "count": 1, "retry_after": 42})
        client.post("/sandbox/faults", json={"status": 503, "count": 1})
        throttled = client.get("/v1/customers?size=2", headers=headers)
        assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "42"
        assert throttled.json()["message"] == "Rate limit is exceeded. Try again in 42 seconds."
        assert client.get("/v1/customers?size=2", headers=headers).status_code == 503
        assert client.get("/v1/customers?size=2", headers=headers).status_code == 200
        assert client.post("/sandbox/faults", json={"status": 404}).status_code == 400


def test_webhook_registration_is_checked(pc: PartnerCenterSandbox) -> None:
    with http(pc) as client:
        headers = bearer(pc, client)
        assert client.get("/webhooks/v1/registration", headers=headers).status_code == 404
        bad = client.post(
            "/webhooks/v1/registration", headers=headers, json={"WebhookUrl": "ftp://x", "WebhookEvents": []}
        )
        assert bad.status_code == 400
        body = {"WebhookUrl": "https://example.com/hook", "WebhookEvents": ["subscription-updated"]}
        made = client.post("/webhooks/v1/registration", headers=headers, json=body).json()
        assert made["SubscriberId"] and made["WebhookUrl"] == body["WebhookUrl"]
        assert client.get("/webhooks/v1/registration", headers=headers).json() == body
