"""Alerts and console sessions on the in-memory unit of work."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from contractsync.ports.console_sessions import ConsoleSession
from contractsync.ports.directory import ConnectionPause, SubscriptionMapping
from contractsync.ports.partner_center import PartnerCenterSource, PollState
from contractsync.ports.service_creations import NewServiceCreation
from contractsync.service.actor import ADMIN
from contractsync.service.console_session_policy import session_key
from contractsync.service.errors import NotFound
from tests.unit.service.conftest import NOW, R1, R2, Service
from tests.unit.service.test_audit import _adjustment, _record


def test_failed_deliveries_raise_an_alert_that_resolves_when_the_failure_ends(directory: Service) -> None:
    directory.data.records = {2: _record(2, "failed")}
    directory.data.adjustments = {11: _adjustment(11, 2, "failed")}
    [alert] = directory.facade.list_alerts(ADMIN)
    assert alert["kind"] == "out_of_sync" and alert["operation_id"] == 2
    assert alert["retry"] == "/v1/operations/2/retry" and "Autotask said no" in alert["message"]
    assert directory.facade.list_alerts(R1) == [alert] and directory.facade.list_alerts(R2) == []

    directory.data.adjustments = {11: _adjustment(11, 2, "sent")}
    directory.clock.advance(60)
    assert directory.facade.list_alerts(ADMIN) == []
    [resolved] = directory.facade.list_alerts(ADMIN, "resolved")
    assert resolved["resolved_at"] == "2026-11-25T14:01:00Z"


def test_an_unmapped_subscription_of_a_mapped_customer_is_an_alert_until_it_is_mapped(
    directory: Service,
) -> None:
    from contractsync.ports.directory import CustomerMapping

    directory.data.customer_mappings["c1", "k1"] = CustomerMapping("c1", "k1", 42)
    [alert] = directory.facade.list_alerts(ADMIN)
    assert (
        alert["message"]
        == "subscription s1 of mapped customer c1 (Contoso, Autotask company #42) is not mapped"
    )
    with directory.units() as uow:  # once its name is stored (mapping, reconciliation, a page)
        uow.autotask_names.store("k1", "company", {42: "Contoso Ltd"}, NOW)
    [alert] = directory.facade.list_alerts(ADMIN)
    assert alert["message"] == (
        "subscription s1 of mapped customer c1 (Contoso, Autotask company Contoso Ltd #42) is not mapped"
    )
    with directory.units() as uow:  # mapped, waiting for Autotask to create its contract service
        new = NewServiceCreation(3, "k1", "s1", 100, 7, Decimal("12"), Decimal("10"))
        creation = uow.service_creations.add(new, NOW, claimed_until=NOW + timedelta(seconds=30))
        uow.service_creations.record_retry(creation, "HTTP 500 (outcome unknown)", "server_error", NOW)
    [alert] = directory.facade.list_alerts(ADMIN)
    assert alert["message"] == (
        "subscription s1 of mapped customer c1 (Contoso, Autotask company Contoso Ltd #42) is being mapped: "
        "Autotask has not created its contract service yet (1 attempt; last answer: HTTP 500 (outcome "
        "unknown)); it is tried again"
    )
    directory.data.subscription_mappings["s1"] = SubscriptionMapping("s1", "k1", 100, 7, None, NOW.date())
    assert directory.facade.list_alerts(ADMIN) == []


def test_an_acknowledged_alert_stays_open_and_names_who_saw_it(directory: Service) -> None:
    directory.data.records = {2: _record(2, "failed")}
    directory.data.adjustments = {11: _adjustment(11, 2, "failed")}
    [alert] = directory.facade.list_alerts(ADMIN)
    with pytest.raises(NotFound):
        directory.facade.acknowledge_alert(R2, alert["id"])
    seen = directory.facade.acknowledge_alert(R1, alert["id"])
    assert (seen["acknowledged_by"], seen["acknowledged_at"]) == ("reseller:r1", "2026-11-25T14:00:00Z")
    assert directory.facade.list_alerts(ADMIN, "acknowledged") == [seen]
    assert directory.facade.list_alerts(ADMIN) == [seen]


def _session(service: Service, secret: str, idle_seconds: int = 1800) -> None:
    key = session_key(secret)
    expires = NOW + timedelta(hours=12)
    service.data.console_sessions[key] = ConsoleSession(key, 1, "r1", NOW, NOW, expires, idle_seconds)


def test_a_console_session_signs_in_its_reseller_until_it_idles_out(service: Service) -> None:
    _session(service, "secret-1", idle_seconds=600)
    assert service.facade.console_actor("secret-1") == R1
    assert service.facade.console_actor("another") is None
    service.clock.advance(300)
    assert service.facade.console_actor("secret-1") == R1  # seen again: the idle time starts anew
    service.clock.advance(599)
    assert service.facade.console_actor("secret-1") == R1
    service.clock.advance(601)
    assert service.facade.console_actor("secret-1") is None
    assert service.data.console_sessions == {}


def test_signing_out_ends_the_session(service: Service) -> None:
    _session(service, "secret-2")
    service.facade.end_console_session("secret-2")
    assert service.facade.console_actor("secret-2") is None


def test_a_partner_center_source_whose_poll_failed_is_an_alert_of_its_reseller(directory: Service) -> None:
    source = PartnerCenterSource("pc1", "r1", "t1", "app", "s", "r", "https://login", "https://api", 15, NOW)
    directory.data.sources["pc1"] = source
    directory.data.polls["pc1"] = PollState("pc1", "failed", NOW, last_error="sign-in refused: invalid_grant")
    [alert] = directory.facade.list_alerts(ADMIN)
    assert alert["kind"] == "partner_center_poll_failed"
    assert alert["message"] == (
        "Partner Center source pc1 cannot be polled: sign-in refused: invalid_grant; its seat changes are "
        "not seen until a poll succeeds (tried again every minute; last successful poll: none yet)"
    )
    assert directory.facade.list_alerts(R1) == [alert] and directory.facade.list_alerts(R2) == []
    directory.data.polls["pc1"] = PollState("pc1", "idle", NOW, finished_at=NOW)
    assert directory.facade.list_alerts(ADMIN) == []
    # One failure just after a good poll is not news (tried again a minute later); two polls'
    # worth of time (15 minutes each) without a good one is.
    directory.data.polls["pc1"] = PollState("pc1", "failed", NOW, finished_at=NOW, last_error="HTTP 503")
    directory.clock.advance(29 * 60)
    assert directory.facade.list_alerts(ADMIN) == []
    directory.clock.advance(60)
    [again] = directory.facade.list_alerts(ADMIN)
    assert again["id"] == alert["id"] and again["message"].endswith(
        "(tried again every minute; last successful poll: 2026-11-25T14:00:00Z)"
    )


def test_adjustments_waiting_long_past_due_are_an_alert_unless_their_connection_is_paused(
    directory: Service,
) -> None:
    directory.data.records = {2: _record(2, "pending")}
    directory.data.adjustments = {11: _adjustment(11, 2, "pending")}  # due at NOW
    directory.clock.advance(10 * 60)
    assert directory.facade.list_alerts(ADMIN) == []
    directory.clock.advance(1)
    [alert] = directory.facade.list_alerts(ADMIN)
    assert (alert["kind"], alert["connection_id"]) == ("deliveries_stalled", "k1")
    assert alert["message"].startswith(
        "connection k1: 1 adjustment has waited more than 10 minutes for delivery (the oldest due since "
        "2026-11-25T14:00:00Z)"
    )
    assert directory.facade.list_alerts(R1) == [alert] and directory.facade.list_alerts(R2) == []
    directory.data.pauses["k1"] = ConnectionPause("k1", "credentials refused", NOW, NOW)  # its own alert
    assert directory.facade.list_alerts(ADMIN) == []


def test_a_token_near_its_expiry_is_an_alert_of_its_reseller_until_it_is_revoked(directory: Service) -> None:
    directory.facade.create_token("r1", expires_at=NOW + timedelta(days=8), name="billing-sync")
    directory.facade.create_token("r1", name="forever")  # no expiry: never an alert
    assert directory.facade.list_alerts(ADMIN) == []
    directory.clock.advance(24 * 3600)  # 7 days left
    [alert] = directory.facade.list_alerts(ADMIN)
    assert (alert["kind"], alert["connection_id"], alert["subscription_id"]) == ("token_expiring", None, None)
    assert alert["message"].startswith(
        "API token billing-sync expires at 2026-12-03T14:00:00Z (never used): whoever uses it is refused "
        "from then on."
    )
    assert directory.facade.list_alerts(R1) == [alert] and directory.facade.list_alerts(R2) == []
    directory.clock.advance(8 * 24 * 3600)
    [expired] = directory.facade.list_alerts(ADMIN)
    assert expired["id"] == alert["id"] and expired["message"].startswith(
        "API token billing-sync expired at 2026-12-03T14:00:00Z (never used): whoever used it is refused."
    )
    [token] = [t for t in directory.facade.list_tokens(ADMIN) if t["name"] == "billing-sync"]
    directory.facade.revoke_token(ADMIN, token["id"])
    assert directory.facade.list_alerts(ADMIN) == []
