"""A batch of operations as the façade takes it (`BatchCommand`), read from what a caller has:
the API's validated body, a CLI file, an import's entries, or the API.md JSON body. What cannot
be read is `Invalid`, its `details` naming the field (`operations[2].subscription_id`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contractsync.domain.batch_command import BatchCommand, InvalidBatch
from contractsync.service.errors import Invalid

JSON = dict[str, Any]


def read_batch(operations: object, *, preview: object = False, atomic: object = False) -> BatchCommand:
    """The batch of `operations` (API.md entries: the operations body plus `subscription_id`)."""
    return _read(lambda: BatchCommand.read(operations, preview=preview, atomic=atomic))


def as_batch(batch: BatchCommand | JSON) -> BatchCommand:
    """A caller's batch as a command: a JSON body (API.md) is read by the same rules."""
    if isinstance(batch, BatchCommand):
        return batch
    return _read(lambda: BatchCommand.from_json(batch))


def _read(build: Callable[[], BatchCommand]) -> BatchCommand:
    try:
        return build()
    except InvalidBatch as error:
        raise Invalid(str(error), None if error.field is None else {"field": error.field}) from None
