"""The ledger self-check: does contractsync's own view of Autotask still add up?

When the worker verifies a contract service it reads Autotask's units and keeps them
(`record_verification`, table `service_checks`). From then on the ledger may change only by the
adjustments contractsync sends, so on every date of that window

    ledger units(d) == units read(d) + Σ unit changes sent since the read, dated on or before d

(past the window, the units read on its last day).

`drift` checks that for every verified service in three queries, without calling Autotask; a
difference means contractsync's bookkeeping (not a person in Autotask) made its view wrong. The
worker raises it as an X5 alert (`raise_alerts`), `/metrics` as `contractsync_ledger_drift_services`.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from contractsync.adapters.db.checks_table import service_checks
from contractsync.adapters.db.session import is_postgres
from contractsync.adapters.db.tables import adjustments, alerts, ledger

ALERT_KIND = "ledger_drift"
_checks = service_checks


@dataclass(frozen=True)
class Drift:
    connection_id: str
    contract_service_id: int
    day: date
    expected_units: int
    ledger_units: int
    verified_at: datetime

    def message(self) -> str:
        return (
            f"contract service {self.contract_service_id}: the ledger holds {self.ledger_units} units on "
            f"{self.day.isoformat()}, but the verification of {self.verified_at.isoformat()} read "
            f"{self.expected_units} there (with what was sent since); contractsync's view of Autotask "
            "is wrong — run reconciliation"
        )


def record_verification(
    session: Session,
    connection_id: str,
    contract_service_id: int,
    window: tuple[date, date],
    periods: Iterable[tuple[date, date, int]],
    now: datetime,
) -> None:
    """Keep what Autotask showed over the window, as (start, end, units) periods (replacing the
    previous verification). Call it after recording rows the read showed applied."""
    lo, hi = window
    ordered = sorted(periods)

    def units_on(day: date) -> int:
        return next((units for start, end, units in ordered if start <= day <= end), 0)

    days = sorted({lo} | {start for start, _, _ in ordered if lo < start <= hi})
    points: list[list[object]] = []
    for day in days:
        units = units_on(day)
        if not points or points[-1][1] != units:
            points.append([day.isoformat(), units])
    sent_through = session.execute(
        select(func.coalesce(func.max(adjustments.c.id), 0)).where(
            adjustments.c.connection_id == connection_id,
            adjustments.c.contract_service_id == contract_service_id,
            adjustments.c.status == "sent",
        )
    ).scalar_one()
    values = {
        "verified_at": now,
        "sent_through_id": int(sent_through),
        "window_start": lo,
        "window_end": hi,
        "units": points,
    }
    dialect = postgresql if is_postgres(session) else sqlite
    statement = dialect.insert(_checks).values(
        connection_id=connection_id, contract_service_id=contract_service_id, **values
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[_checks.c.connection_id, _checks.c.contract_service_id], set_=values
        )
    )


class _Steps:
    """A step function of units from dated changes."""

    def __init__(self, changes: Iterable[tuple[date, int]]) -> None:
        self._days: list[date] = []
        self._totals: list[int] = []
        total = 0
        for day, change in sorted(changes):
            total += change
            if self._days and self._days[-1] == day:
                self._totals[-1] = total
            else:
                self._days.append(day)
                self._totals.append(total)

    def at(self, day: date) -> int:
        i = bisect.bisect_right(self._days, day)
        return self._totals[i - 1] if i else 0

    def days(self) -> list[date]:
        return list(self._days)


def drift(session: Session) -> list[Drift]:
    """The first date on which each verified service's ledger disagrees with its last read."""
    checks = session.execute(select(_checks)).all()
    if not checks:
        return []
    on_check = and_(
        _checks.c.connection_id == ledger.c.connection_id,
        _checks.c.contract_service_id == ledger.c.contract_service_id,
    )
    held: dict[tuple[str, int], list[tuple[date, int]]] = defaultdict(list)
    for row in session.execute(
        select(ledger.c.connection_id, ledger.c.contract_service_id, ledger.c.effective_date, ledger.c.unit_change)
        .join(_checks, on_check)
    ):  # fmt: skip
        held[(row[0], row[1])].append((row[2], row[3]))
    sent: dict[tuple[str, int], list[tuple[date, int]]] = defaultdict(list)
    for row in session.execute(
        select(adjustments.c.connection_id, adjustments.c.contract_service_id, adjustments.c.effective_date,
               adjustments.c.sent_unit_change)
        .join(_checks, and_(_checks.c.connection_id == adjustments.c.connection_id,
                            _checks.c.contract_service_id == adjustments.c.contract_service_id))
        .where(adjustments.c.status == "sent", adjustments.c.id > _checks.c.sent_through_id)
    ):  # fmt: skip
        sent[(row[0], row[1])].append((row[2], row[3] or 0))
    found: list[Drift] = []
    for check in checks:
        key = (check.connection_id, check.contract_service_id)
        read = [(date.fromisoformat(str(d)), int(u)) for d, u in check.units]
        read_steps = _Steps([(d, u - (read[i - 1][1] if i else 0)) for i, (d, u) in enumerate(read)])
        since, books = _Steps(sent[key]), _Steps(held[key])
        # Past the window the ledger held nothing when it was read: Autotask's units there are the
        # window's last, plus what was sent since.
        lo = check.window_start
        days = sorted({lo, *read_steps.days(), *since.days(), *books.days()})
        for day in (d for d in days if d >= lo):
            expected = read_steps.at(day) + since.at(day)
            if books.at(day) != expected:
                found.append(Drift(*key, day, expected, books.at(day), check.verified_at))
                break
    return found


def raise_alerts(session: Session, now: datetime) -> list[Drift]:
    """One X5 alert per drifting service and verification (a second run adds nothing)."""
    found = drift(session)
    dialect = postgresql if is_postgres(session) else sqlite
    for item in found:
        session.execute(
            dialect.insert(alerts)
            .values(
                kind=ALERT_KIND,
                message=item.message(),
                connection_id=item.connection_id,
                subscription_id=None,
                created_at=now,
                dedupe_key=f"{ALERT_KIND}:{item.connection_id}:{item.contract_service_id}:"
                f"{item.verified_at.isoformat()}",
            )
            .on_conflict_do_nothing()
        )
    return found
