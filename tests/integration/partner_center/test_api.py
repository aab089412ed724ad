"""The Partner Center API routes refuse bad input with a reason and change nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from contractsync.api.app import create_api
from contractsync.service.actor import ADMIN
from tests.integration.partner_center.live_world import LiveWorld, live

__all__ = ["live"]


def client(live: LiveWorld) -> tuple[TestClient, dict[str, str]]:
    app = create_api(live.service)
    app.state.partner_center = live.center
    return TestClient(app), {"Authorization": f"Bearer {live.service.create_token(None)}"}


def test_bad_sources_are_refused_with_the_reason(live: LiveWorld) -> None:
    api, admin = client(live)
    body = {
        "id": "pc2", "reseller_id": "r1", "tenant_id": "t", "application_id": "a",
        "secret": "s", "refresh_token": "r",
    }  # fmt: skip
    cases = [
        (
            {**body, "authority_host": "https://login.evil.example"},
            "not a Microsoft Partner Center or sign-in host",
        ),
        ({**body, "api_root": "http://api.partnercenter.microsoft.com"}, "https only"),
        ({**body, "poll_minutes": 0}, "poll_minutes"),
        ({**body, "price_list": {"CFQ7TTC0LH18:0001": "-1"}}, "price_list"),
        ({**body, "colour": "red"}, "colour"),
        ({**body, "reseller_id": "nobody"}, "reseller nobody not found"),
        ({**body, "id": "pc1"}, "exists already"),
    ]
    for sent, reason in cases:
        answer = api.post("/v1/partner-center/sources", json=sent, headers=admin)
        assert 400 <= answer.status_code < 500, (sent, answer.text)
        assert reason in answer.text, (reason, answer.text)
    assert [s["id"] for s in live.center.list_sources(ADMIN)] == ["pc1"]
    created = api.post("/v1/partner-center/sources", json=body, headers=admin)
    assert (
        created.status_code == 201
        and "secret" not in created.json()
        and "refresh_token" not in created.json()
    )


def test_another_resellers_token_sees_no_source(live: LiveWorld) -> None:
    api, admin = client(live)
    live.service.create_reseller(ADMIN, {"id": "r2", "name": "Reseller Two"})
    other = {"Authorization": f"Bearer {live.service.create_token('r2')}"}
    assert api.get("/v1/partner-center/sources", headers=other).json() == []
    assert api.get("/v1/partner-center/sources/pc1", headers=other).status_code == 404
    assert api.post("/v1/partner-center/sources/pc1/poll", headers=other).status_code == 404
    assert api.get("/v1/partner-center/sources?colour=red", headers=admin).status_code == 422


def test_an_event_needs_its_source_and_a_signature(live: LiveWorld) -> None:
    api, _ = client(live)
    assert api.post("/v1/partner-center/events", content=b"{}").status_code == 422  # no source_id
    unsigned = api.post("/v1/partner-center/events?source_id=pc1", content=b"{}")
    assert unsigned.status_code == 401
    body = b'{"EventName": "subscription-updated", "ResourceUri": "https://x/v1/customers/a/subscriptions/b"}'
    signed = live.pc.webhooks.signed(body)
    assert (
        api.post("/v1/partner-center/events?source_id=nope", content=body, headers=signed).status_code == 404
    )
    odd = b'{"EventName": "subscription-updated", "ResourceUri": "https://x/v1/invoices/1"}'
    answer = api.post(
        "/v1/partner-center/events?source_id=pc1", content=odd, headers=live.pc.webhooks.signed(odd)
    )
    assert answer.status_code == 422 and "ResourceUri" in answer.text


def test_missing_prices_are_listed_with_the_manual_actions_of_the_sources_reseller(live: LiveWorld) -> None:
    api, admin = client(live)
    live.center.update_source(ADMIN, "pc1", {"price_list": {}})
    live.poll()
    live.service.create_reseller(ADMIN, {"id": "r2", "name": "Reseller Two"})
    own = {"Authorization": f"Bearer {live.service.create_token('r1')}"}
    other = {"Authorization": f"Bearer {live.service.create_token('r2')}"}
    for headers in (admin, own):
        answer = api.get("/v1/manual-actions", headers=headers)
        assert answer.status_code == 200, answer.text
        items = [item for item in answer.json() if "kind" in item]
        assert len(items) == 6 and {item["kind"] for item in items} == {"needs_price"}
        assert all(
            item["source_id"] == "pc1" and item["status"] == "open" and item["subscription_id"]
            and "no list price is known" in item["reason"] and "price_list" in item["instruction"]
            for item in items
        )  # fmt: skip
    assert [item for item in api.get("/v1/manual-actions", headers=other).json() if "kind" in item] == []
