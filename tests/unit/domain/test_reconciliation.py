"""X1 comparison, pure: kinds of differences and money impact prorated by days per period."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from contractsync.domain.reconciliation import (
    AutotaskRow,
    Kind,
    OutboxRow,
    Refusal,
    SentRow,
    ServiceFacts,
    compare,
    prorated,
)
from contractsync.domain.schedule import HeldAdjustment, Intent, State

P, C = Decimal("12.0000"), Decimal("10.0000")
JAN1, DEC31 = date(2026, 1, 1), date(2026, 12, 31)


def _rows(*changes: tuple[date, int]) -> list[AutotaskRow]:
    """Monthly rows of 2026 split at the given dates (units from each date on), like Autotask."""
    cuts = sorted({date(2026, m, 1) for m in range(1, 13)} | {d for d, _ in changes})
    rows = []
    for i, start in enumerate(cuts):
        end = date.fromordinal(cuts[i + 1].toordinal() - 1) if i + 1 < len(cuts) else DEC31
        units = next((u for d, u in sorted(changes, reverse=True) if d <= start), 0)
        rows.append(AutotaskRow(start, end, units, P, C))
    return rows


def _facts(
    autotask: list[AutotaskRow],
    sent: list[tuple[date, int]],
    intents: list[tuple[date, int]],
    pending: list[OutboxRow] | None = None,
    failed: list[OutboxRow] | None = None,
) -> ServiceFacts:
    return ServiceFacts(
        subscription_id="s1", customer_id="c1", contract_service_id=1000, service_start=date(2026, 3, 10),
        contract_start=JAN1, contract_end=DEC31, period_months=1, autotask=autotask,
        sent=[SentRow(HeldAdjustment(d, u, P, C), 7, None) for d, u in sent],
        pending=pending or [], failed=failed or [],
        intents=[Intent(d, u, P, C) for d, u in intents],
    )  # fmt: skip


def test_prorated_counts_each_period_by_its_own_days() -> None:
    # 10 days of a 31-day March and all 30 days of April at 31 a period.
    assert prorated(date(2026, 3, 22), date(2026, 4, 30), Decimal(31), JAN1, 1) == Decimal(10) + Decimal(31)


def test_drift_is_valued_through_the_current_period_then_as_a_run_rate() -> None:
    # contractsync sent 10 units from 10 March; someone added 2 in Autotask from 16 April on.
    facts = _facts(_rows((date(2026, 3, 10), 10), (date(2026, 4, 16), 12)), [(date(2026, 3, 10), 10)],
                   [(date(2026, 3, 10), 10)])  # fmt: skip
    [drift] = compare(facts, today=date(2026, 4, 20))
    assert drift.kind is Kind.DRIFT and drift.first_day == date(2026, 4, 16) and drift.last_day == DEC31
    assert (drift.expected.units, drift.autotask.units) == (10, 12)
    # April has 30 days: 15 of them billed 2 x 12 too much, then 24 a month from May on.
    assert drift.money_impact == Decimal(-24) * 15 / 30
    assert drift.run_rate == Decimal(-24)


def test_pending_inexact_and_failed_are_told_apart() -> None:
    autotask = _rows((date(2026, 3, 10), 10), (date(2026, 3, 11), 14))
    pending = [OutboxRow(date(2026, 6, 1), 20, P, C, 9, "planned, not sent yet")]
    failed = [OutboxRow(date(2026, 4, 1), 0, P, C, 11, "Autotask refused it: posted")]
    intents = [(date(2026, 3, 10), 14), (date(2026, 4, 1), 0), (date(2026, 6, 1), 20)]
    facts = _facts(autotask, [(date(2026, 3, 10), 10), (date(2026, 3, 11), 4)], intents, pending, failed)
    found = compare(facts, today=date(2026, 5, 1))
    kinds = [(d.kind, d.first_day, d.last_day, d.record_id) for d in found]
    assert kinds == [
        # 14 was wanted from 10 March, but that day already had the mapping's adjustment.
        (Kind.INEXACT, date(2026, 3, 10), date(2026, 3, 10), 7),
        (Kind.FAILED, date(2026, 4, 1), date(2026, 5, 31), 11),
        (Kind.PENDING, date(2026, 6, 1), DEC31, 9),
    ]
    assert found[0].exact_from == date(2026, 3, 11)
    assert found[1].reason == "Autotask refused it: posted"
    # Valued from 1 April through the current period (May): two months of 14 units too many.
    assert found[1].money_impact == Decimal(-14 * 12 * 2) and found[1].run_rate == 0
    # A later difference is valued through its own first period (June), then as a run rate.
    assert (found[2].money_impact, found[2].run_rate) == (Decimal(6 * 12), Decimal(6 * 12))


def test_a_refused_operation_is_a_failed_difference_with_its_record() -> None:
    facts = _facts(_rows((date(2026, 3, 10), 10)), [(date(2026, 3, 10), 10)], [(date(2026, 3, 10), 10)])
    facts.refusals = [Refusal(5, date(2028, 2, 1), "Not sent: outside the contract")]
    facts.wanted = State(30, P, C)
    [failed] = compare(facts, today=date(2026, 4, 1))
    assert (failed.kind, failed.record_id, failed.expected.units, failed.money_impact) == (
        Kind.FAILED, 5, 30, Decimal(0),
    )  # fmt: skip


def test_a_correction_never_takes_a_later_day_below_zero_units() -> None:
    from contractsync.domain.schedule import ServiceWindow, plan_adjustments

    # Autotask: 3 units from 1 March, +2 by hand on 10 March, -5 by hand on 20 March (0 units).
    held = [HeldAdjustment(date(2026, 3, 1), 3, P, C), HeldAdjustment(date(2026, 3, 10), 2, P, C),
            HeldAdjustment(date(2026, 3, 20), -5, P, C)]  # fmt: skip
    window = ServiceWindow(date(2026, 3, 1), JAN1, DEC31)
    walk = plan_adjustments(held, [Intent(date(2026, 3, 1), 3, P, C)], window, date(2026, 3, 10))
    # Taking 10 March's 2 units away would leave 20 March at -2: Autotask refuses that. So 11-19
    # March keep 5 units, and 3 units come back on 21 March, the first free day after the removal.
    assert [(a.effective_date, a.unit_change, a.target_units) for a in walk.adjustments] == [
        (date(2026, 3, 21), 3, 3)
    ]
    assert any("below 0 units" in note for note in walk.notes)
