"""Single operations that arrive together share one transaction (group commit).

Every `POST /v1/subscriptions/{id}/operations` queues its operation. When no group is running,
the caller leads the next one: it takes every operation queued so far (its own among them) and
applies them, in arrival order, as one batch through
`operation_batch`: one state load, one save, one commit. Each caller returns only after the
transaction holding its operation committed, with its own records or its own error, exactly as
if it had been alone. Alone, an operation is a batch of one; under load, one commit and one round
of statements serve many.

Under load the callers a group answers send their next operation at once. Started on the first
of them to come back, the next group would hold only those quick enough, and the others would wait
for a group of their own, each paying the group's fixed cost (its round trips, its statements).
After a group of `GATHER_FROM` or more, the next one therefore waits up to `gather_seconds` (2 ms)
for the queue to hold every caller it knows of: those the last group answered and those that
queued while it ran. With 32 clients in one process, cohorts of 16 that would alternate merge
into groups of 32; with 16 in each of `serve --workers 2`, a group starts as soon as its 16 are
back instead of waiting out the 2 ms for callers that are not coming (measured through
`bench_operations.py`: +12-17 % operations/s, the machine ~80 % -> ~92 % busy; benchmarks/README,
session 16). Callers that come alone (the last group was smaller, or answered more than
`GATHER_WITHIN` ago) never wait.

A previewed operation runs alone in a transaction that is rolled back. A group that deadlocks or
hits a serialization failure runs again as a whole (jittered, bounded: `UnitOfWorkFactory.retrying`); its
callers just wait a little longer. If a group fails for an unexpected reason, each of its
operations is applied alone, so that one cannot fail the others.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from contractsync.domain.operations import OperationCommand
from contractsync.service import operation_batch
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext
from contractsync.service.errors import ServiceError
from contractsync.service.retries import retried, with_retries

JSON = dict[str, Any]

#: A group this large makes the next one gather (see the module's docstring) …
GATHER_FROM = 8
#: … for at most this long …
GATHER_SECONDS = 0.002
#: … if it starts within this long of the last group's answers (a caller that comes later is alone)
GATHER_WITHIN = 0.05


@dataclass
class _Request:
    item: operation_batch.Item
    done: bool = False
    records: list[JSON] = field(default_factory=list)
    error: BaseException | None = None
    #: a caller that does not wait in a thread (`submit`) is answered here
    future: Future[list[JSON]] | None = None

    def finish(self) -> None:
        self.done = True
        if self.future is None:
            return
        if self.error is not None:
            self.future.set_exception(self.error)
        else:
            self.future.set_result(self.records)


class GroupCommit:
    def __init__(self, ctx: ServiceContext, max_group: int = operation_batch.MAX_OPERATIONS) -> None:
        self._ctx = ctx
        self._max_group = max_group
        self._queue: deque[_Request] = deque()
        lock = threading.Lock()
        self._changed = threading.Condition(lock)  # guards the queue, `_busy` and `_leader_called`
        self._grown = threading.Condition(lock)  # an operation joined the queue (a gathering group waits)
        self._busy = False  # a group is gathering or its transaction is running
        self._last_group = 0  # the size of the group that ran last …
        self._stayed = 0  # … the operations queued while it ran …
        self._ended = 0.0  # … and when it answered its callers (`clock`)
        self.clock: Callable[[], float] = time.monotonic
        self.gather_seconds = GATHER_SECONDS
        self._leader_called = False  # the leader thread is asked to run the queued operations
        self._leader = ThreadPoolExecutor(1, thread_name_prefix="group-commit")
        self._aside = ThreadPoolExecutor(4, thread_name_prefix="operation-preview")
        self.groups = 0  # transactions committed …
        self.operations = 0  # … and the operations they held
        #: told the size of every committed group (the API's metrics)
        self.observer: Callable[[int], None] | None = None

    def submit(self, actor: Actor, subscription_id: str, command: OperationCommand) -> Future[list[JSON]]:
        """`apply`, answered through a future instead of in the calling thread: the API's event
        loop queues the operation and awaits it without a thread of its own per request. The
        group commit's leader thread runs the queued operations (a preview runs aside)."""
        if command.preview:
            return self._aside.submit(self.apply, actor, subscription_id, command)
        request = _Request(
            operation_batch.Item(0, subscription_id, command, actor, strict=False), future=Future()
        )
        with self._changed:
            self._queue.append(request)
            self._grown.notify()
            self._call_leader()
        assert request.future is not None
        return request.future

    def _call_leader(self) -> None:
        """(With `_changed` held.) Have the leader thread run the queue, unless a group is running:
        its end calls the leader again."""
        if not self._busy and not self._leader_called:
            self._leader_called = True
            self._leader.submit(self._lead)

    def _lead(self) -> None:
        with self._changed:
            self._leader_called = False
            while self._queue and not self._busy:
                self._run_next_group()

    def _run_next_group(self) -> None:
        """(With `_changed` held and no group running.) Run every operation queued so far, up to
        `max_group`, as one group; `_changed` is released meanwhile."""
        self._busy = True
        self._gather()
        group = [self._queue.popleft() for _ in range(min(len(self._queue), self._max_group))]
        self._last_group = len(group)
        for request in group:
            # From here on its future cannot be cancelled; one cancelled already (its caller
            # left) is applied all the same, as a caller that left a waiting thread would be.
            if request.future is not None and not request.future.set_running_or_notify_cancel():
                request.future = None
        self._changed.release()
        try:
            self._run(group)
        finally:
            with self._changed:  # counted before its callers are answered and can queue again
                self._stayed, self._ended = len(self._queue), self.clock()
            for request in group:
                request.finish()
            self._changed.acquire()
            self._busy = False
            self._changed.notify_all()

    def _gather(self) -> None:
        """(With the lock held.) Soon after a group of GATHER_FROM or more, wait up to
        `gather_seconds` for the queue to hold its callers and those that queued while it ran
        (at most a group's worth); the lock is released while waiting."""
        if self._last_group < GATHER_FROM or self.gather_seconds <= 0:
            return
        now = self.clock()
        if now - self._ended > GATHER_WITHIN:  # its callers had their time: these come alone
            return
        wanted = min(self._last_group + self._stayed, self._max_group)
        deadline = now + self.gather_seconds
        while len(self._queue) < wanted:
            left = deadline - self.clock()
            if left <= 0:
                return
            self._grown.wait(left)

    def apply(self, actor: Actor, subscription_id: str, command: OperationCommand) -> list[JSON]:
        if command.preview:
            return self._preview(actor, subscription_id, command)
        request = _Request(operation_batch.Item(0, subscription_id, command, actor, strict=False))
        with self._changed:
            self._queue.append(request)
            self._grown.notify()
            while not request.done:
                if self._busy:
                    self._changed.wait()
                    continue
                # Lead the next group: every operation queued so far, this one among them.
                self._run_next_group()
            if self._queue and any(r.future is not None for r in self._queue):
                self._call_leader()  # no thread of theirs waits to lead the next group
        if request.error is not None:
            raise request.error
        return request.records

    def waiting(self) -> int:
        """Operations queued for the next group."""
        with self._changed:
            return len(self._queue)

    def _run(self, group: list[_Request]) -> None:
        try:
            items = self._commit([request.item for request in group])
        except BaseException as error:
            if isinstance(error, Exception) and not isinstance(error, ServiceError) and len(group) > 1:
                for request in group:  # keep one operation's failure from failing the others
                    self._run([request])
            else:
                for request in group:
                    request.error = error
        else:
            for request, item in zip(group, items, strict=True):
                request.records, request.error = item.records, item.error

    def _commit(self, requested: list[operation_batch.Item]) -> list[operation_batch.Item]:
        def attempt() -> list[operation_batch.Item]:
            items = [item.fresh() for item in requested]
            with self._ctx.units() as uow:
                operation_batch.apply_items(self._ctx, uow, items, preview=False)
            return items

        items = with_retries(self._ctx.units, attempt)
        self.groups += 1
        self.operations += len(items)
        if self.observer is not None:
            self.observer(len(items))
        return items

    def _preview(self, actor: Actor, subscription_id: str, command: OperationCommand) -> list[JSON]:
        def attempt() -> operation_batch.Item:
            item = operation_batch.Item(0, subscription_id, command, actor, strict=False)
            with self._ctx.units(commit=False) as uow:
                operation_batch.apply_items(self._ctx, uow, [item], preview=True)
            return item

        item = retried(self._ctx.units, attempt)
        if item.error is not None:
            raise item.error
        return item.records
