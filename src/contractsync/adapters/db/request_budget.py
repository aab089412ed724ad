"""Autotask's request budget as Autotask counts it: one per connection, shared through the
database by every worker and API process, corrected from `GET /ThresholdInformation`.

Autotask allows `externalRequestThreshold` requests (10,000) per rolling hour for the whole
database, whoever sends them. contractsync spends at most its own share (`policy.share`) and never
more than the tenant has left: its allowance is `min(share, threshold - others)`, where `others`
is what Autotask counted that contractsync did not send, learned from the last read of
ThresholdInformation (one process reads it every `refresh_seconds`; the read is itself counted).

Cheap by design: a process reserves requests in blocks of up to `policy.block` — one short
transaction (lock the budget's row, sum the last 61 minute rows, one UPSERT of this minute's row)
per block — and spends the block locally without touching the database. Near the limit the block
is one request, and the requests left are spread over the time until the oldest counted minute
leaves the hour (the same pacing as `RollingWindowBudget`). Counting is per minute and a block is
counted when reserved, so contractsync over-counts slightly (a request counts for up to 61
minutes, an unspent reservation until it leaves the hour), never under-counts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.autotask.limits import DEFAULT_HOURLY_BUDGET, DEFAULT_SLOW_DOWN_FROM, BudgetUsage
from contractsync.adapters.clock import Clock, Sleeper
from contractsync.adapters.db.budget_table import autotask_budgets, autotask_request_minutes
from contractsync.adapters.db.session import is_postgres, transaction

log = logging.getLogger(__name__)

_minutes = autotask_request_minutes
_budgets = autotask_budgets
#: Buckets counted in the rolling hour: the current minute and the 60 before it.
_WINDOW = timedelta(minutes=60)
_BUCKET = timedelta(minutes=1)
#: An unspent reservation is dropped after this long (it stays counted: an over-count).
_RESERVATION_LIFETIME = timedelta(seconds=60)
#: The longest one wait lasts before the budget is looked at again (a correction may free it).
_LONGEST_WAIT_SECONDS = 30.0

#: Reads GET /ThresholdInformation: (externalRequestThreshold, currentTimeframeRequestCount).
ThresholdReader = Callable[[], tuple[int, int]]


@dataclass(frozen=True)
class BudgetPolicy:
    #: contractsync's own hourly cap per connection (the tenant's threshold caps it further)
    share: int = DEFAULT_HOURLY_BUDGET
    slow_down_from: float = DEFAULT_SLOW_DOWN_FROM
    #: how often one process of the connection reads GET /ThresholdInformation
    refresh_seconds: float = 300.0
    #: requests reserved per database round trip while far from the limit
    block: int = 5

    def __post_init__(self) -> None:
        if self.share < 1:
            raise ValueError("the budget needs a share of at least 1 request")
        if not 0 < self.slow_down_from <= 1:
            raise ValueError("slow_down_from is a fraction in (0, 1]")
        if self.block < 1 or self.refresh_seconds <= 0:
            raise ValueError("block must be at least 1 and refresh_seconds positive")


@dataclass(frozen=True)
class _Standing:
    """One budget as the database holds it now."""

    own: int  # requests contractsync counted in the rolling hour
    oldest: datetime | None  # the oldest minute still counted
    allowance: int

    @property
    def fraction(self) -> float:
        return self.own / self.allowance if self.allowance > 0 else 1.0


@dataclass(frozen=True)
class _Decision:
    granted: int = 0
    wait: float = 0.0
    refresh: bool = False


def _minute(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0)


def _window_start(now: datetime) -> datetime:
    return _minute(now) - _WINDOW


def _allowance(policy: BudgetPolicy, state: Any) -> int:
    if state is None or state.tenant_threshold is None:
        return policy.share
    return max(0, min(policy.share, int(state.tenant_threshold) - int(state.others)))


class SharedBudget:
    """`RequestBudget` for one connection, kept in the database (thread-safe)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        key: str,
        clock: Clock,
        sleeper: Sleeper,
        policy: BudgetPolicy | None = None,
    ) -> None:
        self._sessions = sessions
        self.key = key
        self._clock = clock
        self._sleeper = sleeper
        self.policy = policy or BudgetPolicy()
        self._lock = threading.Lock()
        self._left = 0
        self._left_until: datetime | None = None
        self._reader: ThresholdReader | None = None
        self._local = threading.local()
        self._row_exists = False

    def read_threshold_with(self, reader: ThresholdReader) -> None:
        """Correct the budget from Autotask's own count (the connector's ThresholdInformation)."""
        self._reader = reader

    # -- RequestBudget ---------------------------------------------------------------------

    def acquire(self) -> None:
        while True:
            now = self._clock.now()
            with self._lock:
                if self._left > 0 and self._left_until is not None and now < self._left_until:
                    self._left -= 1
                    return
            refreshing = getattr(self._local, "refreshing", False)
            decision = self._reserve(now, may_refresh=self._reader is not None and not refreshing)
            if decision.granted:
                with self._lock:
                    self._left = decision.granted - 1
                    self._left_until = now + _RESERVATION_LIFETIME
                if decision.refresh:
                    self._refresh()
                return
            self._sleeper.sleep(decision.wait)

    def usage(self) -> BudgetUsage:
        with transaction(self._sessions) as session:
            standing = _standing(session, self.key, self.policy, self._clock.now())
        return BudgetUsage(standing.own, standing.allowance, _WINDOW.total_seconds())

    # -- the database ------------------------------------------------------------------------

    def _reserve(self, now: datetime, *, may_refresh: bool) -> _Decision:
        with transaction(self._sessions) as session:
            self._ensure_row(session)
            state = session.execute(
                select(_budgets).where(_budgets.c.budget_key == self.key).with_for_update()
            ).one()
            standing = _standing(session, self.key, self.policy, now, state)
            decision = self._decide(standing, state, now)
            if not decision.granted:
                return decision
            refresh = may_refresh and (
                state.refresh_claimed_at is None
                or (now - state.refresh_claimed_at).total_seconds() >= self.policy.refresh_seconds
            )
            _count(session, self.key, now, decision.granted)
            values: dict[str, Any] = {"last_request_at": now}
            if refresh:
                values["refresh_claimed_at"] = now
            session.execute(update(_budgets).where(_budgets.c.budget_key == self.key).values(**values))
            return _Decision(granted=decision.granted, refresh=refresh)

    def _decide(self, standing: _Standing, state: Any, now: datetime) -> _Decision:
        own, allowance = standing.own, standing.allowance
        slow_from = int(allowance * self.policy.slow_down_from)
        if own < slow_from:
            return _Decision(granted=min(self.policy.block, slow_from - own))
        if standing.oldest is None:
            # Nothing of ours in the hour, yet no allowance: others used the tenant's budget.
            return _Decision(wait=min(self.policy.refresh_seconds, _LONGEST_WAIT_SECONDS))
        until_oldest_leaves = (standing.oldest + _WINDOW + _BUCKET - now).total_seconds()
        if own >= allowance:
            return _Decision(wait=min(max(until_oldest_leaves, 0.05), _LONGEST_WAIT_SECONDS))
        spacing = until_oldest_leaves / (allowance - own)
        last = state.last_request_at
        since_last = (now - last).total_seconds() if last is not None else spacing
        wait = spacing - since_last
        if wait <= 0:
            return _Decision(granted=1)
        return _Decision(wait=min(wait, _LONGEST_WAIT_SECONDS))

    def _ensure_row(self, session: Session) -> None:
        if self._row_exists:
            return
        dialect = postgresql if is_postgres(session) else sqlite
        session.execute(
            dialect.insert(_budgets).values(budget_key=self.key, others=0).on_conflict_do_nothing()
        )
        self._row_exists = True

    def _refresh(self) -> None:
        assert self._reader is not None
        self._local.refreshing = True
        try:
            threshold, current = self._reader()
        except Exception as error:  # the budget keeps counting; the next refresh tries again
            log.warning("reading ThresholdInformation for %s failed: %s", self.key, error)
            return
        finally:
            self._local.refreshing = False
        self.correct(threshold, current)

    def correct(self, threshold: int, current: int) -> None:
        """What Autotask counts now: the tenant's threshold and its requests in the hour."""
        now = self._clock.now()
        with transaction(self._sessions) as session:
            self._ensure_row(session)
            session.execute(
                select(_budgets.c.budget_key).where(_budgets.c.budget_key == self.key).with_for_update()
            )
            own = _standing(session, self.key, self.policy, now).own
            session.execute(
                update(_budgets)
                .where(_budgets.c.budget_key == self.key)
                .values(tenant_threshold=threshold, others=max(0, current - own), threshold_read_at=now)
            )
            # Minutes that left the hour are never read again.
            session.execute(
                delete(_minutes).where(
                    _minutes.c.budget_key == self.key, _minutes.c.minute < _window_start(now)
                )
            )


