"""X1 drift report: what Autotask holds against what contractsync planned; `fix` corrects drift.
Stored runs and the per-connection schedule."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field, StrictBool, StrictInt, StringConstraints

from contractsync.api import answers as A
from contractsync.api.deps import CurrentActor, Service
from contractsync.api.drift import reconcile
from contractsync.api.routes._common import JSON, answers, given
from contractsync.api.types import Body, EntityId, WholeNumber
from contractsync.domain.commands import SetReconciliationSchedule

router = APIRouter(prefix="/v1/reconciliation", tags=["daily work"])

ConnectionQuery = Annotated[str | None, Query(min_length=1, max_length=100)]
RequiredConnection = Annotated[str, Query(min_length=1, max_length=100)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class ReconcileRequest(Body):
    connection_id: EntityId | None = None
    fix: StrictBool = False


class ScheduleRequest(Body):
    connection_id: EntityId
    every_hours: Annotated[StrictInt, Field(ge=0, le=8760), WholeNumber] | None = None
    currency: Currency | None = None


@router.get("", response_model=None, responses=answers(A.Reconciliation))
def drift_report(actor: CurrentActor, service: Service, connection_id: ConnectionQuery = None) -> JSON:
    return reconcile(service, actor, connection_id, fix=False)


@router.post("", response_model=None, responses=answers(A.Reconciliation))
def correct_drift(
    body: ReconcileRequest, actor: CurrentActor, service: Service, connection_id: ConnectionQuery = None
) -> JSON:
    """`{fix: true}` queues one correcting adjustment per drifting contract service; `{fix: false}`
    only reports. The answer lists what was `queued` and what was `not_queued`, and why."""
    return reconcile(service, actor, body.connection_id or connection_id, fix=body.fix)


@router.get("/runs", response_model=None, responses=answers(A.ReconciliationRuns))
def runs(
    actor: CurrentActor,
    service: Service,
    connection_id: RequiredConnection,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> JSON:
    """Stored runs of one connection, newest first, and its schedule."""
    return service.reconciliation_runs(actor, connection_id, limit)


@router.put("/schedule", response_model=None, responses=answers(A.ReconciliationSettings))
def schedule(body: ScheduleRequest, actor: CurrentActor, service: Service) -> JSON:
    """How often the worker reconciles the connection (`every_hours`, 0 = off; default 24) and the
    currency its money impact is reported in."""
    # A field sent as null keeps what the connection has, as one not sent.
    values = {name: value for name, value in given(body).items() if value is not None}
    return service.set_reconciliation_schedule(actor, SetReconciliationSchedule.build(**values))
