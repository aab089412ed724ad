"""What the worker (`contractsync.delivery`) needs from the database, in its own terms.

A delivery step runs in one short transaction (`DeliveryStore.transaction`) and does everything
through the `DeliveryTransaction` it is handed: the lease of its contract service, the outbox row
it delivers, the ledger of what the PSA holds, the connection's pause. The SQL behind it lives in
`contractsync.adapters.db` (`delivery_store.py`, `leases.py`, `pauses.py`, `delivery_outcomes.py`,
`posted_move.py`); the composition root (`bootstrap.py`) builds the store the worker gets.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from contractsync.ports.outbox import Adjustment, LedgerEntry
from contractsync.ports.psa import PsaError

T = TypeVar("T")


@dataclass(frozen=True)
class ServiceClaim:
    connection_id: str
    contract_service_id: int
    contract_id: int
    #: Unique per claim (not per worker): a thread whose lease expired and was re-claimed,
    #: even by its own process, can no longer record anything for the service.
    token: str
    #: The one delivery allowed while the connection is paused (one PSA call).
    probe: bool = False


@dataclass(frozen=True)
class Lease:
    """A renewed lease, with the service's units-unknown flag read in the same statement."""

    units_unknown: bool


@dataclass(frozen=True)
class ContractPosting:
    """What contractsync knows of a contract's periods: where they start, how long they are, and
    through which date the PSA has posted them (None: nothing known posted)."""

    start_date: date
    period_months: int
    posted_through: date | None


class DeliveryTransaction(Protocol):
    """One worker transaction: everything a delivery step reads and writes."""

    # -- the lease of a contract service
    def claim_service(
        self, owner: str, now: datetime, lease_seconds: float, batch: int, busy: Collection[tuple[str, int]]
    ) -> ServiceClaim | None:
        """Lease one service with due work (not in `busy`)."""
        ...

    def renew_lease(self, claim: ServiceClaim, now: datetime, lease_seconds: float) -> Lease | None:
        """Extend our lease; None when it is no longer ours."""
        ...

    def heartbeat(self, claim: ServiceClaim, now: datetime, lease_seconds: float) -> bool:
        """Renew the lease and the row being sent under it; False when it is no longer ours."""
        ...

    def release_lease(self, claim: ServiceClaim) -> None: ...

    def abandon(self, claim: ServiceClaim) -> bool:
        """Give the service up mid-call (units unknown); True when a call was cut."""
        ...

    def set_units_unknown(self, claim: ServiceClaim, value: bool) -> None: ...

    # -- the outbox and the ledger
    def head_row(self, connection_id: str, contract_service_id: int, lock: bool = False) -> Adjustment | None:
        """The service's next row to deliver (due or not), read fresh; `lock`: held to the end."""
        ...

    def get(self, row_id: int) -> Adjustment: ...

    def ledger_for_service(self, connection_id: str, contract_service_id: int) -> list[LedgerEntry]: ...

    def units_on(self, connection_id: str, contract_service_id: int, day: date) -> int:
        """The units the PSA holds for the service on `day` (from the ledger)."""
        ...

    def price_in_force(
        self, connection_id: str, contract_service_id: int, day: date
    ) -> LedgerEntry | None: ...

    def replace_ledger_from(
        self, connection_id: str, contract_service_id: int, start: date, entries: list[LedgerEntry]
    ) -> None: ...

    def record_verification(
        self,
        connection_id: str,
        contract_service_id: int,
        window: tuple[date, date],
        units: list[tuple[date, date, int]],
        now: datetime,
    ) -> None:
        """Keep what a verification read, for the ledger self-check."""
        ...

    def mark_sending(
        self, row: Adjustment, owner: str, lease_until: datetime, request: dict[str, Any]
    ) -> bool:
        """The row goes `sending` (committed before the call); False when a re-plan superseded it."""
        ...

    def back_to_pending(self, row: Adjustment) -> None: ...

    def keep_response(self, row: Adjustment, response: dict[str, Any]) -> None: ...

    def record_sent(
        self,
        row: Adjustment,
        now: datetime,
        *,
        unit_change: int,
        autotask_id: int | None,
        response_json: dict[str, Any] | None,
        note: str | None = None,
        write_ledger: bool = True,
    ) -> None: ...

    def record_failed(
        self, row: Adjustment, now: datetime, error: str, kind: str, refusal: str | None = None
    ) -> None: ...

    def record_retry(
        self, row: Adjustment, now: datetime, error: str, kind: str, next_attempt_at: datetime
    ) -> None: ...

    def hold_for_pause(self, row: Adjustment, error: str, kind: str) -> None: ...

    # -- the connection's pause (credentials refused)
    def is_paused(self, connection_id: str) -> bool: ...

    def pause(
        self,
        connection_id: str,
        now: datetime,
        reason: str,
        *,
        probe_refused: bool,
        first_seconds: float,
        cap_seconds: float,
    ) -> None: ...

    def resume(self, connection_id: str, now: datetime) -> bool: ...

    # -- posted periods (SPEC §2)
    def lock_subscription(self, subscription_id: str) -> None:
        """Lock the subscription first, in the use cases' lock order (a move re-plans it)."""
        ...

    def contract_posting(self, connection_id: str, contract_id: int) -> ContractPosting | None: ...

    def learn_posted_through(self, connection_id: str, contract_id: int, refused: date) -> date | None:
        """The contract is posted at least through the period holding `refused`."""
        ...

    def move_past_posted(self, row: Adjustment, error: PsaError, now: datetime) -> bool:
        """Refused as posted: learn the period and move the row past it; False when it cannot."""
        ...

    def move_before_sending(self, row: Adjustment, posted_through: date, now: datetime) -> bool:
        """Known posted through `posted_through`: move the row past it unsent; False when it cannot."""
        ...

    # -- the ledger self-check
    def raise_drift_alerts(self, now: datetime) -> Sequence[object]:
        """An alert per contract service whose ledger no longer adds up; answer the drifts."""
        ...


class DeliveryStore(Protocol):
    def transaction(self, body: Callable[[DeliveryTransaction], T]) -> T:
        """`body` in one transaction that commits, run again after a transient failure (a
        deadlock, a serialization failure): each run must start from the same state."""
        ...


class SweepRuns(Protocol):
    """Who runs each connection's daily sweep (one worker per connection and day)."""

    def connection_zones(self) -> list[tuple[str, str]]:
        """(connection id, IANA time zone) of every connection."""
        ...

    def claim(self, connection_id: str, day: date, now: datetime) -> bool:
        """Claim the day's sweep of the connection; False when another worker has it."""
        ...

    def finish(self, connection_id: str, day: date, now: datetime) -> None: ...


class Waker(Protocol):
    def wait(self, timeout: float) -> None:
        """Return after `timeout` seconds, or earlier when new work may be there."""
        ...
