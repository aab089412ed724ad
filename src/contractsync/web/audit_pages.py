"""The audit log of connection operations, with filters and F1 retry of failed records."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from contractsync.domain.enums import RecordStatus, RecordType
from contractsync.domain.labels import record_label
from contractsync.service.errors import ServiceError
from contractsync.web.calls import call, refusal_text
from contractsync.web.context import (
    actor_of,
    checked_form,
    console_of,
    local_path,
    redirect,
    render,
    session_of,
)
from contractsync.web.money import currencies
from contractsync.web.queries import clean, page_number

router = APIRouter(include_in_schema=False)

STATUSES = [status.value for status in RecordStatus]
#: The connection operation type names of SPEC §1 (and contractsync's own), for the filter.
OPERATION_TYPES = [record_type.value for record_type in RecordType]


FILTER_NAMES = ("customer_id", "subscription", "type", "status", "recorded_from", "recorded_to")


def audit_filters(params: dict[str, str | None]) -> dict[str, str]:
    """The filters typed into the form (the old `subscription_id` link still works as `subscription`)."""
    found = {name: clean(params.get(name)) for name in FILTER_NAMES}
    found["subscription"] = found["subscription"] or clean(params.get("subscription_id"))
    if found["status"] not in (None, *STATUSES):
        found["status"] = None
    if found["type"] not in (None, *OPERATION_TYPES):
        found["type"] = None
    return {name: value for name, value in found.items() if value}


@router.get("/operations")
async def operations(request: Request, page: str | None = None) -> Response:
    actor = actor_of(request)
    service = console_of(request).service
    filters = audit_filters(dict(request.query_params))
    error = None
    listing: dict[str, Any] = {"items": [], "page": 1, "page_size": 50, "total": 0}
    customers: list[dict[str, Any]] = []
    try:
        customers = await call(service.list_customers, actor)
        listing = await call(service.search_operations, actor, filters, page_number(page), 50)
    except ServiceError as exc:
        error = refusal_text(exc)
    return render(
        request,
        "operations.html",
        {
            "page": "operations",
            "listing": listing,
            "filters": {name: filters.get(name, "") for name in FILTER_NAMES},
            "query": urlencode(filters),
            "customers": customers,
            "customer_names": {c["id"]: c["name"] for c in customers},
            "statuses": STATUSES,
            "types": [(t, record_label(t)) for t in OPERATION_TYPES],
            "error": error,
            "cur": await currencies(request, actor),
        },
        status=422 if error else 200,
    )


@router.post("/operations/{operation_id}/retry")
async def retry(request: Request, operation_id: int) -> Response:
    form = await checked_form(request)
    actor = actor_of(request)
    session = session_of(request)
    try:
        await call(console_of(request).service.retry_operation, actor, operation_id)
    except ServiceError as exc:
        session.say("error", f"Operation #{operation_id} was not retried: {refusal_text(exc)}")
    else:
        session.say(
            "ok", f"Operation #{operation_id} is queued again; its adjustments go out with the next delivery."
        )
    return redirect(request, local_path(str(form.get("next") or ""), default="/operations"))
