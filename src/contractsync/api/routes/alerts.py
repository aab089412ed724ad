"""X5 alerts: contracts ending early, adjustments outside contracts, unmapped or out-of-sync
subscriptions, API budget."""

from __future__ import annotations

from fastapi import APIRouter

from contractsync.api import answers as A
from contractsync.api.deps import CurrentActor, Service
from contractsync.api.routes._common import JSON, answers

router = APIRouter(prefix="/v1/alerts", tags=["attention"])


@router.get("", response_model=None, responses=answers(list[A.Alert]))
def list_alerts(actor: CurrentActor, service: Service) -> list[JSON]:
    return service.list_alerts(actor)
