"""`BatchCommand`: many subscription operations in order, in one transaction, as a caller asks.

What the façade's `apply_operations` takes from the API (built from its validated body), the CLI
(a file) and the Partner Center import alike. Each entry is an `OperationCommand` on a
subscription, read by the same rules as a single operation. An entry that cannot be read is kept
with its reason (`malformed`): whether it refuses the whole batch depends on its subscription
(an unknown one is answered `refused`, as a well-formed operation on it would be), which only the
use case knows. What is wrong with the batch itself (its options, the list, an entry's
`subscription_id`) raises `InvalidBatch` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from contractsync.domain.bounds import MAX_BATCH_OPERATIONS, control_character
from contractsync.domain.operations import InvalidInput, OperationCommand

BATCH_FIELDS = frozenset({"operations", "preview", "atomic"})


class InvalidBatch(InvalidInput):
    """The batch cannot be read at all; `field` names where (None: the body itself, `preview`)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class BatchEntry:
    """One operation of a batch: on `subscription_id`, the `command` asked for, or why it could
    not be read (`malformed`, with the `type` as given)."""

    subscription_id: str
    command: OperationCommand | None
    malformed: InvalidInput | None = None
    type: object = None

    @classmethod
    def read(cls, index: int, entry: object) -> BatchEntry:
        """`operations[index]` of an API.md batch body: the operations body plus `subscription_id`."""
        where = f"operations[{index}]"
        if not isinstance(entry, Mapping):
            raise InvalidBatch(f"{where} must be a JSON object", where)
        subscription_id = entry.get("subscription_id")
        if not isinstance(subscription_id, str) or not subscription_id:
            raise InvalidBatch(f"{where}.subscription_id is required", f"{where}.subscription_id")
        if control_character(subscription_id) is not None:  # NUL would fail on PostgreSQL
            message = f"{where}.subscription_id must not contain control characters"
            raise InvalidBatch(message, f"{where}.subscription_id")
        if "preview" in entry:
            raise InvalidBatch(f"{where}.preview: preview applies to the whole batch", f"{where}.preview")
        body = {k: v for k, v in entry.items() if k != "subscription_id"}
        try:
            return cls(subscription_id, OperationCommand.from_json(body))
        except InvalidInput as error:
            return cls(subscription_id, None, malformed=error, type=body.get("type"))


@dataclass(frozen=True)
class BatchCommand:
    """The operations in order; `preview` stores and sends nothing (X2); `atomic`: one refusal
    refuses them all."""

    entries: tuple[BatchEntry, ...]
    preview: bool = False
    atomic: bool = False

    @classmethod
    def read(cls, operations: object, *, preview: object = False, atomic: object = False) -> BatchCommand:
        """From the parts of a batch body (the API's validated model, a CLI file)."""
        if not isinstance(preview, bool):
            raise InvalidBatch("preview must be true or false")
        if not isinstance(atomic, bool):
            raise InvalidBatch("atomic must be true or false", "atomic")
        if not isinstance(operations, Sequence) or isinstance(operations, str | bytes):
            operations = ()  # refused below, as an empty list
        if not 1 <= len(operations) <= MAX_BATCH_OPERATIONS:
            raise InvalidBatch(
                f"operations must be a list of 1 to {MAX_BATCH_OPERATIONS} operations", "operations"
            )
        entries = tuple(BatchEntry.read(i, entry) for i, entry in enumerate(operations))
        return cls(entries, preview, atomic)

    @classmethod
    def from_json(cls, body: object) -> BatchCommand:
        """From the API.md body `{operations: [{subscription_id, type, …}], preview?, atomic?}`."""
        if not isinstance(body, Mapping):
            raise InvalidBatch("the body must be a JSON object")
        unknown = sorted(set(body) - BATCH_FIELDS)
        if unknown:
            raise InvalidBatch(f"{unknown[0]} is not a known field", unknown[0])
        operations = body.get("operations")
        return cls.read(operations, preview=body.get("preview", False), atomic=body.get("atomic", False))
