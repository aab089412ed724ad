"""Posted periods known before sending (SPEC §2, §3): a back-dated adjustment is checked against
the contract's approved-and-posted periods before it goes out, so Autotask never has to refuse it.

Which rows are checked, and why that is cheap:
- only a row dated before the start of today's contract period (back-dated into a past period,
  which is where posting happens); a row dated today or in the current period goes out at once;
- a row on or before the contract's `posted_through` that contractsync already knows moves with
  no call at all (learned from an earlier read, or a refusal, for any service of the contract);
- otherwise one paged ContractServiceUnits query for the whole contract (`posted_through` of the
  connector), remembered per contract for `ttl` seconds, so the other services' back-dated rows
  of the same contract are checked without another call.
A period posted after the read (or in the current period) is still learned from Autotask's
refusal (delivery/posted_move.py): that stays the fallback.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from contractsync.adapters.clock import Clock
from contractsync.adapters.db.outbox_rows import Adjustment
from contractsync.adapters.db.tables import contracts
from contractsync.domain.enums import ContractPeriodType
from contractsync.domain.periods import period_containing


@dataclass(frozen=True)
class _Read:
    since: date
    through: date | None
    at: datetime


class PostedPeriodCache:
    """What each contract's posted periods were when last read (thread-safe, one per worker)."""

    def __init__(self, clock: Clock, ttl_seconds: float) -> None:
        self._clock = clock
        self._ttl = timedelta(seconds=ttl_seconds)
        self._reads: dict[tuple[str, int], _Read] = {}
        self._lock = threading.Lock()
        self._reading: dict[tuple[str, int], threading.Lock] = {}

    def known(self, connection_id: str, contract_id: int, day: date) -> tuple[bool, date | None]:
        """(True, posted-through) when a fresh read covers `day`; (False, None) when not."""
        with self._lock:
            read = self._reads.get((connection_id, contract_id))
        if read is None or read.since > day or self._clock.now() - read.at >= self._ttl:
            return False, None
        return True, read.through

    def reading(self, connection_id: str, contract_id: int) -> threading.Lock:
        """Held while one thread reads a contract: the others wait, then use what it read."""
        with self._lock:
            return self._reading.setdefault((connection_id, contract_id), threading.Lock())

    def remember(self, connection_id: str, contract_id: int, since: date, through: date | None) -> None:
        with self._lock:
            self._reads[(connection_id, contract_id)] = _Read(since, through, self._clock.now())


@dataclass(frozen=True)
class Check:
    """What to do with a row before sending it."""

    #: the contract is posted through this date, which holds the row: move it
    move_through: date | None = None
    #: read the contract's posted periods from Autotask first
    read: bool = False


SEND = Check()


def check(session: Session, row: Adjustment, today: date, cache: PostedPeriodCache) -> Check:
    if row.effective_date >= today:
        return SEND  # not back-dated: no SELECT either
    contract = session.execute(
        select(contracts.c.start_date, contracts.c.period_type, contracts.c.posted_through).where(
            contracts.c.connection_id == row.connection_id, contracts.c.contract_id == row.contract_id
        )
    ).first()
    if contract is None:
        return SEND  # a contract contractsync does not know: the refusal teaches, as before
    if contract.posted_through is not None and row.effective_date <= contract.posted_through:
        return Check(move_through=contract.posted_through)
    months = ContractPeriodType(contract.period_type).months
    if row.effective_date >= period_containing(contract.start_date, months, today).start:
        return SEND
    fresh, through = cache.known(row.connection_id, row.contract_id, row.effective_date)
    if not fresh:
        return Check(read=True)
    if through is not None and row.effective_date <= through:
        return Check(move_through=through)
    return SEND
