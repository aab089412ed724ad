"""X5 alerts: contracts ending early, adjustments outside contracts, unmapped or out-of-sync
subscriptions, reconciliation drift, API budget. Every alert has an id and can be acknowledged."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from contractsync.api import answers as A
from contractsync.api.deps import CurrentActor, Service
from contractsync.api.routes._common import JSON, answers

router = APIRouter(prefix="/v1/alerts", tags=["attention"])

AlertState = Literal["open", "acknowledged", "resolved", "all"]


@router.get("", response_model=None, responses=answers(list[A.Alert]))
def list_alerts(
    actor: CurrentActor, service: Service, state: Annotated[AlertState, Query()] = "open"
) -> list[JSON]:
    """`open` (default): not resolved, acknowledged or not; `acknowledged`; `resolved`; `all`."""
    return service.list_alerts(actor) if state == "open" else service.list_alerts(actor, state)


@router.post("/{alert_id}/acknowledge", response_model=None, responses=answers(A.Alert))
def acknowledge(
    alert_id: Annotated[int, Path(ge=1, le=2_147_483_647)], actor: CurrentActor, service: Service
) -> JSON:
    """Someone has seen it: it stays open (with `acknowledged_at`) until its condition ends."""
    return service.acknowledge_alert(actor, alert_id)
