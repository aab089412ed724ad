"""Customers of a reseller and their provider margins (R5)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import Field, StrictBool, StringConstraints, TypeAdapter, WithJsonSchema

from contractsync.api import answers as A
from contractsync.api.deps import CurrentActor, Service
from contractsync.api.routes._common import JSON, IdPath, answers, given
from contractsync.api.types import VISIBLE, Body, EntityId, IsoDate, Name, Percent, Provider
from contractsync.domain.commands import SetProviderMargin
from contractsync.domain.directory_commands import CreateCustomer
from contractsync.service.validation import check

router = APIRouter(prefix="/v1/customers", tags=["customers"])

# The façade keeps at most 100 characters of a tenant id (its column is 100 wide).
TenantId = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=rf"^{VISIBLE}+$")]
# Pydantic documents the provider pattern as `patternProperties`, which lets any other key through
# in the document; the validator refuses them, so the document says so.
Margins = Annotated[
    dict[Provider, Percent],
    Field(max_length=20),
    WithJsonSchema(
        {
            "type": "object",
            "maxProperties": 20,
            "propertyNames": TypeAdapter(Provider).json_schema(),
            "additionalProperties": TypeAdapter(Percent).json_schema(),
        }
    ),
]


class NewCustomer(Body):
    id: EntityId
    reseller_id: EntityId
    name: Name
    tenant_id: TenantId | None = None
    provider_margins: Margins | None = None


class ProviderMargin(Body):
    margin_percent: Percent
    effective_date: IsoDate | None = None
    preview: StrictBool = False


@router.post("", status_code=201, response_model=None, responses=answers(A.Customer, 201))
def create_customer(body: NewCustomer, actor: CurrentActor, service: Service) -> JSON:
    return service.create_customer(actor, check(lambda: CreateCustomer.build(**given(body))))


@router.get("", response_model=None, responses=answers(list[A.Customer]))
def list_customers(actor: CurrentActor, service: Service) -> list[JSON]:
    return service.list_customers(actor)


@router.put(
    "/{customer_id}/provider-margins/{provider}",
    response_model=None,
    responses=answers(list[A.OperationRecord]),
)
def set_provider_margin(
    customer_id: IdPath,
    provider: Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{0,31}$")],
    body: ProviderMargin,
    actor: CurrentActor,
    service: Service,
) -> list[JSON]:
    """R5: re-prices the customer's mapped subscriptions; answers the operation records."""
    command = check(
        lambda: SetProviderMargin.build(
            body.margin_percent, effective_date=body.effective_date, preview=body.preview
        )
    )
    return service.set_provider_margin(actor, customer_id, provider, command)