def _count(session: Session, key: str, now: datetime, requests: int) -> None:
    """One UPSERT: add `requests` to this minute's row."""
    dialect = postgresql if is_postgres(session) else sqlite
    statement = dialect.insert(_minutes).values(budget_key=key, minute=_minute(now), requests=requests)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[_minutes.c.budget_key, _minutes.c.minute],
            set_={"requests": _minutes.c.requests + statement.excluded.requests},
        )
    )


def _standing(
    session: Session, key: str, policy: BudgetPolicy, now: datetime, state: Any = None
) -> _Standing:
    if state is None:
        state = session.execute(select(_budgets).where(_budgets.c.budget_key == key)).first()
    own, oldest = session.execute(
        select(func.coalesce(func.sum(_minutes.c.requests), 0), func.min(_minutes.c.minute)).where(
            _minutes.c.budget_key == key, _minutes.c.minute >= _window_start(now)
        )
    ).one()
    if oldest is not None and oldest.tzinfo is None:  # an aggregate skips the column's type
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return _Standing(int(own), oldest, _allowance(policy, state))


class SharedBudgets:
    """One `SharedBudget` per connection in this process, and every connection's share in use."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        sleeper: Sleeper,
        policy: BudgetPolicy | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._sleeper = sleeper
        self.policy = policy or BudgetPolicy()
        self._budgets: dict[str, SharedBudget] = {}
        self._lock = threading.Lock()

    def for_connection(self, connection_id: str) -> SharedBudget:
        with self._lock:
            if connection_id not in self._budgets:
                self._budgets[connection_id] = SharedBudget(
                    self._sessions, connection_id, self._clock, self._sleeper, self.policy
                )
            return self._budgets[connection_id]

    def fractions(self) -> dict[str, float]:
        """Share of its allowance each connection used in the rolling hour, every process's calls."""
        now = self._clock.now()
        with transaction(self._sessions) as session:
            sums = dict(
                session.execute(
                    select(_minutes.c.budget_key, func.sum(_minutes.c.requests))
                    .where(_minutes.c.minute >= _window_start(now))
                    .group_by(_minutes.c.budget_key)
                ).all()
            )
            states = {row.budget_key: row for row in session.execute(select(_budgets))}
        answer: dict[str, float] = {}
        for key in sorted(set(sums) | set(states)):
            standing = _Standing(int(sums.get(key) or 0), None, _allowance(self.policy, states.get(key)))
            answer[key] = standing.fraction
        return answer
