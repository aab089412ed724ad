"""The PSA port: what the worker and the use cases need from a PSA, in neutral terms.

The worker hands the connector a `ServiceTarget` ("this contract service must hold these units,
price and cost from date D, and the PSA held U that day"); how that becomes a PSA request (for
Autotask: an adjustment with a `unitChange`) is the adapter's business. The Autotask adapter
implements the port over REST; tests use a fake that behaves like SPEC §3.
Every failure is one of the typed `PsaError`s below, so the worker can classify an outcome as
succeeded, failed for sure (retryable or final) or unknown (verify before sending anything else),
and a refusal the rules care about carries its typed `Refusal`, never a text to match.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class ServiceTarget:
    """What one contract service must hold from `effective_date` on, and what the PSA held that
    day (`held_units`, from our ledger of what it holds)."""

    contract_id: int
    contract_service_id: int
    effective_date: date
    units: int
    unit_price: Decimal
    unit_cost: Decimal
    held_units: int


@dataclass(frozen=True)
class TargetApplied:
    """The PSA's record of an applied target: its id and the change of units it recorded."""

    psa_id: int
    unit_change: int


@dataclass(frozen=True)
class ServiceUnitsPeriod:
    """One period of a contract service as the PSA holds it (Autotask: ContractServiceUnits)."""

    contract_service_id: int
    start_date: date
    end_date: date
    units: int
    price: Decimal
    cost: Decimal
    posted: bool


@dataclass(frozen=True)
class UnitsRead:
    """The periods of many contract services, and how many requests it took."""

    periods: list[ServiceUnitsPeriod]
    requests: int


class ErrorKind(enum.StrEnum):
    AUTH = "auth"  # bad credentials: final until someone fixes the connection
    REJECTED = "rejected"  # a business or validation rejection: final, the PSA's message kept
    NOT_FOUND = "not_found"  # unknown id: final
    THROTTLED = "throttled"  # HTTP 429 / budget exhausted: retry later, nothing was applied
    THREAD_THRESHOLD = "thread_threshold"  # more than 3 concurrent requests: retry, not applied
    SERVER_ERROR = "server_error"  # 5xx after the request reached the PSA: outcome unknown
    TIMEOUT_BEFORE_SEND = "timeout_before_send"  # connect failed: retry, not applied
    TIMEOUT_AFTER_SEND = "timeout_after_send"  # no answer: outcome unknown


class Refusal(enum.StrEnum):
    """Why the PSA refused a target, where the rules act on the reason (beside `ErrorKind.REJECTED`)."""

    #: the date lies in a period the PSA has approved and posted: it moves past it (SPEC §2)
    POSTED_PERIOD = "posted_period"
    #: the service already has a change on that date; after an unknown outcome usually our own
    DUPLICATE_DATE = "duplicate_date"
    #: the date lies outside the contract's dates
    OUTSIDE_CONTRACT = "outside_contract"
    #: the service would hold fewer than 0 units somewhere on its timeline
    NEGATIVE_UNITS = "negative_units"


#: Kinds after which the request may or may not have been applied (verify by reading units).
UNKNOWN_OUTCOME_KINDS = frozenset({ErrorKind.SERVER_ERROR, ErrorKind.TIMEOUT_AFTER_SEND})
#: Kinds that will not get better by retrying.
FINAL_KINDS = frozenset({ErrorKind.AUTH, ErrorKind.REJECTED, ErrorKind.NOT_FOUND})


class PsaError(Exception):
    """A PSA call that did not succeed. `message` never contains a secret; `refusal` says why a
    rejection was refused, when the adapter recognised the reason."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        status_code: int | None = None,
        refusal: Refusal | None = None,
    ) -> None:
        super().__init__(f"{kind.value}: {message}")
        self.kind = kind
        self.message = message
        self.status_code = status_code
        self.refusal = refusal

    @property
    def outcome_unknown(self) -> bool:
        return self.kind in UNKNOWN_OUTCOME_KINDS

    @property
    def final(self) -> bool:
        return self.kind in FINAL_KINDS


class PsaConnector(Protocol):
    """The calls delivery needs. Implementations raise `PsaError` and nothing else on failure."""

    def request_record(self, target: ServiceTarget) -> dict[str, Any]:
        """The request `apply_target` would send for `target`, as JSON data for the audit record
        (kept before the call). Never raises and never calls the PSA."""
        ...

    def apply_target(self, target: ServiceTarget) -> TargetApplied:
        """Make the contract service hold `target` from its date on."""
        ...

    def service_units(self, contract_service_id: int, start: date, end: date) -> list[ServiceUnitsPeriod]:
        """Periods of one contract service that overlap [start, end]."""
        ...


@runtime_checkable
class PostedPeriodReader(Protocol):
    """A PSA that can say, before anything is sent, which contract periods it has posted."""

    def posted_through(self, contract_id: int, since: date) -> date | None:
        """The last day of the contract's posted periods ending on or after `since`, or None."""
        ...


@runtime_checkable
class ExchangeLog(Protocol):
    """A PSA connector that keeps its calling thread's last exchange for the audit record."""

    def last_exchange_json(self) -> dict[str, Any] | None:
        """The last exchange (what was sent and received), redacted, as JSON data; None if none."""
        ...


class ContractServiceLine(Protocol):
    """A service on a contract, as the PSA lists it."""

    @property
    def id(self) -> int: ...

    @property
    def service_id(self) -> int: ...


class PsaContractServices(Protocol):
    """What mapping a subscription needs from the PSA: a contract's service lines, and a new one.
    Implementations raise `PsaError` and nothing else on failure."""

    def find_contract_services(self, contract_id: int) -> Sequence[ContractServiceLine]: ...

    def create_contract_service(
        self, contract_id: int, service_id: int, unit_price: Decimal, unit_cost: Decimal
    ) -> int:
        """A new service line on the contract (no units: units come from adjustments); its id."""
        ...
