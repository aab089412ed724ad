"""Subscriptions, their lifecycle operations, and the paged list with sync state."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi import Body as RequestBody
from fastapi.responses import JSONResponse
from pydantic import model_validator

from contractsync.api import answers as A
from contractsync.api.deps import CurrentActor, Service
from contractsync.api.operation_bodies import OperationBody, command_of
from contractsync.api.routes._common import JSON, IdPath, PageQuery, PageSizeQuery, answers
from contractsync.api.types import (
    BillingCycle,
    Body,
    DiscountPercent,
    EntityId,
    ExternalId,
    Flag,
    IsoDate,
    Name,
    OfferKind,
    Percent,
    Price,
    Quantity,
    SyncBadge,
    Term,
)
from contractsync.domain.commands import CreateSubscription
from contractsync.service.validation import check

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])


class Promotion(Body):
    id: ExternalId
    discount_percent: DiscountPercent


class NewSubscription(Body):
    id: EntityId
    customer_id: EntityId
    offer_id: ExternalId
    offer_name: Name
    kind: OfferKind
    quantity: Quantity
    term: Term
    billing_cycle: BillingCycle
    start_date: IsoDate
    end_date: IsoDate
    auto_renew: Flag
    list_price: Price
    friendly_name: Name | None = None
    promotion: Promotion | None = None
    price_margin_percent: Percent | None = None

    @model_validator(mode="after")
    def _term_in_order(self) -> NewSubscription:
        # ISO dates compare correctly as text.
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


def new_subscription(body: NewSubscription) -> CreateSubscription:
    """The command the validated body asks for (the domain reads it again: control characters)."""
    given = {name: getattr(body, name) for name in NewSubscription.model_fields}
    promotion = body.promotion
    given["promotion"] = (
        None if promotion is None else {"id": promotion.id, "discount_percent": promotion.discount_percent}
    )
    return check(lambda: CreateSubscription.build(**given))


@router.post("", status_code=201, response_model=None, responses=answers(A.Subscription, 201))
def create_subscription(body: NewSubscription, actor: CurrentActor, service: Service) -> JSON:
    return service.create_subscription(actor, new_subscription(body))


@router.get("", response_model=None, responses=answers(A.SubscriptionPage))
def list_subscriptions(
    actor: CurrentActor,
    service: Service,
    customer_id: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    sync_state: SyncBadge | None = None,
    page: PageQuery = 1,
    page_size: PageSizeQuery = 50,
) -> JSON:
    return service.list_subscriptions(
        actor, customer_id=customer_id, sync_state=sync_state, page=page, page_size=page_size
    )


@router.get("/{subscription_id}", response_model=None, responses=answers(A.Subscription))
def get_subscription(subscription_id: IdPath, actor: CurrentActor, service: Service) -> JSON:
    return service.get_subscription(actor, subscription_id)


@router.post(
    "/{subscription_id}/operations",
    response_model=None,
    responses=answers(list[A.OperationRecord]),
)
async def apply_operation(
    subscription_id: IdPath,
    body: Annotated[OperationBody, RequestBody()],
    actor: CurrentActor,
    service: Service,
) -> JSONResponse:
    """One lifecycle operation; answers the connection operation records it created
    (`preview: true`: the records it would create; nothing is stored or sent)."""
    # The hot path of the API. Async: the request waits for its group commit on the event loop
    # instead of holding a thread (the group's own thread runs the transaction). The records are
    # JSON already: answered as they are, without FastAPI's generic encoder walking them.
    records = await asyncio.wrap_future(service.submit_operation(actor, subscription_id, command_of(body)))
    return JSONResponse(records)
