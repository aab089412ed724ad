"""The audit log: connection operation records, newest first, and the F1 retry."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field, StrictBool

from contractsync.api import answers as A
from contractsync.api.deps import CurrentActor, Service
from contractsync.api.routes._common import JSON, OperationIdPath, PageQuery, PageSizeQuery, answers
from contractsync.api.types import Body, OperationStatus, OperationTypeName
from contractsync.domain.bounds import MAX_BATCH_OPERATIONS
from contractsync.service.batch_input import read_batch

router = APIRouter(prefix="/v1/operations", tags=["operations"])


class OperationBatch(Body):
    # Each operation is the operations body of API.md plus `subscription_id`; the domain reads
    # them one by one (`BatchCommand`) so that the error names `operations[i]`.
    operations: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_BATCH_OPERATIONS)
    preview: StrictBool = False
    atomic: StrictBool = False


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


@router.post("/batch", response_model=None, responses=answers(A.OperationBatch))
def apply_operations(body: OperationBatch, actor: CurrentActor, service: Service) -> JSON:
    """Many lifecycle operations, in order, in one transaction: `{operations: [{subscription_id,
    type, …}], preview?, atomic?}`. A malformed operation refuses the batch (422); one the
    subscription refuses is answered `refused` and the rest apply (`atomic: true`: 422, nothing
    applied)."""
    batch = read_batch(body.operations, preview=body.preview, atomic=body.atomic)
    return service.apply_operations(actor, batch)


# `:int`: "/v1/operations/batch" is not an operation id, so GET on it is a 405 (POST only).
@router.get("/{operation_id:int}", response_model=None, responses=answers(A.OperationRecord))
def get_operation(operation_id: OperationIdPath, actor: CurrentActor, service: Service) -> JSON:
    return service.get_operation(actor, operation_id)


@router.post("/{operation_id:int}/retry", response_model=None, responses=answers(A.OperationRecord))
def retry_operation(operation_id: OperationIdPath, actor: CurrentActor, service: Service) -> JSON:
    """F1: send a failed record again (409 when a later adjustment was sent already)."""
    return service.retry_operation(actor, operation_id)
