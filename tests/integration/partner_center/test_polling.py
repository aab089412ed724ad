"""Polling the Partner Center sandbox (issue 14, item 2), SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from contractsync.adapters.db.partner_center_tables import partner_center_polls, partner_center_sources
from contractsync.service.actor import ADMIN, Actor
from contractsync.service.errors import ServiceError
from tests.integration.partner_center.live_world import LiveWorld, live

__all__ = ["live"]


def types_since(world: LiveWorld, before: int) -> list[str]:
    """Record types of the operations applied since the log held `before` records (oldest first)."""
    items = world.operations()
    return [op["type"] for op in reversed(items[: world.operation_total() - before])]


@pytest.mark.parametrize("live", ["200x5"], indirect=True)
def test_first_poll_creates_every_customer_and_subscription_and_a_repoll_applies_nothing(
    live: LiveWorld,
) -> None:
    answer = live.poll()
    progress = answer["poll"]["progress"]
    assert answer["poll"]["status"] == "idle" and answer["poll"]["last_error"] is None
    assert (progress["customers_seen"], progress["customers_created"]) == (200, 200)
    assert (progress["subscriptions_seen"], progress["subscriptions_created"]) == (1000, 1000)
    assert answer["poll"]["manual_actions"] == []
    customers = {c["tenant_id"]: c for c in live.service.list_customers(ADMIN)}
    tenant, subscription_id = live.customer_ids(7)
    assert customers[tenant]["name"] == "Customer 00007 Ltd" and customers[tenant]["id"] == f"pc-{tenant}"
    stored = live.service.get_subscription(ADMIN, subscription_id)
    seeded = live.pc.state.subscription(tenant, subscription_id)
    assert (stored["quantity"], stored["offer_id"], stored["status"]) == (
        seeded["quantity"],
        seeded["offerId"],
        "active",
    )
    assert stored["list_price"] == "10.5000"  # from the source's price list, never guessed
    # Two pages of 100 customers, each followed by its continuation token; one request per customer.
    requests = live.pc.state.requests
    assert requests["GET /v1/customers"] == 2 and requests["GET /v1/customers/{id}/subscriptions"] == 200
    before = live.operation_total()
    again = live.poll()["poll"]
    assert again["progress"]["operations_applied"] == 0 and again["progress"]["subscriptions_created"] == 0
    assert live.operation_total() == before
    assert again["last_poll_at"] is not None and again["next_poll_at"] > again["last_poll_at"]


def test_each_change_in_partner_center_becomes_exactly_one_operation(live: LiveWorld) -> None:
    live.poll()
    state = live.pc.state
    (t0, s0), (t1, s1), (t2, s2) = live.customer_ids(0), live.customer_ids(1), live.customer_ids(2)
    live.map(s0, s1, s2)
    before = live.operation_total()
    state.patch_subscription(t0, s0, {"quantity": state.subscription(t0, s0)["quantity"] + 3})
    state.patch_subscription(t1, s1, {"status": "deleted"})
    state.renew(t2, s2)
    answer = live.poll()
    assert answer["poll"]["progress"]["operations_applied"] == 3
    assert Counter(types_since(live, before)) == Counter(
        {
            "UpdateSubscriptionQuantityOnConnection": 1,
            "CancelSubscriptionOnConnection": 1,
            "RenewSubscriptionOnConnection": 1,
        }
    )
    assert live.service.get_subscription(ADMIN, s0)["quantity"] == state.subscription(t0, s0)["quantity"]
    assert live.service.get_subscription(ADMIN, s1)["status"] == "canceled"
    assert (
        live.service.get_subscription(ADMIN, s2)["end_date"]
        == state.subscription(t2, s2)["commitmentEndDate"][:10]
    )
    # Nothing changed since: nothing applies.
    after = live.operation_total()
    assert live.poll()["poll"]["progress"]["operations_applied"] == 0
    assert live.operation_total() == after


def test_an_upgrade_into_a_new_subscription_is_one_upgrade(live: LiveWorld) -> None:
    live.poll()
    tenant, source = live.customer_ids(2)  # 3 seats
    live.map(source)
    seats = live.pc.state.subscription(tenant, source)["quantity"]
    assert seats >= 2
    record = live.pc.state.transition(
        tenant, source, {"toCatalogItemId": "CFQ7TTC0LF8S:0001:CFQ7TTC0K9G9", "quantity": 1}
    )
    before = live.operation_total()
    answer = live.poll()
    assert types_since(live, before) == ["UpgradeSubscriptionOnConnection"]
    target = live.service.get_subscription(ADMIN, record["toSubscriptionId"])
    assert (target["quantity"], target["offer_id"]) == (1, "CFQ7TTC0LF8S:0001:CFQ7TTC0K9G9")
    assert live.service.get_subscription(ADMIN, source)["quantity"] == seats - 1
    assert answer["poll"]["progress"]["operations_applied"] == 1
    # Polled again: the transition is keyed by its operation id, so its seats do not move twice.
    after = live.operation_total()
    assert live.poll()["poll"]["progress"]["operations_applied"] == 0
    assert live.operation_total() == after


def test_throttling_and_server_errors_are_survived(live: LiveWorld) -> None:
    state = live.pc.state
    from contractsync.partner_center_sandbox.state import Fault

    state.faults += [
        Fault(429, 2, retry_after=7, path_contains="/subscriptions"),
        Fault(503, 2, path_contains="/v1/customers"),
    ]
    answer = live.poll()["poll"]
    assert answer["status"] == "idle" and answer["progress"]["subscriptions_created"] == 6
    assert answer["progress"]["throttled"] == 2
    assert live.sleeps.count(7.0) == 2  # Retry-After waited exactly as Partner Center asked


def test_a_poll_that_stops_resumes_where_it_stopped(live: LiveWorld) -> None:
    from contractsync.partner_center_sandbox.state import Fault

    live.center.polling.group_size = 1
    live.center.polling.page_size = 1
    tenants = list(live.pc.state.customers)
    # The second customer's subscriptions fail past every retry: the poll stops after the first.
    live.pc.state.faults.append(Fault(500, 100, path_contains=f"/customers/{tenants[1]}/subscriptions"))
    with pytest.raises(ServiceError, match="resumes where it stopped"):
        live.poll()
    with live.service.context.sessions() as session:
        poll = session.execute(select(partner_center_polls)).one()
    assert poll.status == "failed" and poll.page_token is not None and "HTTP 500" in poll.last_error
    assert poll.progress["customers_seen"] == 2 and poll.progress["subscriptions_created"] == 2
    live.pc.state.faults.clear()
    first_customer_fetches = live.pc.state.requests["GET /v1/customers/{id}/subscriptions"]
    answer = live.poll()["poll"]
    assert answer["status"] == "idle" and answer["progress"]["subscriptions_created"] == 6
    # Resumed at the second page (the second customer): the first was not fetched again.
    assert live.pc.state.requests["GET /v1/customers/{id}/subscriptions"] == first_customer_fetches + 2


def test_a_rotated_refresh_token_is_stored_encrypted(live: LiveWorld) -> None:
    live.poll()
    with live.service.context.sessions() as session:
        row = session.execute(select(partner_center_sources)).one()
    stored = live.service.context.secrets.decrypt(row.refresh_token_encrypted)
    assert stored != live.pc.config.refresh_token and stored in live.pc.state.refresh_tokens
    assert live.pc.config.refresh_token not in row.refresh_token_encrypted
    assert "secret" not in str(live.center.get_source(ADMIN, "pc1")).lower().replace("secret_", "")


def test_a_missing_price_is_a_manual_action_never_a_guess(live: LiveWorld) -> None:
    live.center.update_source(ADMIN, "pc1", {"price_list": {}})
    answer = live.poll()["poll"]
    assert answer["progress"]["subscriptions_created"] == 0 and answer["progress"]["customers_created"] == 3
    kinds = Counter(item["kind"] for item in answer["manual_actions"])
    assert kinds == Counter({"needs_price": 6})
    assert all("no list price is known" in item["reason"] for item in answer["manual_actions"])


def test_the_worker_polls_a_due_source_by_itself(live: LiveWorld) -> None:
    import threading

    from contractsync.bootstrap import partner_center_polls

    tick = partner_center_polls(live.service)
    tick()
    for thread in threading.enumerate():
        if thread.name == "partner-center-poll":
            thread.join(timeout=120)
    answer = live.center.get_source(ADMIN, "pc1")["poll"]
    assert answer["status"] == "idle" and answer["progress"]["subscriptions_created"] == 6
    assert len(live.service.list_customers(ADMIN)) == 3


def test_refused_credentials_stop_the_poll_with_the_reason_and_change_nothing(live: LiveWorld) -> None:
    live.center.update_source(ADMIN, "pc1", {"secret": "not-the-secret"})
    with pytest.raises(ServiceError, match=r"sign-in refused: .*invalid_client"):
        live.poll()
    poll = live.center.get_source(ADMIN, "pc1")["poll"]
    assert poll["status"] == "failed" and "invalid_client" in poll["last_error"]
    assert live.service.list_customers(ADMIN) == []
    live.center.update_source(ADMIN, "pc1", {"secret": live.pc.config.client_secret})
    assert live.poll()["poll"]["progress"]["subscriptions_created"] == 6


def test_a_source_whose_polls_fail_is_an_alert_of_its_reseller_until_a_poll_succeeds(live: LiveWorld) -> None:
    """Seat changes in a tenant contractsync cannot read are not seen: a person must hear of it
    (an expired refresh token after 90 days, a rotated secret)."""
    live.service.create_reseller(ADMIN, {"id": "r2", "name": "Reseller Two"})
    live.center.update_source(ADMIN, "pc1", {"secret": "not-the-secret"})
    with pytest.raises(ServiceError):
        live.poll()

    def poll_alerts(actor: Actor = ADMIN, state: str = "open") -> list[dict[str, Any]]:
        return [
            a for a in live.service.list_alerts(actor, state) if a["kind"] == "partner_center_poll_failed"
        ]

    [alert] = poll_alerts()
    assert alert["message"].startswith("Partner Center source pc1 cannot be polled: ")
    assert "invalid_client" in alert["message"]
    assert alert["message"].endswith("(tried again every minute; last successful poll: none yet)")
    assert (alert["connection_id"], alert["subscription_id"]) == (None, None)
    assert poll_alerts(Actor("r1")) == [alert] and poll_alerts(Actor("r2")) == []
    with pytest.raises(ServiceError):
        live.poll()  # failing again: the same alert
    assert [a["id"] for a in poll_alerts()] == [alert["id"]]

    live.center.update_source(ADMIN, "pc1", {"secret": live.pc.config.client_secret})
    live.poll()
    assert poll_alerts() == []
    [resolved] = poll_alerts(state="resolved")
    assert resolved["id"] == alert["id"] and resolved["resolved_at"] is not None


def test_a_list_price_partner_center_shows_on_the_order_is_used_for_monthly_billing(live: LiveWorld) -> None:
    live.center.update_source(ADMIN, "pc1", {"price_list": {}})
    state = live.pc.state
    state.config.list_prices = {"CFQ7TTC0LH18:0001": "6.00"}  # Business Basic only
    tenant, basic = live.customer_ids(0)
    state.subscription(tenant, basic)  # offer 0 is Business Basic, billed monthly
    annual_tenant, annual = live.customer_ids(1)
    state.subscriptions[annual_tenant][annual]["billingCycle"] = "annual"  # also Business Basic
    answer = live.poll()["poll"]
    assert live.service.get_subscription(ADMIN, basic)["list_price"] == "6.0000"
    # The annual one is not priced from a monthly figure: it waits for a person.
    waiting = {item["subscription_id"] for item in answer["manual_actions"]}
    assert annual in waiting and basic not in waiting
    assert answer["progress"]["subscriptions_created"] == 2
    assert live.pc.state.requests["GET /v1/customers/{id}/orders/{id}"] >= 1


def test_one_poll_at_a_time_per_source_and_a_dead_pollers_lease_runs_out(live: LiveWorld) -> None:
    from contractsync.service.errors import Conflict

    live.center.polling._claim(ADMIN, "pc1")  # another worker is polling (and then dies)
    with pytest.raises(Conflict, match="is running"):
        live.poll()
    live.clock.advance(live.center.polling.lease_seconds + 1)
    answer = live.poll()["poll"]
    assert answer["status"] == "idle" and answer["progress"]["subscriptions_created"] == 6
