"""Single operations that arrive together share one transaction (group commit).

Every `POST /v1/subscriptions/{id}/operations` queues its operation. When no group is running,
the caller leads the next one: it takes every operation queued so far (its own among them) and
applies them, in arrival order, as one batch through
`operation_batch`: one state load, one save, one commit. Each caller returns only after the
transaction holding its operation committed, with its own records or its own error, exactly as
if it had been alone. Alone, an operation is a batch of one; under load, one commit and one round
of statements serve many.

A previewed operation runs alone in a transaction that is rolled back. A group that deadlocks or
hits a serialization failure runs again as a whole (jittered, bounded: `session.retrying`); its
callers just wait a little longer. If a group fails for an unexpected reason, each of its
operations is applied alone, so that one cannot fail the others.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from contractsync.service import operation_batch
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext
from contractsync.service.errors import Invalid, ServiceError
from contractsync.service.operating import preview_flag, retried, with_retries

JSON = dict[str, Any]


@dataclass
class _Request:
    item: operation_batch.Item
    done: bool = False
    records: list[JSON] = field(default_factory=list)
    error: BaseException | None = None


class GroupCommit:
    def __init__(self, ctx: ServiceContext, max_group: int = operation_batch.MAX_OPERATIONS) -> None:
        self._ctx = ctx
        self._max_group = max_group
        self._queue: deque[_Request] = deque()
        self._changed = threading.Condition()  # guards the queue and `_busy`
        self._busy = False  # a group's transaction is running
        self.groups = 0  # transactions committed …
        self.operations = 0  # … and the operations they held

    def apply(self, actor: Actor, subscription_id: str, body: JSON) -> list[JSON]:
        if not isinstance(body, dict):
            raise Invalid("the body must be a JSON object")
        if preview_flag(body):
            return self._preview(actor, subscription_id, body)
        request = _Request(operation_batch.Item(0, subscription_id, body, actor, strict=False))
        with self._changed:
            self._queue.append(request)
            while not request.done:
                if self._busy:
                    self._changed.wait()
                    continue
                # Lead the next group: every operation queued so far, this one among them.
                self._busy = True
                group = [self._queue.popleft() for _ in range(min(len(self._queue), self._max_group))]
                self._changed.release()
                try:
                    self._run(group)
                finally:
                    self._changed.acquire()
                    self._busy = False
                    self._changed.notify_all()
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
        finally:
            for request in group:
                request.done = True

    def _commit(self, requested: list[operation_batch.Item]) -> list[operation_batch.Item]:
        def attempt() -> list[operation_batch.Item]:
            items = [item.fresh() for item in requested]
            with self._ctx.unit_of_work() as uow:
                operation_batch.apply_items(self._ctx, uow.session, items, preview=False)
            return items

        items = with_retries(attempt)
        self.groups += 1
        self.operations += len(items)
        return items

    def _preview(self, actor: Actor, subscription_id: str, body: JSON) -> list[JSON]:
        body = {k: v for k, v in body.items() if k != "preview"}

        def attempt() -> operation_batch.Item:
            item = operation_batch.Item(0, subscription_id, body, actor, strict=False)
            with self._ctx.unit_of_work(commit=False) as uow:
                operation_batch.apply_items(self._ctx, uow.session, [item], preview=True)
            return item

        item = retried(attempt)
        if item.error is not None:
            raise item.error
        return item.records
