"""The Autotask REST surface under /atservicesrest/v1.0/ (paths and names case-insensitive).

Every authenticated request goes: auth (empty 401) → request budget (429) → thread limit (429
"Thread Threshold Exceeded") → injected fault, if any → the entity operation. The operation runs
in a worker thread, so requests really are served side by side and the thread limit counts
requests that are in flight at the same time, as the vendor's does.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from contractsync.sandbox import errors, field_info
from contractsync.sandbox.adjustments import create_adjustment
from contractsync.sandbox.entities import ENTITIES, EntitySpec, entity_by_name
from contractsync.sandbox.entity_writes import (
    create_company,
    create_contract,
    create_contract_service,
    create_service,
    update_contract_service,
    update_record,
)
from contractsync.sandbox.errors import SandboxError
from contractsync.sandbox.faults import Fault
from contractsync.sandbox.query_filter import id_hints, parse_query
from contractsync.sandbox.service_units import unit_record, unit_records
from contractsync.sandbox.state import SandboxState
from contractsync.sandbox.wire import (
    Record,
    WireResponse,
    error_response,
    parse_json,
    parse_record,
    render_record,
)

#: MaxRecords default and ceiling.
PAGE_LIMIT = 500
#: Entities with update routes (contract services only through the parent contract).
UPDATABLE = frozenset({"Companies", "Contracts", "Services", "ContractServices"})
THRESHOLD_ENDPOINT = "ThresholdInformation"

router = APIRouter()
logger = logging.getLogger(__name__)


class ConnectionResetResponse(Response):
    """Starts an answer and stops mid-body: uvicorn then closes the connection, so the client
    sees an incomplete read, as when a connection is reset."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"item', "more_body": True})


