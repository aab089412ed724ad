"""After an unknown outcome: read what Autotask holds and decide, instead of guessing.

Autotask has no idempotency key, so a request that timed out may or may not have been applied.
Before anything else is sent for the service we read ContractServiceUnits, rebuild our ledger
view from it (so later deltas are computed from the truth) and check whether the row in doubt
is already in effect. Pure functions; the worker does the I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from contractsync.adapters.db.outbox_rows import Adjustment, LedgerEntry
from contractsync.service.psa import ServiceUnitsPeriod

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Rebuilt:
    start: date  # ledger entries on or after this date are replaced by `entries`
    entries: list[LedgerEntry]


def read_window(ledger: list[LedgerEntry], row: Adjustment) -> tuple[date, date]:
    """The dates to read: from the day before our first known adjustment to the latest one."""
    dates = [e.effective_date for e in ledger] + [row.effective_date]
    return min(dates) - ONE_DAY, max(dates)


def _period_on(periods: list[ServiceUnitsPeriod], day: date) -> ServiceUnitsPeriod | None:
    for period in periods:
        if period.start_date <= day <= period.end_date:
            return period
    return None


def _state(period: ServiceUnitsPeriod | None) -> tuple[int, object, object]:
    return (0, None, None) if period is None else (period.units, period.price, period.cost)


def rebuild(
    periods: list[ServiceUnitsPeriod], ledger: list[LedgerEntry], window: tuple[date, date]
) -> Rebuilt:
    """Ledger entries that reproduce Autotask's units and prices over the window.

    One entry per date where units, price or cost change, plus every date we know we adjusted
    (kept with its ids even when it changed nothing visible). Units Autotask holds before the
    window become one opening entry at the start of the period they are in.
    """
    lo, hi = window
    known = {e.effective_date: e for e in ledger}
    entries: list[LedgerEntry] = []
    opening = _period_on(periods, lo)
    start = lo + ONE_DAY
    if opening is not None and opening.units != 0:
        start = min(opening.start_date, start)
        entries.append(
            LedgerEntry(opening.start_date, opening.units, opening.price, opening.cost, None, None)
        )
    starts = {p.start_date for p in periods if lo < p.start_date <= hi} | {d for d in known if d > lo}
    for day in sorted(starts):
        before, now = _state(_period_on(periods, day - ONE_DAY)), _period_on(periods, day)
        if now is None:
            continue
        if day in known or _state(now) != before:
            old = known.get(day)
            entries.append(
                LedgerEntry(
                    day,
                    now.units - before[0],
                    now.price,
                    now.cost,
                    old.autotask_id if old else None,
                    old.adjustment_id if old else None,
                )
            )
    # Entries we knew before the window's start stay; everything from `start` on is replaced.
    return Rebuilt(start=min([start, *[e.effective_date for e in entries]]), entries=entries)


def already_applied(periods: list[ServiceUnitsPeriod], row: Adjustment) -> bool:
    """Autotask shows the row's effect: a period starts on its date with its units, price, cost."""
    period = next((p for p in periods if p.start_date == row.effective_date), None)
    return (
        period is not None
        and period.units == row.target_units
        and period.price == row.unit_price
        and period.cost == row.unit_cost
    )
