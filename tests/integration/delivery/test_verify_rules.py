"""The pure verification rules: rebuilding the ledger from ContractServiceUnits."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from contractsync.adapters.db.outbox_rows import Adjustment, LedgerEntry
from contractsync.delivery import verify
from contractsync.service.psa import ServiceUnitsPeriod

P, C = Decimal("12.0000"), Decimal("10.0000")


def _period(start: date, end: date, units: int, price: Decimal = P) -> ServiceUnitsPeriod:
    return ServiceUnitsPeriod(1, start, end, units, price, C, False)


def _row(day: date, target: int) -> Adjustment:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    return Adjustment(
        1, 1, "at1", "s1", 100, 1, day, target, P, C, None, "pending", now, now, 1, None, None, None, None,
        None, None, now, None,
    )  # fmt: skip


def test_rebuild_reproduces_autotasks_units_and_keeps_known_ids() -> None:
    periods = [
        _period(date(2025, 2, 10), date(2025, 2, 28), 5),
        _period(date(2025, 3, 1), date(2025, 3, 4), 5),  # month boundary: no adjustment
        _period(date(2025, 3, 5), date(2025, 3, 31), 8),  # the row in doubt landed
    ]
    ledger = [LedgerEntry(date(2025, 2, 10), 5, P, C, 77, 1)]
    row = _row(date(2025, 3, 5), 8)
    window = verify.read_window(ledger, row)
    rebuilt = verify.rebuild(periods, ledger, window)
    assert [(e.effective_date, e.unit_change, e.autotask_id) for e in rebuilt.entries] == [
        (date(2025, 2, 10), 5, 77),
        (date(2025, 3, 5), 3, None),
    ]
    assert rebuilt.start == date(2025, 2, 10)
    assert verify.already_applied(periods, row)
    assert not verify.already_applied(periods, _row(date(2025, 3, 5), 9))


def test_units_from_before_our_first_adjustment_become_an_opening_entry() -> None:
    periods = [
        _period(date(2025, 1, 1), date(2025, 1, 31), 4),
        _period(date(2025, 2, 1), date(2025, 2, 28), 4),
    ]
    row = _row(date(2025, 2, 15), 6)
    rebuilt = verify.rebuild(periods, [], verify.read_window([], row))
    assert [(e.effective_date, e.unit_change) for e in rebuilt.entries] == [(date(2025, 2, 1), 4)]
    assert sum(e.unit_change for e in rebuilt.entries) == 4
    assert not verify.already_applied(periods, row)
