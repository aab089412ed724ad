"""Partner Center webhooks (issue 14, item 3): signature checked as documented; an event only makes
contractsync fetch the subscription it names. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi.testclient import TestClient

from contractsync.adapters.partner_center.client import (
    PartnerCenterClient,
    PartnerCenterCredentials,
    PartnerCenterEndpoints,
)
from contractsync.adapters.partner_center.webhook_signature import WebhookVerifier
from contractsync.api.app import create_api
from contractsync.partner_center_sandbox.keys import make_sandbox_authority
from contractsync.service.actor import ADMIN
from contractsync.service.partner_center import PartnerCenter
from tests.integration.api.api_server import ApiServer
from tests.integration.partner_center.live_world import LiveWorld, live

__all__ = ["live"]
EVENTS = "/v1/partner-center/events?source_id=pc1"


def event(live: LiveWorld, tenant: str, subscription_id: str) -> bytes:
    uri = f"https://api.partnercenter.microsoft.com/v1/customers/{tenant}/subscriptions/{subscription_id}"
    return json.dumps(
        {
            "EventName": "subscription-updated",
            "ResourceUri": uri,
            "ResourceName": "subscription",
            "AuditUri": None,
            "ResourceChangeUtcDate": "2024-06-03T08:59:00+00:00",
        }
    ).encode()


def api(live: LiveWorld) -> TestClient:
    app = create_api(live.service)
    app.state.partner_center = live.center
    return TestClient(app)


def test_a_signed_event_fetches_the_subscription_it_names(live: LiveWorld) -> None:
    live.poll()
    tenant, subscription_id = live.customer_ids(1)
    live.pc.state.patch_subscription(tenant, subscription_id, {"quantity": 17})
    fetches = live.pc.state.requests["GET /v1/customers/{id}/subscriptions/{id}"]
    body = event(live, tenant, subscription_id)
    answer = api(live).post(EVENTS, content=body, headers=live.pc.webhooks.signed(body))
    assert answer.status_code == 200, answer.text
    assert live.pc.state.requests["GET /v1/customers/{id}/subscriptions/{id}"] == fetches + 1
    assert live.service.get_subscription(ADMIN, subscription_id)["quantity"] == 17
    # The same event again (Partner Center retries deliveries): fetched, nothing left to apply.
    again = api(live).post(EVENTS, content=body, headers=live.pc.webhooks.signed(body)).json()
    assert again["fetched"]["records"] == []  # it agrees with the stored state: nothing to import


def test_a_bad_signature_is_refused_and_fetches_nothing(live: LiveWorld) -> None:
    live.poll()
    tenant, subscription_id = live.customer_ids(1)
    live.pc.state.patch_subscription(tenant, subscription_id, {"quantity": 17})
    fetches = live.pc.state.requests["GET /v1/customers/{id}/subscriptions/{id}"]
    body = event(live, tenant, subscription_id)
    headers = live.pc.webhooks.signed(body)
    client = api(live)
    tampered = body.replace(b"subscription-updated", b"subscription-updatex")
    cases = {
        "the signature does not match the body": (tampered, headers),
        "are required": (body, {k: v for k, v in headers.items() if k != "Authorization"}),
        "not one contractsync trusts": (
            body,
            {**headers, "X-MS-Certificate-Url": "https://attacker.example/cert.cer"},
        ),
        "host '3psostorageacct.blob.core.windows.net.attacker.example' is not one": (
            body,
            {
                **headers,
                "X-MS-Certificate-Url": "https://3psostorageacct.blob.core.windows.net.attacker.example/cert/pc.cer",
            },
        ),
        "is not supported": (body, {**headers, "X-MS-Signature-Algorithm": "hmac-sha256"}),
        "not base64": (body, {**headers, "Authorization": "Signature ***"}),
    }
    for reason, (content, sent) in cases.items():
        answer = client.post(EVENTS, content=content, headers=sent)
        assert answer.status_code == 401, answer.text
        assert reason in answer.json()["error"]["message"]
    assert live.pc.state.requests["GET /v1/customers/{id}/subscriptions/{id}"] == fetches
    assert live.service.get_subscription(ADMIN, subscription_id)["quantity"] != 17


def refused_with(live: LiveWorld, center: PartnerCenter | None = None) -> str:
    """Post a signed event for a changed subscription; assert it was refused (401) and nothing
    changed — no fetch, no import, no operation; the refusal's message."""
    tenant, subscription_id = live.customer_ids(1)
    live.pc.state.patch_subscription(tenant, subscription_id, {"quantity": 17})
    fetches = live.pc.state.requests["GET /v1/customers/{id}/subscriptions/{id}"]
    operations = live.operation_total()
    body = event(live, tenant, subscription_id)
    app = create_api(live.service)
    app.state.partner_center = center or live.center
    answer = TestClient(app).post(EVENTS, content=body, headers=live.pc.webhooks.signed(body))
    assert answer.status_code == 401, answer.text
    assert live.pc.state.requests["GET /v1/customers/{id}/subscriptions/{id}"] == fetches
    assert live.service.get_subscription(ADMIN, subscription_id)["quantity"] != 17
    assert live.operation_total() == operations
    return str(answer.json()["error"]["message"])


