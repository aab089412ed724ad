"""A neutral `ServiceTarget` as Autotask takes it: a create-only ContractServiceAdjustment whose
`unitChange` is the target's units less what Autotask held that day. Also reads Autotask's
refusal texts as the port's typed `Refusal`: the only place those texts are matched."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from contractsync.adapters.autotask.wire import format_date
from contractsync.ports.psa import Refusal, ServiceTarget

#: Autotask's answer to a second adjustment on one date ("Attempt to insert duplicate data ...").
DUPLICATE_MARKER = "duplicate data"
#: Autotask's answer to an adjustment in an approved-and-posted contract period.
POSTED_MARKER = "already approved and posted"
OUTSIDE_MARKER = "must be within the contract's start and end dates"
NEGATIVE_MARKER = "fewer than 0 units"

_REFUSALS = (
    (POSTED_MARKER, Refusal.POSTED_PERIOD),
    (DUPLICATE_MARKER, Refusal.DUPLICATE_DATE),
    (OUTSIDE_MARKER, Refusal.OUTSIDE_CONTRACT),
    (NEGATIVE_MARKER, Refusal.NEGATIVE_UNITS),
)


@dataclass(frozen=True)
class AdjustmentRequest:
    """One create-only contract service adjustment, as Autotask takes it."""

    contract_id: int
    contract_service_id: int
    effective_date: date
    unit_change: int
    adjusted_unit_price: Decimal
    adjusted_unit_cost: Decimal


def adjustment_for(target: ServiceTarget) -> AdjustmentRequest:
    """The adjustment that takes the service from what Autotask held to the target."""
    return AdjustmentRequest(
        contract_id=target.contract_id,
        contract_service_id=target.contract_service_id,
        effective_date=target.effective_date,
        unit_change=target.units - target.held_units,
        adjusted_unit_price=target.unit_price,
        adjusted_unit_cost=target.unit_cost,
    )


def adjustment_body(request: AdjustmentRequest) -> dict[str, Any]:
    """The ContractServiceAdjustments body (amounts as Decimal: the client writes them exactly)."""
    return {
        "contractID": request.contract_id,
        "contractServiceID": request.contract_service_id,
        "effectiveDate": format_date(request.effective_date),
        "unitChange": request.unit_change,
        "adjustedUnitPrice": request.adjusted_unit_price,
        "adjustedUnitCost": request.adjusted_unit_cost,
    }


def adjustment_record(request: AdjustmentRequest) -> dict[str, Any]:
    """`adjustment_body` as JSON data for the outbox row (amounts as text)."""
    return {
        name: str(value) if isinstance(value, Decimal) else value
        for name, value in adjustment_body(request).items()
    }


def refusal_of(text: str | None) -> Refusal | None:
    """The typed reason of one of Autotask's rejection texts; None when it is another one."""
    if not text:
        return None
    return next((refusal for marker, refusal in _REFUSALS if marker in text), None)
