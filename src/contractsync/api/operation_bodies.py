"""`POST /v1/subscriptions/{id}/operations` bodies: one model per operation type (API.md), and
the domain command each one asks for (`command_of`).

A discriminated union on `type`, so an unknown type or a field of another type is refused with
the field named, before the façade sees anything. The models are the document's view of the
domain's commands (`contractsync.domain.operations`): the same fields (a unit test holds them
to it), with the bounds of `contractsync.domain.bounds` written into the schema; the command is
built from the validated model's values by the domain's one reader, which also checks what a
schema cannot (date ranges, control characters).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictBool, StringConstraints

from contractsync.api.types import (
    BillingCycle,
    Body,
    EntityId,
    ExternalId,
    Flag,
    IsoDate,
    Name,
    Percent,
    PositiveQuantity,
    Price,
    Quantity,
    Term,
)
from contractsync.domain.bounds import IDEMPOTENCY_KEY_MAX_LENGTH
from contractsync.domain.operations import IDEMPOTENCY_KEY, InvalidInput, OperationCommand
from contractsync.service.errors import Invalid

IdempotencyKey = Annotated[
    str, StringConstraints(min_length=1, max_length=IDEMPOTENCY_KEY_MAX_LENGTH, pattern=r"^[\x20-\x7e]+$")
]


class _Operation(Body):
    effective_date: IsoDate | None = None  # default: today in the connection's time zone
    preview: StrictBool = False
    # Sent again with the same key, the operation is answered from the first time, not re-applied.
    idempotency_key: IdempotencyKey | None = None


class UpdateQuantity(_Operation):
    type: Literal["update_quantity"]
    quantity: Quantity


class UpdatePriceMargin(_Operation):
    type: Literal["update_price_margin"]
    margin_percent: Percent | None  # required; null removes the custom margin


class Cancel(_Operation):
    type: Literal["cancel"]


class Suspend(_Operation):
    type: Literal["suspend"]


class Reactivate(_Operation):
    type: Literal["reactivate"]


class UpdateBillingCycle(_Operation):
    type: Literal["update_billing_cycle"]
    billing_cycle: BillingCycle


class UpdateFriendlyName(_Operation):
    type: Literal["update_friendly_name"]
    friendly_name: Name


class UpdateAutoRenew(_Operation):
    type: Literal["update_auto_renew"]
    auto_renew: Flag


class Renew(_Operation):
    type: Literal["renew"]
    end_date: IsoDate
    quantity: Quantity | None = None
    list_price: Price | None = None
    offer_id: ExternalId | None = None
    term: Term | None = None
    billing_cycle: BillingCycle | None = None


class Expire(_Operation):
    type: Literal["expire"]


class Upgrade(_Operation):
    type: Literal["upgrade"]
    target_subscription_id: EntityId
    quantity: PositiveQuantity


class ChangeReseller(_Operation):
    type: Literal["change_reseller"]
    reseller_id: EntityId
    customer_id: EntityId


AnyOperation = (
    UpdateQuantity
    | UpdatePriceMargin
    | Cancel
    | Suspend
    | Reactivate
    | UpdateBillingCycle
    | UpdateFriendlyName
    | UpdateAutoRenew
    | Renew
    | Expire
    | Upgrade
    | ChangeReseller
)
OperationBody = Annotated[AnyOperation, Field(discriminator="type")]

_OPTIONS = {"type", "effective_date", "preview", IDEMPOTENCY_KEY}


def command_of(body: AnyOperation) -> OperationCommand:
    """The command a validated body asks for: exactly the fields the client sent (null included)."""
    given = {name: getattr(body, name) for name in body.model_fields_set - _OPTIONS}
    try:
        return OperationCommand.build(
            body.type,
            effective_date=body.effective_date,
            preview=body.preview,
            idempotency_key=body.idempotency_key,
            **given,
        )
    except InvalidInput as error:
        raise Invalid(str(error)) from None
