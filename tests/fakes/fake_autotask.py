"""A fake Autotask (SPEC §3) at the port, whose state lives in its own SQLite file.

Because the state is outside the worker process it survives a SIGKILL of the worker, so crash
tests can check what Autotask really holds. Create-only adjustments; units on a date are the
sum of deltas up to it. It refuses as the sandbox does, in the sandbox's own words (the texts
are the sandbox's constants): a date outside the contract, a posted period, a second adjustment
on one (service, date), units below zero anywhere on the timeline — checked in the sandbox's
order. ContractServiceUnits rows are split at calendar months and at adjustment dates (from a
service's first adjustment: the fake knows a contract service only from its adjustments).
tests/integration/autotask/test_fake_parity.py runs one story through this fake and through the
connector over the sandbox and holds them to the same answers. Paging and the thread limit live
in the HTTP layer below the port, which this fake replaces; the connector tests prove those
against the sandbox. Faults are injected by rate with a seeded RNG.
"""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from dateutil.relativedelta import relativedelta

from contractsync.adapters.autotask.adjustments import AdjustmentRequest, adjustment_for, adjustment_record
from contractsync.adapters.autotask.models import Threshold
from contractsync.ports.psa import (
    ErrorKind,
    PsaError,
    Refusal,
    ServiceTarget,
    ServiceUnitsPeriod,
    TargetApplied,
    UnitsRead,
)
from contractsync.sandbox.errors import DUPLICATE_DATE, NEGATIVE_UNITS, OUTSIDE_CONTRACT, POSTED_PERIOD

# The sandbox's own refusal texts, so the fake refuses in the sandbox's words
# (tests/integration/autotask/test_fake_parity.py holds the two to the same answers).
DUPLICATE = DUPLICATE_DATE
POSTED = POSTED_PERIOD
OUTSIDE = OUTSIDE_CONTRACT
NEGATIVE = NEGATIVE_UNITS
SIMULATED_FINAL = "Simulated business rule violation"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS adjustments (
  id INTEGER PRIMARY KEY AUTOINCREMENT, contract_id INTEGER NOT NULL,
  contract_service_id INTEGER NOT NULL, effective_date TEXT NOT NULL, unit_change INTEGER NOT NULL,
  price TEXT NOT NULL, cost TEXT NOT NULL, UNIQUE (contract_service_id, effective_date));
CREATE TABLE IF NOT EXISTS contracts (
  id INTEGER PRIMARY KEY, start_date TEXT NOT NULL, end_date TEXT NOT NULL, posted_through TEXT);
