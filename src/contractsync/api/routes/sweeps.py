"""The daily sweep on demand (expirations, renewals, period starts) for one date."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import StrictBool

from contractsync.api import answers as A
from contractsync.api.deps import CurrentActor, Service
from contractsync.api.routes._common import JSON, answers, dump
from contractsync.api.types import Body, IsoDate

router = APIRouter(prefix="/v1/sweeps", tags=["daily work"])


class SweepRequest(Body):
    date: IsoDate
    preview: StrictBool = False


@router.post("", response_model=None, responses=answers(A.SweepResult))
def run_sweep(body: SweepRequest, actor: CurrentActor, service: Service) -> JSON:
    """Idempotent per date: a second run for the same date changes nothing."""
    return service.sweep(actor, dump(body))
