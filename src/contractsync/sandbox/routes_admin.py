"""Sandbox control endpoints under /sandbox/ (no Autotask auth): seeding, posting periods,
faults, limits, stats and the exact timeline of a contract service."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from starlette.responses import Response

from contractsync.sandbox.errors import SandboxError
from contractsync.sandbox.faults import parse_fault
from contractsync.sandbox.posting import post_periods
from contractsync.sandbox.seed import seed_demo, seed_records
from contractsync.sandbox.service_units import ledger_for
from contractsync.sandbox.state import SandboxState
from contractsync.sandbox.wire import WireResponse, parse_date, parse_json

router = APIRouter(prefix="/sandbox", tags=["sandbox"])


def _state(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


@router.post("/seed")
async def seed(request: Request) -> Response:
    state = _state(request)
    body = parse_json(await request.body())
    return WireResponse(seed_records(state.store, body, state.clock.now().replace(tzinfo=None)))


@router.post("/seed/demo")
async def seed_demo_data(request: Request) -> Response:
    state = _state(request)
    return WireResponse(seed_demo(state.store, state.clock.now().replace(tzinfo=None)))


@router.post("/post-periods")
async def post(request: Request) -> Response:
    state = _state(request)
    body = parse_json(await request.body())
    if not isinstance(body, dict) or "through" not in body:
        raise SandboxError('Send {"through": "YYYY-MM-DD", "contractID": optional}.', status=400)
    through: date = parse_date(body["through"], "through")
    contract_id = body.get("contractID")
    if contract_id is not None and not isinstance(contract_id, int):
        raise SandboxError("contractID must be an integer.", status=400)
    if contract_id is not None and state.store.get("Contracts", contract_id) is None:
        raise SandboxError(f"contractID: no Contracts entity with id {contract_id} exists.", status=404)
    result = post_periods(state.store, through, state.clock.now().replace(tzinfo=None), contract_id)
    return WireResponse(result)


@router.post("/faults")
async def add_fault(request: Request) -> Response:
    state = _state(request)
    state.faults.add(parse_fault(parse_json(await request.body())))
    return WireResponse({"faults": state.faults.active()})


@router.get("/faults")
async def list_faults(request: Request) -> Response:
    return WireResponse({"faults": _state(request).faults.active()})


@router.delete("/faults")
async def clear_faults(request: Request) -> Response:
    state = _state(request)
    state.faults.clear()  # also lets go of requests held by timeout faults
    return WireResponse({"faults": []})


@router.get("/stats")
async def stats(request: Request) -> Response:
    state = _state(request)
    return WireResponse(
        state.stats.snapshot()
        | {
            "in_flight": state.limits.in_flight(),
            "budget": {"limit": state.limits.budget, "used": state.limits.used()},
            "thread_limit": state.limits.thread_limit,
        }
    )


@router.post("/reset")
async def reset(request: Request) -> Response:
    state = _state(request)
    state.reset()
    return WireResponse({"reset": True})


@router.post("/limits")
async def limits(request: Request) -> Response:
    state = _state(request)
    body = parse_json(await request.body())
    if not isinstance(body, dict):
        raise SandboxError('Send {"budget": N, "thread_limit": N}.', status=400)
    for key in ("budget", "thread_limit"):
        value = body.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise SandboxError(f"{key} must be a positive integer.", status=400)
    if body.get("budget") is not None:
        state.limits.budget = body["budget"]
    if body.get("thread_limit") is not None:
        state.limits.thread_limit = body["thread_limit"]
    if body.get("reset_window"):
        state.limits.reset()
    return WireResponse({"budget": state.limits.budget, "thread_limit": state.limits.thread_limit})


@router.get("/contract-services/{contract_service_id}/timeline")
async def timeline(request: Request, contract_service_id: int) -> Response:
    state = _state(request)
    contract_service = state.store.get("ContractServices", contract_service_id)
    if contract_service is None:
        raise SandboxError(f"No ContractServices entity with id {contract_service_id} exists.", status=404)
    ledger = ledger_for(state.store, contract_service)
    return WireResponse(
        {
            "contractServiceID": contract_service_id,
            "contractID": contract_service["contractID"],
            "serviceID": contract_service["serviceID"],
            "unitPrice": ledger.base_price,
            "unitCost": ledger.base_cost,
            "changes": [
                {
                    "date": point.start.isoformat(),
                    "units": point.units,
                    "price": point.price,
                    "cost": point.cost,
                    "adjustmentIDs": list(point.adjustment_ids),
                }
                for point in ledger.change_points()
            ],
        }
    )
