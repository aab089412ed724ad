"""Idempotency keys: an operation sent with `idempotency_key` is applied once. Sent again (a
retried webhook, an import run twice, a client that timed out) it is answered with the records
of the first time, marked replayed, and nothing changes; the same key with a different operation
is refused. The key is stored in the transaction that applied the operation, so a crash never
leaves an operation applied without its key or a key without its operation.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from contractsync.domain.operations import IDEMPOTENCY_KEY
from contractsync.ports.subscription_books import StoredKey, SubscriptionBooks
from contractsync.service.actor import Actor
from contractsync.service.errors import Conflict

if TYPE_CHECKING:
    from contractsync.service.operation_batch import Item

FIELD = IDEMPOTENCY_KEY  # checked where the command is built (`OperationCommand.build`)


def scope(actor: Actor) -> str:
    return actor.reseller_id or "*"


def fingerprint(subscription_id: str, body: dict[str, Any]) -> str:
    text = json.dumps([subscription_id, body], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def settle_known(books: SubscriptionBooks, items: list[Item]) -> None:
    """Mark the items whose key was applied before, or earlier in this batch, as replays."""
    keyed = [item for item in items if item.error is None and item.key is not None]
    if not keyed:
        return
    stored = books.stored_keys({i.key for i in keyed if i.key is not None})
    first: dict[tuple[str, str], Item] = {}
    for item in keyed:
        assert item.key is not None
        where = (scope(item.actor), item.key)
        row = stored.get(where)
        earlier = first.setdefault(where, item)
        if row is not None:
            same = row.body_hash == item.fingerprint
            item.replayed_record_ids = list(row.record_ids) if same else None
        elif earlier is not item:
            same = earlier.fingerprint == item.fingerprint
            item.replay_of = earlier if same else None
        else:
            continue
        if not same:
            item.error = Conflict(f"{FIELD} {item.key!r} was already used for a different operation")


def remember(books: SubscriptionBooks, items: list[Item], now: datetime) -> None:
    """Store the keys of the operations this transaction applied."""
    books.store_keys(
        [
            StoredKey(
                scope(item.actor), item.key, item.fingerprint, item.subscription_id, item.record_ids, now
            )
            for item in items
            if item.key is not None and item.error is None and not item.is_replay
        ]
    )
