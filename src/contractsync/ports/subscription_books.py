"""What applying operations reads and writes: the slice of subscription state an operation touches
with its contract services' books, the audit records and outbox rows it plans (the transactional
outbox, with the ledger of what the PSA holds), idempotency keys, and the F1 requeue.

One repository on the unit of work (`uow.books`), in the unit's transaction. SQL:
`adapters/db/subscription_books.py` over `state_store`, `operation_store`, `outbox` and
`keys_table`; in memory: `adapters/memory/subscription_books.py`. Both give the same answers
(`tests/integration/service/test_repositories_agree.py`, `test_use_cases_agree.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from contractsync.domain.engine import SyncState
from contractsync.domain.model import Contract

#: Records and outbox rows the engine creates get ids from here on, until the store assigns real ones.
TEMP_BASE = 1 << 40


class LostRace(Exception):
    """A concurrent transaction changed what this one read (a subscription's version, an outbox row
    the worker started sending, an idempotency key stored meanwhile): run the use case again."""


class RetryRefused(Exception):
    """The operation cannot be retried (F1); the message says why."""

    @classmethod
    def sent_later(cls, blocker: int, contract_service_id: int) -> RetryRefused:
        return cls(
            f"adjustment {blocker} for contract service {contract_service_id} was sent after this one "
            "failed; it already carries the net effect, so this operation cannot be retried"
        )


@dataclass(frozen=True)
class StoredKey:
    """An idempotency key, stored in the transaction that applied its operation."""

    scope: str
    key: str
    body_hash: str
    subscription_id: str
    record_ids: list[int]
    created_at: datetime


class OperationContext(Protocol):
    """Everything around the subscriptions an operation touches, read (and locked) at once."""

    #: subscription rows by id (`.id`, `.reseller_id`, …)
    subscriptions: dict[str, Any]
    #: connection rows by id (`.timezone`, …)
    connections: dict[str, Any]
    #: subscription → the connection the operation runs on (the mapped one, else the reseller's first)
    connection_of: dict[str, str | None]


class LoadedState(Protocol):
    """The domain state an operation runs on, and what saving it wrote (to answer without reading)."""

    state: SyncState
    #: the audit records `save` wrote, by id, as rows with the record's fields
    written_records: dict[int, Any]
    #: the outbox rows `save` wrote, as rows with the adjustment's fields
    written_adjustments: list[Any]


class SubscriptionBooks(Protocol):
    def read_context(self, subscription_ids: Iterable[str]) -> OperationContext:
        """Lock the subscriptions, then read them with their customers, resellers, mappings,
        connections, contracts and books (one statement in SQL)."""
        ...

    def read_subscriptions(self, subscription_ids: Iterable[str]) -> Mapping[str, Any]:
        """Subscription rows by id, locked until the transaction ends."""
        ...

    def load(
        self,
        connection_id: str | None,
        subscription_ids: Iterable[str] = (),
        customer_ids: Iterable[str] = (),
        reseller_ids: Iterable[str] = (),
        *,
        locked_rows: Mapping[str, Any] | None = None,
        connection_row: Any = None,
        context: OperationContext | None = None,
    ) -> LoadedState:
        """The state for an operation; rows the caller read in this transaction are not read again."""
        ...

    def save(
        self,
        loaded: LoadedState,
        operation_key: str,
        now: datetime,
        actor: str | None = None,
        actors: Mapping[int, str | None] | None = None,
    ) -> list[int]:
        """Write what the engine changed (subscriptions with history, customers, released and new
        mappings, records, manual actions, alerts, books, outbox rows); the new records' ids, in order.
        `LostRace` when a subscription changed since it was loaded."""
        ...

    # --- mapping a subscription ------------------------------------------------------------------
    def contract(self, connection_id: str, contract_id: int) -> Contract | None:
        """The contract's dates, period type and posted periods, if kept already."""
        ...

    def keep_contract(self, connection_id: str, contract: Contract) -> None:
        """Keep the contract (as the PSA answered it), unless it is kept already."""
        ...

    def mapped_to(self, connection_id: str, contract_service_id: int) -> str | None:
        """The subscription mapped to the contract service, if one is."""
        ...

    def load_service(
        self, loaded: LoadedState, contract_id: int, contract_service_id: int, service_start: date
    ) -> None:
        """Add a kept contract and a contract service's book (its intents, what the PSA holds, its
        unsent rows) to a loaded state: the service a subscription is about to be mapped to."""
        ...

    def savepoint(self) -> AbstractContextManager[object]:
        """A nested transaction: an exception inside undoes only what was done inside."""
        ...

    # --- what a margin change or a sweep covers ------------------------------------------------
    def customer_subscriptions(self, customer_id: str) -> dict[str | None, list[str]]:
        """The customer's subscription ids by the connection they are mapped through (None: unmapped)."""
        ...

    def ending_before(self, day: date, reseller_id: str | None = None) -> dict[str | None, list[str]]:
        """Live subscriptions whose term ends before `day` (of one reseller or all), by connection."""
        ...

    def connection_reseller(self, connection_id: str) -> str: ...

    # --- idempotency keys -----------------------------------------------------------------------
    def stored_keys(self, keys: Iterable[str]) -> dict[tuple[str, str], StoredKey]:
        """Stored keys by (scope, key)."""
        ...

    def store_keys(self, keys: list[StoredKey]) -> None:
        """`LostRace` when another transaction stored one of them meanwhile."""
        ...

    # --- F1 ---------------------------------------------------------------------------------------
    def requeue_failed(self, operation_id: int, now: datetime) -> list[int]:
        """A failed record's failed outbox rows back to pending (the record too); their ids.
        `RetryRefused` when the record is not failed, has no row, or a later row of the same
        contract service was sent (it already carries the net effect)."""
        ...