def _state(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


def _authorized(request: Request, state: SandboxState) -> bool:
    config = state.config
    expected = {
        "apiintegrationcode": config.integration_code,
        "username": config.username,
        "secret": config.secret,
    }
    return all(
        hmac.compare_digest(request.headers.get(name, "").encode(), value.encode())
        for name, value in expected.items()
    )


#: Child collections of a contract, as the vendor routes them: /Contracts/{id}/Services etc.
CHILD_ENTITIES = {
    "services": "ContractServices",
    "serviceunits": "ContractServiceUnits",
    "serviceadjustments": "ContractServiceAdjustments",
}


def _endpoint(segments: list[str]) -> str:
    """The name the thread limit, the faults and the stats count a request under."""
    if len(segments) >= 3 and segments[0].lower() == "contracts" and segments[2].lower() in CHILD_ENTITIES:
        return CHILD_ENTITIES[segments[2].lower()]
    spec = entity_by_name(segments[0]) if segments else None
    if spec is not None:
        return spec.name
    if segments and segments[0].lower() == THRESHOLD_ENDPOINT.lower():
        return THRESHOLD_ENDPOINT
    return segments[0] if segments else ""


ZONE_UNKNOWN = "Zone information could not be determined"


def zone_information(request: Request, state: SandboxState) -> Response:
    """Zone discovery needs no credentials; the client appends `v1.0/` to `url`. A user the
    sandbox does not know has no zone (HTTP 500, KelvinTegelaar/AutotaskAPI issue #17)."""
    user = request.query_params.get("user", "")
    if user.lower() != state.config.username.lower():
        state.stats.rejection("zone_unknown")
        return error_response(ZONE_UNKNOWN, 500)
    base = str(request.base_url).rstrip("/")
    return WireResponse({"zoneName": "Sandbox", "url": f"{base}/atservicesrest/", "webUrl": base, "ci": 0})


@router.api_route(
    "/atservicesrest/{rest:path}", methods=["GET", "POST", "PATCH", "PUT", "DELETE"], include_in_schema=False
)
@router.api_route(
    "/ATServicesRest/{rest:path}", methods=["GET", "POST", "PATCH", "PUT", "DELETE"], include_in_schema=False
)
async def autotask(request: Request, rest: str) -> Response:
    state = _state(request)
    parts = [part for part in rest.split("/") if part]
    if not parts or parts[0].lower() != "v1.0":
        return error_response(f"The requested resource '/{rest}' was not found.", 404)
    segments = parts[1:]
    if segments and segments[0].lower() == "zoneinformation":
        return zone_information(request, state)
    if not _authorized(request, state):
        state.stats.rejection("auth")
        return Response(status_code=401)  # the vendor answers bad credentials with an empty 401
    endpoint = _endpoint(segments)
    state.stats.request(endpoint)
    if not state.limits.spend():
        state.stats.rejection("budget")
        return error_response(errors.budget_exceeded(state.limits.budget), 429)
    code = request.headers.get("apiintegrationcode", "")
    in_flight = state.limits.enter(code, endpoint)
    if in_flight is None:
        state.stats.rejection("thread_threshold")
        return error_response(errors.THREAD_THRESHOLD, 429)
    try:
        state.stats.in_flight(endpoint, in_flight)
        body = await request.body()

        async def apply() -> Response:
            return await run_in_threadpool(_answer, state, lambda: _dispatch(state, request, segments, body))

        fault = state.faults.pick(endpoint)
        if fault is None:
            return await apply()
        state.stats.fault(fault.kind)
        return await _faulty(state, fault, apply)
    finally:
        state.limits.leave(code, endpoint)


async def _faulty(state: SandboxState, fault: Fault, apply: Callable[[], Awaitable[Response]]) -> Response:
    if fault.kind == "http_500":
        return error_response("An unexpected error occurred (sandbox fault http_500).", 500)
    if fault.kind == "http_503":
        return error_response("The service is unavailable (sandbox fault http_503).", 503)
    if fault.kind == "http_429":
        return error_response(errors.budget_exceeded(state.limits.budget), 429)
    if fault.kind == "thread_threshold":
        return error_response(errors.THREAD_THRESHOLD, 429)
    if fault.kind == "timeout":
        await state.faults.hold(fault.delay_seconds)
        return error_response("The request timed out (sandbox fault timeout).", 504)
    if fault.kind == "timeout_after_apply":
        answer = await apply()
        await state.faults.hold(fault.delay_seconds)
        return answer
    if fault.kind == "latency":  # a slow answer: held, then served as usual
        await state.faults.hold(fault.delay_seconds)
        return await apply()
    if fault.kind == "connection_reset":
        return ConnectionResetResponse()
    await apply()  # applied_then_500
    return error_response("An unexpected error occurred (sandbox fault applied_then_500).", 500)


def _answer(state: SandboxState, handle: Callable[[], Response]) -> Response:
    try:
        return handle()
    except SandboxError as exc:
        state.stats.rejection(exc.reason)
        return error_response(exc.message, exc.status)
    except Exception as exc:  # a sandbox bug still answers in the vendor's envelope
        logger.exception("sandbox request failed")
        state.stats.rejection("internal")
        return error_response(f"An unexpected error occurred: {type(exc).__name__}.", 500)


def _method_not_allowed(request: Request) -> SandboxError:
    return SandboxError(
        f"The requested resource does not support http method '{request.method}'.",
        status=405,
        reason="method_not_allowed",
    )


def _dispatch(state: SandboxState, request: Request, segments: list[str], raw: bytes) -> Response:
    method = request.method
    if not segments:
        raise SandboxError("The requested resource was not found.", status=404, reason="not_found")
    lowered = [segment.lower() for segment in segments]
    if lowered == ["thresholdinformation"]:
        if method != "GET":
            raise _method_not_allowed(request)
        return WireResponse(
            {
                "externalRequestThreshold": state.limits.budget,
                "requestThresholdTimeframe": 60,
                "currentTimeframeRequestCount": state.limits.used(),
            }
        )
    if len(lowered) >= 3 and lowered[0] == "contracts" and lowered[2] in CHILD_ENTITIES:
        return _child(state, request, segments, raw)
    spec = entity_by_name(segments[0])
    if spec is None:
        raise SandboxError(
            f"The requested resource '{segments[0]}' was not found.", status=404, reason="not_found"
        )
    rest = lowered[1:]
    if not spec.can_query and not (rest == [] and method == "POST"):
        if rest[:1] == ["entityinformation"] and method == "GET":
            return _entity_information(spec, rest)
        raise _method_not_allowed(request)  # ContractServiceAdjustments: create only
    if rest == []:
        # The vendor creates contract services only through the parent: POST /Contracts/{id}/Services.
        if method == "POST" and spec.can_create and spec.name != "ContractServices":
            return _create(state, spec, raw, None)
        if method in ("PATCH", "PUT") and spec.name in UPDATABLE and spec.name != "ContractServices":
            now = state.clock.now().replace(tzinfo=None)
            item_id = update_record(state.store, spec, parse_json(raw), now, replace=method == "PUT")
            return WireResponse({"itemId": item_id})
        raise _method_not_allowed(request)
    if rest[0] == "query":
        if rest == ["query"] and method in ("GET", "POST"):
            body = parse_json(raw) if method == "POST" else _search_param(request)
            return _query(state, request, spec, body, None)
        if rest == ["query", "count"] and method in ("GET", "POST"):
            body = parse_json(raw) if method == "POST" else _search_param(request)
            return WireResponse({"queryCount": len(_matching(state, spec, body))})
        if rest == ["query", "next"] and method in ("GET", "POST"):
            return _next_page(state, request, spec, raw)
        raise _method_not_allowed(request)
    if rest[0] == "entityinformation":
        if method != "GET":
            raise _method_not_allowed(request)
        return _entity_information(spec, rest)
    if len(rest) == 1:
        if method != "GET":
            raise _method_not_allowed(request)
        item_id = _int_id(segments[1])
        if spec.name == "ContractServiceUnits":
            record = unit_record(state.store, item_id)
        else:
            record = state.store.get(spec.name, item_id)
        return WireResponse({"item": render_record(spec, record) if record is not None else None})
    raise SandboxError("The requested resource was not found.", status=404, reason="not_found")


def _child(state: SandboxState, request: Request, segments: list[str], raw: bytes) -> Response:
    """/Contracts/{id}/Services (GET, POST, PATCH, PUT), /ServiceUnits (GET),
    /ServiceAdjustments (POST), each with its entityInformation routes, as the Swagger lists them."""
    parent = _int_id(segments[1])
    spec = ENTITIES[CHILD_ENTITIES[segments[2].lower()]]
    tail = [segment.lower() for segment in segments[3:]]
    method = request.method
    if tail[:1] == ["entityinformation"]:
        if method != "GET":
            raise _method_not_allowed(request)
        return _entity_information(spec, tail)
    if spec.name == "ContractServiceAdjustments":
        if tail or method != "POST":
            raise _method_not_allowed(request)
        return _create(state, spec, raw, parent)
    if not tail and spec.name == "ContractServices" and method in ("POST", "PATCH", "PUT"):
        if method == "POST":
            return _create(state, spec, raw, parent)
        item_id = update_contract_service(state.store, parent, parse_json(raw), replace=method == "PUT")
        return WireResponse({"itemId": item_id})
    if method != "GET" or len(tail) > 1:
        raise _method_not_allowed(request)
    by_parent = {"filter": [{"op": "eq", "field": "contractID", "value": parent}]}
    if not tail:
        return _query(state, request, spec, by_parent, None)
    item_id = _int_id(tail[0])
    found = [record for record in _candidates(state, spec, by_parent) if record["id"] == item_id]
    return WireResponse({"item": render_record(spec, found[0]) if found else None})


def _int_id(text: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise SandboxError(f"The value '{text}' is not a valid id.", status=400) from exc


def _search_param(request: Request) -> Any:
    search = request.query_params.get("search")
    if search is None:
        raise SandboxError("The 'search' query parameter is required.", status=400)
    return parse_json(search.encode())


def _create(state: SandboxState, spec: EntitySpec, raw: bytes, parent: int | None) -> Response:
    body = parse_json(raw)
    record = parse_record(spec, body)
    if parent is not None:
        record.setdefault("contractID", parent)  # the parent route names the contract
    field_info.check_create(spec, record)
    now = state.clock.now().replace(tzinfo=None)
    if spec.name == "ContractServiceAdjustments":
        item_id = create_adjustment(state.store, body, now, parent)
        state.stats.adjustment()
    elif spec.name == "Companies":
        item_id = create_company(state.store, body, now)
    elif spec.name == "Contracts":
        item_id = create_contract(state.store, body, now)
    elif spec.name == "Services":
        item_id = create_service(state.store, body, now)
    else:
        item_id = create_contract_service(state.store, body, parent_id=parent)
    return WireResponse({"itemId": item_id})


def _candidates(state: SandboxState, spec: EntitySpec, body: Any) -> list[Record]:
    if spec.name == "ContractServiceUnits":
        # Rows are computed, so build only those of the contract services asked for.
        return unit_records(state.store, id_hints(body, "contractServiceID"), id_hints(body, "contractID"))
    return state.store.all(spec.name)


def _matching(state: SandboxState, spec: EntitySpec, body: Any) -> list[Record]:
    query = parse_query(spec, body, PAGE_LIMIT)
    return [record for record in _candidates(state, spec, body) if query.predicate(record)]


def _encode_token(token: dict[str, Any]) -> str:
    text = json.dumps(token, default=str, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode_token(text: str) -> dict[str, Any]:
    try:
        padded = text + "=" * (-len(text) % 4)
        token = json.loads(base64.urlsafe_b64decode(padded.encode()), parse_float=Decimal)
    except ValueError as exc:
        raise SandboxError("The paging token is not valid.", status=400) from exc
    if not isinstance(token, dict) or "q" not in token or token.get("m") not in ("GET", "POST"):
        raise SandboxError("The paging token is not valid.", status=400)
    return token


def _next_page(state: SandboxState, request: Request, spec: EntitySpec, raw: bytes) -> Response:
    """`{Entity}/query/next?paging=…` answers only the method of the query it continues: the
    next page of a POST query by POST with the query's body again (a GET there is a 405, as
    reproduced on a live tenant in WYRE-AI/autotask-mcp pull request #170), of a GET query by GET."""
    token = _decode_token(request.query_params.get("paging", ""))
    if request.method != token["m"]:
        raise _method_not_allowed(request)
    body = parse_json(raw) if request.method == "POST" else token["q"]
    return _query(state, request, spec, body, token)


def _query(
    state: SandboxState, request: Request, spec: EntitySpec, body: Any, token: dict[str, Any] | None
) -> Response:
    query = parse_query(spec, body, PAGE_LIMIT)
    matching = [record for record in _candidates(state, spec, body) if query.predicate(record)]
    size = query.max_records
    if token is not None and token.get("before") is not None:
        earlier = [record for record in matching if record["id"] < token["before"]]
        page = earlier[-size:]
    else:
        after = token.get("after") if token is not None else None
        later = [record for record in matching if after is None or record["id"] > after]
        page = later[:size]
    # Next pages continue with the method of the first request; a GET query's token carries
    # the query itself (a GET has no body), a POST query's only the position.
    method = token["m"] if token is not None else request.method
    carried = body if method == "GET" else None
    base = f"{str(request.base_url).rstrip('/')}/atservicesrest/v1.0/{spec.name}/query/next?paging="
    next_url = prev_url = None
    if page and matching[-1]["id"] > page[-1]["id"]:
        next_url = base + _encode_token({"q": carried, "m": method, "after": page[-1]["id"]})
    if page and matching[0]["id"] < page[0]["id"]:
        prev_url = base + _encode_token({"q": carried, "m": method, "before": page[0]["id"]})
    return WireResponse(
        {
            "items": [render_record(spec, record, query.include_fields) for record in page],
            "pageDetails": {
                "count": len(page),
                "requestCount": size,
                "prevPageUrl": prev_url,
                "nextPageUrl": next_url,
            },
        }
    )


_DATA_TYPES = {
    "int": "integer",
    "decimal": "double",
    "str": "string",
    "bool": "boolean",
    "date": "datetime",
    "datetime": "datetime",
}


def _entity_information(spec: EntitySpec, rest: list[str]) -> Response:
    if rest == ["entityinformation"]:
        return WireResponse(
            {
                "info": {
                    "name": spec.name,
                    "canCreate": spec.can_create,
                    "canDelete": False,
                    "canQuery": spec.can_query,
                    "canUpdate": spec.name in UPDATABLE,
                    "hasUserDefinedFields": False,
                    "supportsWebhookCallouts": False,
                }
            }
        )
    if rest == ["entityinformation", "fields"]:
        return WireResponse({"fields": field_info.field_definitions(spec, _DATA_TYPES)})
    if rest == ["entityinformation", "userdefinedfields"]:
        return WireResponse({"fields": []})
    raise SandboxError("The requested resource was not found.", status=404, reason="not_found")
