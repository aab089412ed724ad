"""The daily sweep on demand (expirations, renewals, period starts) for one date."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import StrictBool

from contractsync.api import answers as A
from contractsync.api.deps import CurrentActor, Service
from contractsync.api.routes._common import JSON, answers
from contractsync.api.types import Body, IsoDate
from contractsync.domain.commands import Sweep
from contractsync.service.validation import check

router = APIRouter(prefix="/v1/sweeps", tags=["daily work"])


class SweepRequest(Body):
    date: IsoDate
    preview: StrictBool = False


@router.post("", response_model=None, responses=answers(A.SweepResult))
def run_sweep(body: SweepRequest, actor: CurrentActor, service: Service) -> JSON:
    """Idempotent per date: a second run for the same date changes nothing."""
    return service.sweep(actor, check(lambda: Sweep.build(date=body.date, preview=body.preview)))
