"""Autotask look-ups for mapping, read through the connection's connector."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from contractsync.api import answers as A
from contractsync.api.deps import CurrentActor, Service
from contractsync.api.routes._common import JSON, answers

router = APIRouter(prefix="/v1", tags=["mappings"])

ConnectionQuery = Annotated[str, Query(min_length=1, max_length=100)]
PsaIdQuery = Annotated[int, Query(ge=1, le=2**31 - 1)]


@router.get("/contracts", response_model=None, responses=answers(list[A.Contract]))
def search_contracts(
    connection_id: ConnectionQuery,
    actor: CurrentActor,
    service: Service,
    company_id: PsaIdQuery | None = None,
) -> list[JSON]:
    return service.search_contracts(actor, connection_id, company_id)


@router.get("/contract-services", response_model=None, responses=answers(list[A.ContractService]))
def search_contract_services(
    connection_id: ConnectionQuery, contract_id: PsaIdQuery, actor: CurrentActor, service: Service
) -> list[JSON]:
    return service.search_contract_services(actor, connection_id, contract_id)


@router.get("/services", response_model=None, responses=answers(list[A.Service]))
def search_services(
    connection_id: ConnectionQuery,
    actor: CurrentActor,
    service: Service,
    name: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> list[JSON]:
    return service.search_services(actor, connection_id, name)