CREATE TABLE IF NOT EXISTS calls (kind TEXT PRIMARY KEY, n INTEGER NOT NULL);
"""


class _Refused(Exception):
    """(calls key, Autotask's message) of a refused create."""


#: The typed reason of each refusal (calls key), as the Autotask adapter reads it from the text.
_REFUSALS = {
    "rejected_outside": Refusal.OUTSIDE_CONTRACT,
    "rejected_posted": Refusal.POSTED_PERIOD,
    "rejected_duplicate": Refusal.DUPLICATE_DATE,
    "rejected_negative": Refusal.NEGATIVE_UNITS,
}


@dataclass(frozen=True)
class Faults:
    """Per-call probabilities (create_adjustment unless named read_)."""

    retryable: float = 0.0  # throttled / thread threshold: nothing applied
    final: float = 0.0  # a business rejection: nothing applied
    applied_then_timeout: float = 0.0  # applied, but the answer is lost (or a 500)
    lost_timeout: float = 0.0  # timed out after sending, not applied
    timeout_before_send: float = 0.0  # never reached Autotask
    read_retryable: float = 0.0


class FakeAutotask:
    def __init__(
        self,
        path: Path | str,
        faults: Faults | None = None,
        seed: int = 0,
        default_contract: tuple[date, date] = (date(2020, 1, 1), date(2030, 12, 31)),
    ) -> None:
        self.path = str(path)
        self.path_obj = Path(path)
        self.faults = faults or Faults()
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self._local = threading.local()
        self._default_contract = default_contract
        #: Answer every call with an empty 401, as Autotask does for bad or rotated credentials.
        self.refuse_credentials = False
        init = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            init.execute("PRAGMA journal_mode=WAL")
            init.executescript(_SCHEMA)
        finally:
            init.close()

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        # One connection per thread, kept open: closing the last one checkpoints the WAL.
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
            # WAL survives a SIGKILL of the process; only a power cut could lose a commit.
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        try:
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _roll(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._rng_lock:
            return self._rng.random() < rate

    def _count(self, db: sqlite3.Connection, kind: str) -> None:
        db.execute(
            "INSERT INTO calls(kind, n) VALUES (?, 1) ON CONFLICT(kind) DO UPDATE SET n = n + 1", (kind,)
        )

    # -- the PsaConnector port ----------------------------------------------------------------

    def _check_credentials(self) -> None:
        if self.refuse_credentials:
            with self._db() as db:
                self._count(db, "auth_refused")
            raise PsaError(ErrorKind.AUTH, "credentials refused (HTTP 401)", 401)

    def request_record(self, target: ServiceTarget) -> dict[str, Any]:
        return adjustment_record(adjustment_for(target))

    def apply_target(self, target: ServiceTarget) -> TargetApplied:
        """As the Autotask adapter applies a target: one adjustment of the difference."""
        request = adjustment_for(target)
        return TargetApplied(self.create_adjustment(request), request.unit_change)

    def create_adjustment(self, request: AdjustmentRequest) -> int:
        self._check_credentials()
        f = self.faults
        if self._roll(f.timeout_before_send):
            raise PsaError(ErrorKind.TIMEOUT_BEFORE_SEND, "connect timeout")
        with self._db() as db:
            self._count(db, "create_adjustment")
        if self._roll(f.retryable):
            raise PsaError(ErrorKind.THREAD_THRESHOLD, "Thread Threshold Exceeded", 500)
        if self._roll(f.final):
            raise PsaError(ErrorKind.REJECTED, SIMULATED_FINAL, 500)
        if self._roll(f.lost_timeout):
            raise PsaError(ErrorKind.TIMEOUT_AFTER_SEND, "read timeout")
        new_id = self._apply(request)
        if self._roll(f.applied_then_timeout):
            raise PsaError(ErrorKind.SERVER_ERROR, "Internal Server Error", 500)
        return new_id

    def _apply(self, request: AdjustmentRequest) -> int:
        try:
            return self._insert(request)
        except _Refused as refused:
            reason, message = refused.args
        with self._db() as db:
            self._count(db, reason)
        raise PsaError(ErrorKind.REJECTED, message, 500, _REFUSALS.get(reason))

    def _insert(self, request: AdjustmentRequest) -> int:
        """The sandbox's checks, in its order; a refusal leaves the transaction (rolled back)."""
        with self._db() as db:
            start, end, posted = self._contract(db, request.contract_id)
            day = request.effective_date
            if not start <= day <= end:
                raise _Refused("rejected_outside", OUTSIDE)
            if posted is not None and day <= posted:
                raise _Refused("rejected_posted", POSTED)
            try:
                cursor = db.execute(
                    "INSERT INTO adjustments(contract_id, contract_service_id, effective_date, unit_change,"
                    " price, cost) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        request.contract_id,
                        request.contract_service_id,
                        day.isoformat(),
                        request.unit_change,
                        str(request.adjusted_unit_price),
                        str(request.adjusted_unit_cost),
                    ),
                )
            except sqlite3.IntegrityError:
                raise _Refused("rejected_duplicate", DUPLICATE) from None
            running = 0
            for (change,) in db.execute(
                "SELECT unit_change FROM adjustments WHERE contract_service_id = ? ORDER BY effective_date",
                (request.contract_service_id,),
            ):
                running += change
                if running < 0:
                    raise _Refused("rejected_negative", NEGATIVE)
            return int(cursor.lastrowid or 0)

    def service_units(self, contract_service_id: int, start: date, end: date) -> list[ServiceUnitsPeriod]:
        self._check_credentials()
        with self._db() as db:
            self._count(db, "service_units")
        if self._roll(self.faults.read_retryable):
            raise PsaError(ErrorKind.THROTTLED, "Too Many Requests", 429)
        return [p for p in self.timeline(contract_service_id) if p.end_date >= start and p.start_date <= end]

    def threshold_information(self) -> Threshold:
        """What saving credentials checks: refused like every other call when they are wrong."""
        self._check_credentials()
        with self._db() as db:
            self._count(db, "threshold_information")
        return Threshold(limit=10_000, timeframe_minutes=60, current_count=0)

    def service_units_of(self, contract_service_ids: list[int]) -> UnitsRead:
        """One read per 500 contract services, like the Autotask connector's `in` query."""
        ids = sorted(set(contract_service_ids))
        periods: list[ServiceUnitsPeriod] = []
        for first in range(0, len(ids), 500):
            self._check_credentials()
            with self._db() as db:
                self._count(db, "service_units")
            periods += [p for cs in ids[first : first + 500] for p in self.timeline(cs)]
        return UnitsRead(periods, -(-len(ids) // 500))

    # -- inspection for tests -----------------------------------------------------------------

    def set_contract(
        self, contract_id: int, start: date, end: date, posted_through: date | None = None
    ) -> None:
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO contracts(id, start_date, end_date, posted_through) VALUES (?, ?, ?, ?)",
                (
                    contract_id,
                    start.isoformat(),
                    end.isoformat(),
                    posted_through and posted_through.isoformat(),
                ),
            )

    def _contract(self, db: sqlite3.Connection, contract_id: int) -> tuple[date, date, date | None]:
        row = db.execute(
            "SELECT start_date, end_date, posted_through FROM contracts WHERE id = ?", (contract_id,)
        ).fetchone()
        if row is None:
            return (*self._default_contract, None)
        return date.fromisoformat(row[0]), date.fromisoformat(row[1]), row[2] and date.fromisoformat(row[2])

    def adjustments(
        self, contract_service_id: int | None = None
    ) -> list[tuple[int, date, int, Decimal, Decimal]]:
        """(service, date, unit change, price, cost), in creation order."""
        query = "SELECT contract_service_id, effective_date, unit_change, price, cost FROM adjustments"
        args: tuple[int, ...] = ()
        if contract_service_id is not None:
            query, args = query + " WHERE contract_service_id = ?", (contract_service_id,)
        with self._db() as db:
            rows = db.execute(query + " ORDER BY id", args).fetchall()
        return [(r[0], date.fromisoformat(r[1]), r[2], Decimal(r[3]), Decimal(r[4])) for r in rows]

    def units_on(self, contract_service_id: int, day: date) -> int:
        return sum(change for _, d, change, _, _ in self.adjustments(contract_service_id) if d <= day)

    def calls(self) -> dict[str, int]:
        with self._db() as db:
            return dict(db.execute("SELECT kind, n FROM calls").fetchall())

    def timeline(self, contract_service_id: int) -> list[ServiceUnitsPeriod]:
        """ContractServiceUnits: from the first adjustment to the contract's end, split at
        calendar months and at adjustment dates."""
        adjustments = sorted(self.adjustments(contract_service_id), key=lambda a: a[1])
        if not adjustments:
            return []
        with self._db() as db:
            contract_id = db.execute(
                "SELECT contract_id FROM adjustments WHERE contract_service_id = ? LIMIT 1",
                (contract_service_id,),
            ).fetchone()[0]
            _, contract_end, posted = self._contract(db, contract_id)
        first = adjustments[0][1]
        cuts = {a[1] for a in adjustments}
        month = date(first.year, first.month, 1) + relativedelta(months=1)
        while month <= contract_end:
            cuts.add(month)
            month += relativedelta(months=1)
        starts = sorted(cuts)
        periods = []
        for i, begin in enumerate(starts):
            finish = starts[i + 1] - timedelta(days=1) if i + 1 < len(starts) else contract_end
            applied = [a for a in adjustments if a[1] <= begin]
            units = sum(a[2] for a in applied)
            price, cost = applied[-1][3], applied[-1][4]
            periods.append(
                ServiceUnitsPeriod(
                    contract_service_id,
                    begin,
                    finish,
                    units,
                    price,
                    cost,
                    posted is not None and finish <= posted,
                )
            )
        return periods
