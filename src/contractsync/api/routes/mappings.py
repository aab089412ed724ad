"""Mappings: customer ↔ Autotask company (mapped only to a company Autotask has; unmapped and
remapped, each recorded), subscription ↔ contract + contract service; X4 suggestions for unmapped
subscriptions, by service SKU or name, accepted one by one or in bulk."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import Field

from contractsync.api import answers as A
from contractsync.api.deps import CurrentActor, Service
from contractsync.api.routes._common import JSON, IdPath, answers, dump, given
from contractsync.api.types import Body, EntityId, PsaId
from contractsync.domain.mapping_commands import MapCustomer, MapSubscription, RemapCustomer
from contractsync.domain.suggestion_commands import AcceptSubscriptionSuggestions, choose
from contractsync.service.validation import check

router = APIRouter(prefix="/v1/mappings", tags=["mappings"])


class CustomerMapping(Body):
    customer_id: EntityId
    connection_id: EntityId
    company_id: PsaId


class SubscriptionMapping(Body):
    subscription_id: EntityId
    connection_id: EntityId
    contract_id: PsaId
    service_id: PsaId
    contract_service_id: PsaId | None = None


class CustomerRemap(Body):
    connection_id: EntityId
    company_id: PsaId


class SuggestedSubscription(Body):
    subscription_id: EntityId
    contract_id: PsaId
    service_id: PsaId
    #: null: a new service line on the contract
    contract_service_id: PsaId | None = None


class AcceptSubscriptions(Body):
    connection_id: EntityId
    subscriptions: Annotated[list[SuggestedSubscription], Field(min_length=1, max_length=5000)]


ConnectionQuery = Annotated[str | None, Query(min_length=1, max_length=100)]


@router.post("/customers", status_code=201, response_model=None, responses=answers(A.OperationRecord, 201))
def map_customer(body: CustomerMapping, actor: CurrentActor, service: Service) -> JSON:
    """Answers the CreateConnectionCustomerMapping record (with `company_name`). A company id
    Autotask does not have as a customer company is refused (422), nothing stored."""
    return service.map_customer_to_company(actor, check(lambda: MapCustomer.build(**given(body))))


@router.delete("/customers/{customer_id}", response_model=None, responses=answers(A.OperationRecord))
def unmap_customer(
    customer_id: IdPath, actor: CurrentActor, service: Service, connection_id: ConnectionQuery = None
) -> JSON:
    """Forget the customer's Autotask company (on `connection_id`, by default the connection it is
    mapped on). Its subscriptions keep their mappings and go on syncing to their contract services
    (unmap them one by one to stop). Answers the audit record, whose reason says so, with the actor."""
    return service.unmap_customer(actor, customer_id, connection_id)


@router.put("/customers/{customer_id}", response_model=None, responses=answers(A.OperationRecord))
def remap_customer(customer_id: IdPath, body: CustomerRemap, actor: CurrentActor, service: Service) -> JSON:
    """Move a mapped customer to another Autotask company (which must exist and not be mapped to
    another customer). Its subscriptions keep their contract services. Answers the audit record."""
    command = check(lambda: RemapCustomer.build(customer_id=customer_id, **given(body)))
    return service.remap_customer(actor, command)


@router.post(
    "/subscriptions", status_code=201, response_model=None, responses=answers(A.OperationRecord, 201)
)
def map_subscription(body: SubscriptionMapping, actor: CurrentActor, service: Service) -> JSON:
    """Aligns the contract service to the subscription; answers the mapping's operation record."""
    return service.map_subscription(actor, check(lambda: MapSubscription.build(**given(body))))


@router.get("/subscription-suggestions", response_model=None, responses=answers(None))
def subscription_suggestions(connection_id: Annotated[str, Query(min_length=1, max_length=100)],
                             actor: CurrentActor, service: Service) -> JSON:  # fmt: skip
    """X4: {connection_id, subscriptions: [{subscription_id, contract_id, service_id,
    contract_service_id, matched_by}], subscriptions_skipped: [{subscription_id, reason}]} for the
    live unmapped subscriptions of mapped customers: the one contract service, on a contract of
    the customer's company running today, whose service has the offer's SKU, else its name."""
    return service.subscription_suggestions(actor, connection_id)


@router.post("/subscription-suggestions/accept", response_model=None, responses=answers(None))
def accept_subscription_suggestions(body: AcceptSubscriptions, actor: CurrentActor, service: Service) -> JSON:
    """Map each chosen suggestion; each answered `mapped`, `pending` (its new contract service not
    created in Autotask yet: mapped once it is) or `refused` with the reason (a mapped
    subscription or contract service is never remapped; one refusal does not stop the others)."""
    chosen = [
        choose(dump(item), MapSubscription.build, connection_id=body.connection_id, **given(item))
        for item in body.subscriptions
    ]
    command = check(
        lambda: AcceptSubscriptionSuggestions.build(connection_id=body.connection_id, subscriptions=chosen)
    )
    return {"subscriptions": service.accept_subscription_suggestions(actor, command)}


@router.delete(
    "/subscriptions/{subscription_id}", status_code=204, response_class=Response, responses=answers(None, 204)
)
def unmap_subscription(subscription_id: IdPath, actor: CurrentActor, service: Service) -> Response:
    service.unmap_subscription(actor, subscription_id)
    return Response(status_code=204)
