"""The audit log: connection operation records, newest first, and the F1 retry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from contractsync.api import answers as A
from contractsync.api.deps import CurrentActor, Service
from contractsync.api.routes._common import JSON, OperationIdPath, PageQuery, PageSizeQuery, answers
from contractsync.api.types import OperationStatus, OperationTypeName

router = APIRouter(prefix="/v1/operations", tags=["operations"])


@router.get("", response_model=None, responses=answers(A.OperationPage))
def list_operations(
    actor: CurrentActor,
    service: Service,
    subscription_id: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    status: OperationStatus | None = None,
    type: OperationTypeName | None = None,
    page: PageQuery = 1,
    page_size: PageSizeQuery = 50,
) -> JSON:
    return service.list_operations(
        actor, subscription_id=subscription_id, status=status, type=type, page=page, page_size=page_size
    )


@router.get("/{operation_id}", response_model=None, responses=answers(A.OperationRecord))
def get_operation(operation_id: OperationIdPath, actor: CurrentActor, service: Service) -> JSON:
    return service.get_operation(actor, operation_id)


@router.post("/{operation_id}/retry", response_model=None, responses=answers(A.OperationRecord))
def retry_operation(operation_id: OperationIdPath, actor: CurrentActor, service: Service) -> JSON:
    """F1: send a failed record again (409 when a later adjustment was sent already)."""
    return service.retry_operation(actor, operation_id)
