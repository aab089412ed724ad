"""Autotask's request budget as Autotask counts it: one per connection, shared through the
database by every worker and API process, corrected from `GET /ThresholdInformation`.

Autotask allows `externalRequestThreshold` requests (10,000) per rolling hour for the whole
database, whoever sends them. contractsync spends at most its own share (`policy.share`) and never
more than the tenant has left: its allowance is `min(share, threshold - others)`, where `others`
is what Autotask counted that contractsync did not send, learned from the last read of
ThresholdInformation (one process reads it every `refresh_seconds`; the read is itself counted).

Cheap by design, and never in the way of a request:
- far from the limit (below `slow_down_from` of the allowance, as this process last saw it) a
  request is granted in memory and counted in the database afterwards by the budget's own thread:
  one short transaction (one UPSERT of this minute's row, one SUM of the last 61 rows) for every
  batch of calls made while the previous one ran, or, with `policy.gather_seconds` (the worker's:
  `WORKER_GATHER_SECONDS`), for the calls of the next half second — a worker delivering 10 calls a
  second counted each on its own, a tenth of its CPU in the goal chaos run's drain; the other
  processes see those calls up to that much later, which far from the limit changes nothing (a
  short-lived command gathers nothing: its exit would wait for the count);
- near the limit every request is one reservation in the database, made in turn with the other
  processes (the budget's row is locked while it is decided), and the requests left are spread over
  the time until the oldest counted minute leaves the hour (the pacing of `RollingWindowBudget`).
Counting is per minute, so a request counts for up to 61 minutes: contractsync over-counts a
little and never under-counts. If the database does not answer within 0.5 s (a caller inside its
own SQLite transaction would wait on itself), the request goes ahead and is counted later, and
so do the requests made while that sync is still waiting.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.autotask.limits import DEFAULT_HOURLY_BUDGET, DEFAULT_SLOW_DOWN_FROM, BudgetUsage
from contractsync.adapters.clock import Clock, Sleeper
from contractsync.adapters.db import budget_counts as sql
from contractsync.adapters.db.session import transaction

log = logging.getLogger(__name__)

#: How long a caller waits for the database before it sends anyway (and is counted later).
_SYNC_WAIT_SECONDS = 0.5
#: How long an explicit flush waits for the database.
_FLUSH_WAIT_SECONDS = 5.0
#: The longest one wait lasts before the budget is looked at again (a correction may free it).
_LONGEST_WAIT_SECONDS = 30.0
#: A worker's `BudgetPolicy.gather_seconds`.
WORKER_GATHER_SECONDS = 0.5

#: Reads GET /ThresholdInformation: (externalRequestThreshold, currentTimeframeRequestCount).
ThresholdReader = Callable[[], tuple[int, int]]


@dataclass(frozen=True)
class BudgetPolicy:
    #: contractsync's own hourly cap per connection (the tenant's threshold caps it further)
    share: int = DEFAULT_HOURLY_BUDGET
    slow_down_from: float = DEFAULT_SLOW_DOWN_FROM
    #: how often one process of the connection reads GET /ThresholdInformation
    refresh_seconds: float = 300.0
    #: far from the limit, how long calls granted in memory are gathered before they are counted in
    #: the database (one transaction for all of them; a sync someone waits for counts them at once).
    #: 0: after each call, as soon as the previous count is done.
    gather_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.share < 1:
            raise ValueError("the budget needs a share of at least 1 request")
        if not 0 < self.slow_down_from <= 1:
            raise ValueError("slow_down_from is a fraction in (0, 1]")
        if self.refresh_seconds <= 0:
            raise ValueError("refresh_seconds must be positive")
        if self.gather_seconds < 0:
            raise ValueError("gather_seconds cannot be negative")


@dataclass(frozen=True)
class _Decision:
    granted: int = 0
    wait: float = 0.0


@dataclass
class _Ticket:
    """One waited-for sync: whether it finished, and whether its caller stopped waiting for it."""

    finished: bool = False
    abandoned: bool = False
    decision: _Decision | None = None


@dataclass(frozen=True)
class _View:
    """The budget as the database held it at the last sync, in this process."""

    own: int
    allowance: int
    slow_from: int


class SharedBudget:
    """`RequestBudget` for one connection, kept in the database (thread-safe).

    The database is never touched by the thread that asks for a request: a worker thread of this
    budget syncs (one short transaction) and the caller waits for it at most `_SYNC_WAIT_SECONDS`. A
    caller inside its own transaction (e.g. mapping, which reads Autotask in its unit of work)
    would otherwise wait on itself on SQLite; after the wait it goes ahead and the request is
    counted with the next sync.
    """

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
        self._view: _View | None = None
        self._unflushed = 0  # granted here, not yet counted in the database
        self._flush: Future[_Decision | None] | None = None
        self._stuck: Future[_Decision | None] | None = None  # a sync that outlasted its caller
        self._count_now = threading.Event()  # set: a gathering flush counts at once (someone waits)
        self._sync_thread = ThreadPoolExecutor(1, thread_name_prefix=f"budget-{key}")
        self._reader: ThresholdReader | None = None
        self._local = threading.local()

    def read_threshold_with(self, reader: ThresholdReader) -> None:
        """Correct the budget from Autotask's own count (the connector's ThresholdInformation)."""
        self._reader = reader

    # -- RequestBudget ---------------------------------------------------------------------

    def acquire(self) -> None:
        in_sync = getattr(self._local, "in_sync", False)  # the ThresholdInformation read itself
        while True:
            with self._lock:
                view = self._view
                if in_sync or (view is not None and view.own + self._unflushed < view.slow_from):
                    # Far from the limit: granted here, counted in the database by the next sync.
                    self._unflushed += 1
                    break
            # First use, or near the limit: one reservation in the database, in turn with the
            # other processes (the budget's row is locked while it is decided).
            decision = self._sync_and_wait(reserve=True)
            if decision is None:  # an earlier sync still waits for the database: go ahead, count later
                with self._lock:
                    self._unflushed += 1
                break
            if decision.granted:
                return
            self._sleeper.sleep(decision.wait)
        if not in_sync:
            self._flush_soon()

    def usage(self) -> BudgetUsage:
        if not getattr(self._local, "in_sync", False):
            self._sync_and_wait(reserve=False)  # this process's latest calls too
        with transaction(self._sessions) as session:
            standing = sql.standing(session, self.key, self.policy.share, self._clock.now())
        return BudgetUsage(standing.own, standing.allowance, sql.WINDOW.total_seconds())

    def flush(self) -> None:
        """Count this process's calls in the database now (waits at most a few seconds)."""
        stuck = self._stuck
        if stuck is not None:  # a late sync counts calls too: let it land first
            # still waiting, or failed: its calls are then counted by the next sync
            with contextlib.suppress(Exception):
                stuck.result(timeout=_FLUSH_WAIT_SECONDS)
        self._sync_and_wait(reserve=False, wait=_FLUSH_WAIT_SECONDS)

    # -- the database, on the budget's own thread ----------------------------------------------

    def _sync_and_wait(self, *, reserve: bool, wait: float = _SYNC_WAIT_SECONDS) -> _Decision | None:
        """The sync's decision; None when the caller should go ahead and count its call itself."""
        with self._lock:
            if self._stuck is not None and not self._stuck.done():
                return None  # an earlier sync still waits for the database: do not wait again
            ticket = _Ticket()
            self._count_now.set()  # a flush still gathering calls runs now; this sync right after it
            future = self._sync_thread.submit(self._sync, reserve, ticket)
        try:
            return future.result(timeout=wait)
        except FutureTimeout:
            with self._lock:
                if not ticket.finished:
                    # The caller goes ahead; the sync still running counts this call once, whatever
                    # it decides (see `_settle`), so the caller must not count it again.
                    ticket.abandoned = True
                    self._stuck = future
                    return _Decision(granted=1) if reserve else None
                return ticket.decision  # decided just now (its ThresholdInformation read may go on)

    def _flush_soon(self) -> None:
        with self._lock:
            if self._flush is not None and not self._flush.done():
                return
            self._flush = self._sync_thread.submit(self._gather_then_count)

    def _gather_then_count(self) -> _Decision | None:
        """Count, in one sync, the calls granted over the next `policy.gather_seconds`."""
        self._count_now.wait(self.policy.gather_seconds)
        self._count_now.clear()
        return self._sync(False)

    def _sync(self, reserve: bool, ticket: _Ticket | None = None) -> _Decision | None:
        """Count what this process granted, look at the budget, and reserve one request if asked."""
        self._local.in_sync = True
        now = self._clock.now()
        with self._lock:
            flushing, self._unflushed = self._unflushed, 0
        try:
            decision, refresh = self._sync_transaction(now, flushing, reserve)
        except Exception:
            with self._lock:
                self._unflushed += flushing + (1 if reserve else 0)  # counted next time
                answer = _Decision(granted=1) if reserve else None  # never block Autotask on our database
                if ticket is not None:
                    ticket.finished, ticket.decision = True, answer
            log.exception("syncing the Autotask request budget of %s failed", self.key)
            return answer
        with self._lock:
            if ticket is not None:
                ticket.finished, ticket.decision = True, decision
                if ticket.abandoned and reserve and decision is not None and not decision.granted:
                    # Its caller stopped waiting and sent the request anyway: count it next time.
                    self._unflushed += 1
        if refresh:
            self._refresh()
        with self._lock:
            if self._unflushed and not reserve:
                # Granted while this flush ran: the next flush takes them all at once.
                self._flush = self._sync_thread.submit(self._gather_then_count)
        return decision

    def _sync_transaction(self, now: datetime, flushing: int, reserve: bool) -> tuple[_Decision | None, bool]:
        share = self.policy.share
        with transaction(self._sessions) as session:
            state = sql.lock_budget(session, self.key)
            sql.count(session, self.key, now, flushing)
            standing = sql.standing(session, self.key, share, now, state)
            decision = self._decide(standing, state, now) if reserve else None
            granted = 1 if decision is not None and decision.granted else 0
            sql.count(session, self.key, now, granted)
            refresh = self._reader is not None and (
                state.refresh_claimed_at is None
                or (now - state.refresh_claimed_at).total_seconds() >= self.policy.refresh_seconds
            )
            values: dict[str, Any] = {}
            if flushing or granted:
                values["last_request_at"] = now
            if refresh:
                values["refresh_claimed_at"] = now
            if values:
                sql.mark(session, self.key, **values)
        self._see(standing.own + granted, standing.allowance)
        return decision, refresh

    def _see(self, own: int, allowance: int) -> None:
        with self._lock:
            self._view = _View(own, allowance, int(allowance * self.policy.slow_down_from))

    def _decide(self, standing: sql.Standing, state: Any, now: datetime) -> _Decision:
        own, allowance = standing.own, standing.allowance
        if own < int(allowance * self.policy.slow_down_from):
            return _Decision(granted=1)
        if standing.oldest is None:
            # Nothing of ours in the hour, yet no allowance: others used the tenant's budget.
            return _Decision(wait=min(self.policy.refresh_seconds, _LONGEST_WAIT_SECONDS))
        until_oldest_leaves = (standing.oldest + sql.WINDOW + sql.BUCKET - now).total_seconds()
        if own >= allowance:
            return _Decision(wait=min(max(until_oldest_leaves, 0.05), _LONGEST_WAIT_SECONDS))
        spacing = until_oldest_leaves / (allowance - own)
        last = state.last_request_at
        since_last = (now - last).total_seconds() if last is not None else spacing
        wait = spacing - since_last
        if wait <= 0:
            return _Decision(granted=1)
        return _Decision(wait=min(wait, _LONGEST_WAIT_SECONDS))

    def _refresh(self) -> None:
        assert self._reader is not None
        try:
            threshold, current = self._reader()
        except Exception as error:  # the budget keeps counting; the next refresh tries again
            log.warning("reading ThresholdInformation for %s failed: %s", self.key, error)
            return
        self.correct(threshold, current)

    def correct(self, threshold: int, current: int) -> None:
        """What Autotask counts now: the tenant's threshold and its requests in the hour."""
        now = self._clock.now()
        with self._lock:
            flushing, self._unflushed = self._unflushed, 0
        try:
            with transaction(self._sessions) as session:
                sql.lock_budget(session, self.key)
                sql.count(session, self.key, now, flushing)
                standing = sql.record_threshold(session, self.key, self.policy.share, threshold, current, now)
        except Exception:
            with self._lock:
                self._unflushed += flushing
            raise
        self._see(standing.own, standing.allowance)


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
        with self._lock:
            mine = list(self._budgets.values())
        for budget in mine:
            budget.flush()
        with transaction(self._sessions) as session:
            return sql.fractions(session, self.policy.share, self._clock.now())
