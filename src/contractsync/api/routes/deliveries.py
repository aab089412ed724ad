"""Deliver everything due now, without waiting for the worker."""

from __future__ import annotations

from fastapi import APIRouter

from contractsync.api import answers as A
from contractsync.api.deps import CurrentActor, Service
from contractsync.api.routes._common import JSON, answers

router = APIRouter(prefix="/v1/deliveries", tags=["daily work"])


@router.post("/run", response_model=None, responses=answers(A.DeliveryCounts))
def run_deliveries(actor: CurrentActor, service: Service) -> JSON:
    return service.run_deliveries(actor)
