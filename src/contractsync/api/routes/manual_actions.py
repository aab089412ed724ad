"""Open manual action items (U1-U3 under the `manual` policy)."""

from __future__ import annotations

from fastapi import APIRouter

from contractsync.api import answers as A
from contractsync.api.deps import CurrentActor, Service
from contractsync.api.routes._common import JSON, answers

router = APIRouter(prefix="/v1/manual-actions", tags=["attention"])


@router.get("", response_model=None, responses=answers(list[A.ManualAction]))
def list_manual_actions(actor: CurrentActor, service: Service) -> list[JSON]:
    return service.list_manual_actions(actor)
