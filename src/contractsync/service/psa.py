"""The PSA port: what the worker and the use cases need from a PSA, in neutral terms.

The Autotask adapter implements it over REST; tests use a fake that behaves like SPEC §3.
Every failure is one of the typed `PsaError`s below, so the worker can classify an outcome as
succeeded, failed for sure (retryable or final) or unknown (verify before sending anything else).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class AdjustmentRequest:
    """One create-only contract service adjustment, as Autotask takes it."""

    contract_id: int
    contract_service_id: int
    effective_date: date
    unit_change: int
    adjusted_unit_price: Decimal
    adjusted_unit_cost: Decimal


@dataclass(frozen=True)
class ServiceUnitsPeriod:
    """One row of Autotask's ContractServiceUnits: a period of a contract service."""

    contract_service_id: int
    start_date: date
    end_date: date
    units: int
    price: Decimal
    cost: Decimal
    posted: bool


@dataclass(frozen=True)
class UnitsRead:
    """ContractServiceUnits rows of many contract services, and how many requests it took."""

    periods: list[ServiceUnitsPeriod]
    requests: int


class ErrorKind(enum.StrEnum):
    AUTH = "auth"  # bad credentials: final until someone fixes the connection
    REJECTED = "rejected"  # a business or validation rejection: final, Autotask's message kept
    NOT_FOUND = "not_found"  # unknown id: final
    THROTTLED = "throttled"  # HTTP 429 / budget exhausted: retry later, nothing was applied
    THREAD_THRESHOLD = "thread_threshold"  # more than 3 concurrent requests: retry, not applied
    SERVER_ERROR = "server_error"  # 5xx after the request reached Autotask: outcome unknown
    TIMEOUT_BEFORE_SEND = "timeout_before_send"  # connect failed: retry, not applied
    TIMEOUT_AFTER_SEND = "timeout_after_send"  # no answer: outcome unknown


#: Kinds after which the request may or may not have been applied (verify by reading units).
UNKNOWN_OUTCOME_KINDS = frozenset({ErrorKind.SERVER_ERROR, ErrorKind.TIMEOUT_AFTER_SEND})
#: Kinds that will not get better by retrying.
FINAL_KINDS = frozenset({ErrorKind.AUTH, ErrorKind.REJECTED, ErrorKind.NOT_FOUND})


class PsaError(Exception):
    """A PSA call that did not succeed. `message` never contains a secret."""

    def __init__(self, kind: ErrorKind, message: str, status_code: int | None = None) -> None:
        super().__init__(f"{kind.value}: {message}")
        self.kind = kind
        self.message = message
        self.status_code = status_code

    @property
    def outcome_unknown(self) -> bool:
        return self.kind in UNKNOWN_OUTCOME_KINDS

    @property
    def final(self) -> bool:
        return self.kind in FINAL_KINDS


class PsaConnector(Protocol):
    """The calls delivery needs. Implementations raise `PsaError` and nothing else on failure."""

    def create_adjustment(self, request: AdjustmentRequest) -> int:
        """Create the adjustment; answer Autotask's new id."""
        ...

    def service_units(self, contract_service_id: int, start: date, end: date) -> list[ServiceUnitsPeriod]:
        """ContractServiceUnits rows of one contract service that overlap [start, end]."""
        ...


@runtime_checkable
class PostedPeriodReader(Protocol):
    """A PSA that can say, before anything is sent, which contract periods it has posted."""

    def posted_through(self, contract_id: int, since: date) -> date | None:
        """The last day of the contract's posted periods ending on or after `since`, or None."""
        ...
