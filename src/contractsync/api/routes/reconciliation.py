"""X1 drift report: what Autotask holds against what contractsync expects; `fix` corrects it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import StrictBool

from contractsync.api import answers as A
from contractsync.api.deps import CurrentActor, Service
from contractsync.api.drift import reconcile
from contractsync.api.routes._common import JSON, answers
from contractsync.api.types import Body, EntityId

router = APIRouter(prefix="/v1/reconciliation", tags=["daily work"])

ConnectionQuery = Annotated[str | None, Query(min_length=1, max_length=100)]


class ReconcileRequest(Body):
    connection_id: EntityId | None = None
    fix: StrictBool = False


@router.get("", response_model=None, responses=answers(A.Reconciliation))
def drift_report(actor: CurrentActor, service: Service, connection_id: ConnectionQuery = None) -> JSON:
    return reconcile(service, actor, connection_id, fix=False)


@router.post("", response_model=None, responses=answers(A.Reconciliation))
def correct_drift(
    body: ReconcileRequest, actor: CurrentActor, service: Service, connection_id: ConnectionQuery = None
) -> JSON:
    """`{fix: true}` sends one correcting adjustment per difference; `{fix: false}` only reports."""
    return reconcile(service, actor, body.connection_id or connection_id, fix=body.fix)
