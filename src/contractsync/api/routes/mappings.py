"""Mappings: customer ↔ Autotask company, subscription ↔ contract + contract service."""

from __future__ import annotations

from fastapi import APIRouter, Response

from contractsync.api import answers as A
from contractsync.api.deps import CurrentActor, Service
from contractsync.api.routes._common import JSON, IdPath, answers, dump
from contractsync.api.types import Body, EntityId, PsaId

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


@router.post("/customers", status_code=201, response_model=None, responses=answers(A.OperationRecord, 201))
def map_customer(body: CustomerMapping, actor: CurrentActor, service: Service) -> JSON:
    """Answers the CreateConnectionCustomerMapping record."""
    return service.map_customer(actor, dump(body))


@router.post(
    "/subscriptions", status_code=201, response_model=None, responses=answers(A.OperationRecord, 201)
)
def map_subscription(body: SubscriptionMapping, actor: CurrentActor, service: Service) -> JSON:
    """Aligns the contract service to the subscription; answers the mapping's operation record."""
    return service.map_subscription(actor, dump(body))


@router.delete(
    "/subscriptions/{subscription_id}", status_code=204, response_class=Response, responses=answers(None, 204)
)
def unmap_subscription(subscription_id: IdPath, actor: CurrentActor, service: Service) -> Response:
    service.unmap_subscription(actor, subscription_id)
    return Response(status_code=204)
