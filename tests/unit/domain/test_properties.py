"""Property tests: random operation sequences through the real rules, engine and assumed delivery."""

from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from contractsync.domain.periods import period_containing
from contractsync.domain.schedule import Timeline
from contractsync.scenario.loader import parse_scenario
from contractsync.scenario.report import as_json
from contractsync.scenario.runner import run_scenario

CONTRACT_START, CONTRACT_END = date(2024, 1, 1), date(2025, 12, 31)
SUB_START = date(2024, 1, 15)
MONEY = re.compile(r"^-?\d+\.\d{4}$")

operation = st.one_of(
    st.tuples(st.just("update_quantity"), st.integers(0, 60)),
    st.tuples(st.just("update_price_margin"), st.decimals("0", "80", places=3).map(str)),
    st.tuples(st.just("provider_margin"), st.decimals("0", "80", places=2).map(str)),
    st.tuples(st.just("approve"), st.integers(0, 200)),
    st.tuples(st.just("post"), st.integers(0, 200)),
    st.tuples(st.just("cancel"), st.just(0)),
)
step = st.tuples(
    st.integers(0, 3), st.integers(-20, 0), operation
)  # days after previous event, back-dating, op


def build(
    steps: list[tuple[int, int, tuple[str, object]]], list_price: str
) -> tuple[dict[str, object], list[tuple[date, str, date | None]]]:
    events: list[dict[str, object]] = []
    margin_checks: list[tuple[date, str, date | None]] = []
    instant = datetime(2024, 3, 1, 9)
    approved: date | None = None
    posted: date | None = None
    for gap, back, (kind, value) in steps:
        instant += timedelta(days=gap, minutes=7)
        today = instant.date()
        at = instant.strftime("%Y-%m-%dT%H:%M:%SZ")
        effective = (today + timedelta(days=back)).isoformat()
        if kind == "update_quantity":
            events.append(
                {
                    "at": at,
                    "subscription_id": "s1",
                    "type": kind,
                    "quantity": value,
                    "effective_date": effective,
                }
            )
        elif kind == "update_price_margin":
            events.append(
                {
                    "at": at,
                    "subscription_id": "s1",
                    "type": kind,
                    "margin_percent": value,
                    "effective_date": effective,
                }
            )
            margin_checks.append((today + timedelta(days=back), at, approved))
        elif kind == "provider_margin":
            events.append(
                {
                    "at": at,
                    "customer_id": "c1",
                    "type": "update_provider_margin",
                    "provider": "microsoft",
                    "margin_percent": value,
                }
            )
        elif kind == "cancel":
            events.append({"at": at, "subscription_id": "s1", "type": "cancel"})
        elif kind == "approve":
            approved = max(approved or date.min, SUB_START + timedelta(days=int(str(value))))
            events.append(
                {
                    "at": at,
                    "reseller_id": "r1",
                    "type": "approve_billing",
                    "approved_through": approved.isoformat(),
                }
            )
        elif kind == "post":
            through = CONTRACT_START + timedelta(days=int(str(value)))
            posted = max(posted or date.min, through)
            events.append(
                {"at": at, "contract_id": 100, "type": "post_periods", "through": posted.isoformat()}
            )
    scenario = {
        "connection": {"id": "at1", "timezone": "UTC", "settle_seconds": 0},
        "resellers": [{"id": "r1", "promotion_setting": "pass_through"}],
        "customers": [{"id": "c1", "reseller_id": "r1", "name": "C", "provider_margins": {"microsoft": "20"}}],
        "subscriptions": [{"id": "s1", "customer_id": "c1", "offer_id": "P:S", "offer_name": "E5", "kind": "nce",
                           "quantity": 10, "term": "P1Y", "billing_cycle": "monthly", "start_date": SUB_START.isoformat(),
                           "end_date": "2025-01-14", "auto_renew": True, "list_price": list_price}],
        "contracts": [{"id": 100, "start_date": CONTRACT_START.isoformat(), "end_date": CONTRACT_END.isoformat()}],
        "mappings": [{"subscription_id": "s1", "contract_id": 100, "contract_service_id": 1000, "at": "2024-02-01T08:00:00Z"}],
        "events": events,
    }  # fmt: skip
    return scenario, margin_checks


# CONTRACTSYNC_PROPERTY_EXAMPLES=5000 for a longer soak than CI's default.
@settings(max_examples=int(os.environ.get("CONTRACTSYNC_PROPERTY_EXAMPLES", "150")), deadline=None)
@given(st.lists(step, min_size=1, max_size=25), st.decimals("0.01", "999.99", places=4).map(str))
def test_random_operation_sequences_keep_autotask_exact(
    steps: list[tuple[int, int, tuple[str, object]]], list_price: str
) -> None:
    scenario, margin_checks = build(steps, list_price)
    outcome = run_scenario(parse_scenario(scenario))
    answer = as_json(outcome)
    sent = [(op, a) for op in answer["operations"] for a in op["adjustments"]]

    # At most one adjustment per contract service and date.
    keys = [(a["contract_service_id"], a["effective_date"]) for _, a in sent]
    assert len(keys) == len(set(keys))

    # Never outside the contract; never inside a period that was posted when it was sent.
    posts = [
        (e["at"], date.fromisoformat(e["through"])) for e in scenario["events"] if e["type"] == "post_periods"
    ]  # type: ignore[index,union-attr]
    for _, adjustment in sent:
        day = date.fromisoformat(adjustment["effective_date"])
        assert CONTRACT_START <= day <= CONTRACT_END
        posted = [through for at, through in posts if at <= adjustment["sent_at"]]
        if posted:
            period = period_containing(CONTRACT_START, 1, max(posted))
            first_open = period.end + timedelta(days=1) if period.end == max(posted) else period.start
            assert day >= first_open

    # A margin change never lands in a billing period that was approved when it was made.
    margin_ops = [
        op for op in answer["operations"] if op["type"] == "UpdateSubscriptionPriceMarginOnConnection"
    ]
    for op, (_, _, approved) in zip(margin_ops, margin_checks, strict=False):
        for adjustment in op["adjustments"]:
            day = date.fromisoformat(adjustment["effective_date"])
            if approved is not None:
                assert period_containing(SUB_START, 1, day).start > approved

    # Money keeps its digits: 4 places, exactly what the pricing rule gives.
    for _, adjustment in sent:
        assert MONEY.match(adjustment["adjusted_unit_price"]) and MONEY.match(
            adjustment["adjusted_unit_cost"]
        )
        assert Decimal(adjustment["adjusted_unit_cost"]) in {Decimal(list_price).quantize(Decimal("0.0001"))}

    # At the end Autotask holds what the subscription says, from the last change on.
    state = outcome.state
    subscription = state.subscriptions["s1"]
    book = state.books[1000]
    final = Timeline.of_held(book.held).at(CONTRACT_END)
    assert final is not None
    expected_units = subscription.quantity if subscription.is_live else 0
    assert final.units == expected_units
    if subscription.is_live:  # a cancelled subscription is not re-priced any more
        assert final.unit_price == state.context().pricing(subscription).unit_price
