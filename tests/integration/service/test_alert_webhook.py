"""The alert webhook: every worker sends each new X5 alert once to the operator's address (a real
HTTP receiver here), with the same alert the API answers, and once more when it is resolved; a
receiver that fails gets it again at the next minute; several workers send it once between them;
an acknowledged alert is not sent, one raised again is. Real database (SQLite and PostgreSQL),
the real service and the worker's scheduled work."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from contractsync.adapters.alert_webhook import AlertWebhook
from contractsync.bootstrap import alert_notifier, alerts_tick, scheduled_work
from contractsync.ports.alert_notifier import NotificationFailed
from contractsync.service import notify_alerts
from contractsync.service.actor import ADMIN
from contractsync.settings import Settings
from tests.alert_receiver import Receiver
from tests.integration.service.sandbox_world import SandboxWorld, sandbox_world


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[SandboxWorld]:
    yield from sandbox_world(database_url, tmp_path)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.stop()


def expiring_token(world: SandboxWorld, name: str = "psa-sync") -> dict[str, Any]:
    """An API token of r1 that expires in three days: a `token_expiring` alert."""
    world.service.create_token("r1", expires_at=world.clock.now() + timedelta(days=3), name=name)
    world.service.refresh_alerts()
    [alert] = [a for a in world.alerts("token_expiring") if name in a["message"]]
    return alert


def test_a_new_alert_is_posted_once_as_the_api_answers_it_and_once_more_when_resolved(
    world: SandboxWorld, receiver: Receiver
) -> None:
    alert = expiring_token(world)
    tick = alerts_tick(world.service, world.clock, AlertWebhook(receiver.url))
    tick()
    [post] = receiver.posts
    assert post["path"] == "/hooks/T0/B0/secret-part" and post["event"] == "raised"
    assert post["text"] == f"contractsync alert (token_expiring): {alert['message']}"
    sent = post["alert"]
    assert {k: sent[k] for k in ("id", "kind", "message", "reseller_id", "raised_at")} == {
        k: alert[k] for k in ("id", "kind", "message", "reseller_id", "raised_at")
    }
    assert sent["notified_at"] is None  # as the API answered it while it was being sent
    # The API tells that it was sent, once the receiver accepted it.
    [listed] = world.alerts("token_expiring")
    assert listed["notified_at"] is not None
    world.clock.advance(61)
    tick()
    assert len(receiver.posts) == 1  # not again while it stays open
    # Resolved (the token revoked): that is news too, once.
    [token] = [t for t in world.service.list_tokens(ADMIN) if t["name"] == "psa-sync"]
    world.service.revoke_token(ADMIN, token["id"])
    world.clock.advance(61)
    tick()
    world.clock.advance(61)
    tick()
    assert [p["event"] for p in receiver.posts] == ["raised", "resolved"]
    resolved = receiver.posts[1]
    assert resolved["text"] == f"contractsync alert resolved (token_expiring): {alert['message']}"
    assert resolved["alert"]["id"] == alert["id"] and resolved["alert"]["resolved_at"] is not None
    [listed] = world.alerts("token_expiring", state="resolved")
    assert listed["resolution_notified_at"] is not None


def test_a_receiver_that_fails_gets_the_alert_at_the_next_minute(
    world: SandboxWorld, receiver: Receiver
) -> None:
    expiring_token(world, "first")
    expiring_token(world, "second")
    receiver.status = 503
    tick = alerts_tick(world.service, world.clock, AlertWebhook(receiver.url))
    tick()
    assert receiver.posts == [] and all(a["notified_at"] is None for a in world.alerts("token_expiring"))
    receiver.status = 204
    world.clock.advance(61)
    tick()
    assert [p["alert"]["message"].split()[2] for p in receiver.posts] == ["first", "second"]  # oldest first


def test_of_several_workers_one_sends_each_alert(world: SandboxWorld, receiver: Receiver) -> None:
    for n in range(6):
        expiring_token(world, f"token-{n}")
    notifier = AlertWebhook(receiver.url)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            world.service.notify_alerts(notifier)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(p["alert"]["id"] for p in receiver.posts) == sorted(
        a["id"] for a in world.alerts("token_expiring")
    )


def test_an_acknowledged_or_resolved_alert_is_not_sent(world: SandboxWorld, receiver: Receiver) -> None:
    alert = expiring_token(world)
    world.service.acknowledge_alert(ADMIN, alert["id"])
    notifier = AlertWebhook(receiver.url)
    assert world.service.notify_alerts(notifier) == 0 and receiver.posts == []
    # nor a resolved one (the token revoked)
    second = expiring_token(world, "second")
    [token] = [t for t in world.service.list_tokens(ADMIN) if t["name"] == "second"]
    world.service.revoke_token(ADMIN, token["id"])
    world.service.refresh_alerts()
    assert world.service.notify_alerts(notifier) == 0 and receiver.posts == []
    assert [a["id"] for a in world.alerts("token_expiring", state="resolved")] == [second["id"]]


def test_the_worker_sends_the_alerts_its_scheduled_work_raises(
    world: SandboxWorld, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.new_subscription(5)
    sweep = world.service.sweep

    def failing(*_: Any) -> Any:
        raise RuntimeError("the database went away")

    notifier = AlertWebhook(receiver.url)
    monkeypatch.setattr(world.service, "sweep", failing)
    scheduled_work(world.service, world.clock, notifier=notifier)()
    assert sweep_failures(receiver) == [("2024-05-20", 1)]
    monkeypatch.setattr(world.service, "sweep", sweep)
    world.service.sweep(ADMIN, {"date": "2024-05-20"})  # resolves it
    assert world.alerts("sweep_failed") == []
    monkeypatch.setattr(world.service, "sweep", failing)
    world.clock.advance(24 * 3600)  # the next day's sweep fails too: a new date, a new alert
    scheduled_work(world.service, world.clock, notifier=notifier)()
    assert sweep_failures(receiver) == [("2024-05-20", 1), ("2024-05-21", 1)]
    assert sweep_failures(receiver, "resolved") == [("2024-05-20", 1)]  # the first, swept by hand


def sweep_failures(receiver: Receiver, event: str = "raised") -> list[tuple[str, int]]:
    """(date, times sent) of each `sweep_failed` alert posted as `event`."""
    dates = [
        p["alert"]["message"].split(" for ")[1][:10]
        for p in receiver.posts
        if p["alert"]["kind"] == "sweep_failed" and p["event"] == event
    ]
    return sorted((d, dates.count(d)) for d in set(dates))


def test_an_unreachable_receiver_is_a_failure_that_does_not_name_its_address() -> None:
    notifier = AlertWebhook("http://127.0.0.1:9/hooks/secret-part", timeout=2)
    with pytest.raises(NotificationFailed) as failure:
        notifier.notify({"kind": "token_expiring", "message": "m"}, "raised")
    assert "secret-part" not in str(failure.value) and "could not be reached" in str(failure.value)


def test_the_webhook_comes_from_the_settings_and_a_bad_address_is_refused(tmp_path: Path) -> None:
    assert alert_notifier(Settings(data_dir=tmp_path)) is None
    assert isinstance(
        alert_notifier(Settings(data_dir=tmp_path, alert_webhook_url="https://hooks.example.com/x")),
        AlertWebhook,
    )
    with pytest.raises(ValueError, match="must be an http:// or https:// address") as refused:
        Settings(data_dir=tmp_path, alert_webhook_url="ftp://secret-part.example.com")
    assert "secret-part" not in str(refused.value)


def test_an_alert_acknowledged_between_listing_and_claim_is_given_back(
    world: SandboxWorld, receiver: Receiver
) -> None:
    """The race a worker can meet: listed as news, then acknowledged before its claim. It is not
    sent, and the claim is given back, so that its resolution is not sent either."""
    alert = expiring_token(world)
    world.service.acknowledge_alert(ADMIN, alert["id"])
    assert notify_alerts._claimed(world.service.context, alert["id"]) is None
    [listed] = world.alerts("token_expiring")
    assert listed["notified_at"] is None
    [token] = [t for t in world.service.list_tokens(ADMIN) if t["name"] == "psa-sync"]
    world.service.revoke_token(ADMIN, token["id"])
    world.service.refresh_alerts()
    assert world.service.notify_alerts(AlertWebhook(receiver.url)) == 0 and receiver.posts == []


def test_an_alert_is_shown_sent_only_once_the_receiver_accepted_it(world: SandboxWorld) -> None:
    """While the post is under way, and when it fails, the API does not say "sent"."""
    alert = expiring_token(world)
    seen: list[object] = []

    class Watching:
        def __init__(self, fails: bool) -> None:
            self.fails = fails

        def notify(self, alert: dict[str, object], event: str) -> None:
            seen.append(world.alerts("token_expiring")[0]["notified_at"])
            if self.fails:
                raise NotificationFailed("the receiver answered 503")

    assert world.service.notify_alerts(Watching(fails=True)) == 0
    assert world.alerts("token_expiring")[0]["notified_at"] is None
    assert world.service.notify_alerts(Watching(fails=False)) == 1
    assert seen == [None, None]  # during each post
    [listed] = world.alerts("token_expiring")
    assert listed["id"] == alert["id"] and listed["notified_at"] is not None


def test_an_alert_taken_by_a_worker_that_died_is_sent_by_another_a_minute_later(
    world: SandboxWorld, receiver: Receiver
) -> None:
    """A worker killed between its claim and its post: its claim holds for `CLAIM_SECONDS` (the
    post might still be under way), then the alert is sent all the same — not lost, nor shown
    as sent meanwhile."""
    alert = expiring_token(world)
    assert notify_alerts._claimed(world.service.context, alert["id"]) is not None  # and then died
    notifier = AlertWebhook(receiver.url)
    assert world.service.notify_alerts(notifier) == 0 and receiver.posts == []
    assert world.alerts("token_expiring")[0]["notified_at"] is None
    world.clock.advance(notify_alerts.CLAIM_SECONDS + 1)
    assert world.service.notify_alerts(notifier) == 1
    assert [p["alert"]["id"] for p in receiver.posts] == [alert["id"]]
    assert world.alerts("token_expiring")[0]["notified_at"] is not None
    assert world.service.notify_alerts(notifier) == 0