def test_a_signing_certificate_that_does_not_chain_to_a_trusted_root_is_refused(live: LiveWorld) -> None:
    live.poll()
    # A forger's CA with the same names as the sandbox's: its certificate even points at the
    # sandbox's genuine intermediate, whose key did not sign it.
    forged = make_sandbox_authority().issue(live.pc.intermediate_url)
    assert forged.certificate.issuer == live.pc.webhooks.signer.certificate.issuer
    live.pc.webhooks.signer = forged
    assert "does not chain to a trusted root" in refused_with(live)


def test_the_sandbox_test_ca_is_trusted_only_by_configuration(live: LiveWorld) -> None:
    """With the default trust store (certifi's roots), the sandbox's genuine chain is refused."""
    live.poll()
    outbound = live.service.context.outbound
    default_roots = WebhookVerifier.configured(
        outbound.webhook_certificate_urls, organization=live.pc.webhook_organization,
        ca_file=outbound.partner_center_ca_file,
    )  # fmt: skip
    center = PartnerCenter(live.service, live.center.polling.client_for, default_roots)
    assert "does not chain to a trusted root" in refused_with(live, center)


def test_an_expired_signing_certificate_is_refused(live: LiveWorld) -> None:
    live.poll()
    now = live.clock.now()
    live.pc.webhooks.signer = live.pc.signing_authority.issue(
        live.pc.intermediate_url, not_before=now - timedelta(days=400), not_after=now - timedelta(days=1)
    )
    assert "the signing certificate expired on 2024-06-02" in refused_with(live)


def test_a_signing_certificate_of_another_organisation_is_refused(live: LiveWorld) -> None:
    live.poll()
    live.pc.webhooks.signer = live.pc.signing_authority.issue(
        live.pc.intermediate_url, organization="Contoso"
    )
    assert "organisation is Contoso, not Partner Center Sandbox" in refused_with(live)


def test_the_sandbox_delivers_to_the_url_registered_through_the_api(live: LiveWorld) -> None:
    live.poll()
    tenant, subscription_id = live.customer_ids(2)
    app = create_api(live.service)
    app.state.partner_center = live.center
    with ApiServer(app) as server:
        registered = live.center.register_webhook(ADMIN, "pc1", f"{server.url}{EVENTS}")
        assert registered["WebhookEvents"] == ["subscription-updated"]
        # A change made through Partner Center's own API (PATCH quantity) by another client.
        config = live.pc.config
        other = PartnerCenterClient(
            PartnerCenterCredentials(
                config.partner_tenant, config.client_id, config.client_secret, config.refresh_token
            ),
            PartnerCenterEndpoints(live.pc.base_url, live.pc.api_root),
            outbound=live.service.context.outbound,
        )
        other.request(
            "PATCH", f"/v1/customers/{tenant}/subscriptions/{subscription_id}", body={"quantity": 23}
        )
        other.close()
        live.pc.webhooks.wait()
    (delivery,) = live.pc.state.deliveries
    assert delivery["status"] == 200 and delivery["attempts"] == 1
    assert live.service.get_subscription(ADMIN, subscription_id)["quantity"] == 23


def test_poll_progress_and_times_are_in_the_api_and_the_metrics(live: LiveWorld) -> None:
    from contractsync.bootstrap import build_web_app

    live.poll()
    app = build_web_app(live.service)
    app.state.partner_center = live.center
    client = TestClient(app)
    token = live.service.create_token(None)
    answer = client.get("/v1/partner-center/sources/pc1", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    poll = answer.json()["poll"]
    assert poll["progress"]["customers_seen"] == 3 and poll["last_poll_at"] == "2024-06-03T09:00:00Z"
    assert poll["next_poll_at"] == "2024-06-03T09:15:00Z"  # every 15 minutes by default
    assert "secret" not in answer.text and live.pc.config.refresh_token not in answer.text
    metrics = client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).text
    assert (
        'contractsync_partner_center_poll_progress{counter="subscriptions_created",source="pc1"} 6.0'
        in metrics
    )
    assert 'contractsync_partner_center_poll_running{source="pc1"} 0.0' in metrics
    assert "contractsync_partner_center_next_poll_timestamp_seconds" in metrics
