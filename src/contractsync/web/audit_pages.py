"""The audit log of connection operations, with filters and F1 retry of failed records."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from contractsync.domain.enums import RecordStatus, RecordType
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


@router.get("/operations")
async def operations(
    request: Request,
    status: str | None = None,
    type: str | None = None,
    subscription_id: str | None = None,
    page: str | None = None,
) -> Response:
    actor = actor_of(request)
    status, type, subscription_id = clean(status), clean(type), clean(subscription_id)
    if status not in (None, *STATUSES):
        status = None
    error = None
    listing: dict[str, Any] = {"items": [], "page": 1, "page_size": 50, "total": 0}
    try:
        listing = await call(
            console_of(request).service.list_operations,
            actor,
            subscription_id=subscription_id,
            status=status,
            type=type,
            page=page_number(page),
            page_size=50,
        )
    except ServiceError as exc:
        error = refusal_text(exc)
    return render(
        request,
        "operations.html",
        {
            "page": "operations",
            "listing": listing,
            "filters": {"status": status or "", "type": type or "", "subscription_id": subscription_id or ""},
            "statuses": STATUSES,
            "types": OPERATION_TYPES,
            "error": error,
            "cur": await currencies(request, actor),
        },
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
