"""The API's hot route without FastAPI's routing and dependency solving, for the plain case.

`POST /v1/subscriptions/{id}/operations` is what integrations call most. Through FastAPI, a
request spends most of its CPU in the layers around the route: the middleware stack (Starlette's
and FastAPI's own, then ours), finding the route among the included routers and solving its
dependency tree (token, façade, query check, path and body fields) — several times what the
route's own work costs. `OperationFastPath` stands in front of the whole app (`ContractSyncApi`
calls it first) and answers that route itself when there is nothing for FastAPI to decide:

- no query string, a path of printable ASCII (no control character for
  `RefuseControlCharacters` to refuse), a JSON content type, a declared Content-Length of at
  most 64 KiB (well under `LimitBody`'s limit);
- a bearer token whose actor is in the token cache (`cached_actor`: no database, no thread);
- a subscription id of 1 to 100 characters and a body that the route's own body field accepts
  (the same pydantic validation FastAPI runs, with the same `loc`);
- no dependency overrides on the app.

It then calls the route's own endpoint with what FastAPI would have passed it, so the route
stays the one place that says what an operation does, under the same layers the app puts around
every route: the request log and metrics (`ObserveRequests`), the app's 500 answer
(`ServerErrorMiddleware`) and its exception handlers (`ExceptionMiddleware`). Anything else (a
missing or uncached token, an invalid body, a query parameter, a chunked body…) goes to FastAPI
unchanged, with the body it may already have read replayed: every refusal is FastAPI's own, byte
for byte. If the endpoint's signature is one this path does not know how to call, the path stays
off and every request goes through FastAPI. `answered` counts the requests it answered.
"""

from __future__ import annotations

import inspect
import json
from collections import deque
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIRouter
from fastapi.security.utils import get_authorization_scheme_param
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contractsync.api import deps
from contractsync.api.middleware import ObserveRequests
from contractsync.service.actor import Actor
from contractsync.service.errors import Unauthorized
from contractsync.service.facade import ContractSync

MAX_FAST_BODY = 65_536
_ARGUMENTS = "contractsync.fast_path.arguments"


def operation_route(router: APIRouter, endpoint: Callable[..., Any]) -> APIRoute:
    """The route of `router` whose endpoint is `endpoint`."""
    return next(
        route for route in router.routes if isinstance(route, APIRoute) and route.endpoint is endpoint
    )


class OperationFastPath:
    def __init__(self, api: FastAPI, route: APIRoute) -> None:
        self.api = api
        self.route = route
        self._names = _argument_names(route)
        self._guarded: ASGIApp | None = None
        self.answered = 0

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """Answer a plain call of the route and return None; otherwise answer nothing and return
        what the app must receive the request's body from (its bytes replayed if read)."""
        subscription_id = self._subscription_id(scope)
        actor = None if subscription_id is None else self._actor(scope)
        if actor is None or subscription_id is None:
            return receive
        received: list[Message] = []
        body = await _read_body(receive, received)
        value = None if body is None else self._validated(body)
        if value is None:  # FastAPI decides, on the same bytes
            return _replaying(received, receive)
        scope["app"] = self.api
        scope["route"], scope["endpoint"] = self.route, self.route.endpoint
        scope["path_params"] = {self._names["path"]: subscription_id}
        scope[_ARGUMENTS] = {
            self._names["path"]: subscription_id,
            self._names["body"]: value,
            self._names["actor"]: actor,
            self._names["service"]: self.api.state.service,
        }
        self.answered += 1
        await self._layered()(scope, _replaying(received, receive), send)
        return None

    def _subscription_id(self, scope: Scope) -> str | None:
        """The id when the request is a plain call of the route (nothing for FastAPI to decide
        before the body), else None."""
        if (
            not self._names
            or scope["type"] != "http"
            or scope["method"] != "POST"
            or scope.get("query_string")
            or scope.get("root_path")
            or self.api.root_path
            or self.api.dependency_overrides
            or not (scope["path"].isascii() and scope["path"].isprintable())
        ):
            return None
        match = self.route.path_regex.match(scope["path"])  # Starlette's own match of the route
        if match is None:
            return None
        subscription_id: str = match.group(self._names["path"])
        return subscription_id if 1 <= len(subscription_id) <= 100 else None

    def _actor(self, scope: Scope) -> Actor | None:
        """The caller when the headers leave nothing for FastAPI to decide (a JSON body of a
        declared length up to MAX_FAST_BODY, a bearer token whose actor is cached), else None."""
        headers = _first_headers(scope, (b"authorization", b"content-type", b"content-length"))
        content_type = headers.get(b"content-type", b"").lower()
        length = headers.get(b"content-length", b"")
        if content_type.split(b";", 1)[0].strip() != b"application/json":
            return None
        if not length.isdigit() or int(length) > MAX_FAST_BODY:
            return None
        scheme, credentials = get_authorization_scheme_param(
            headers[b"authorization"].decode("latin-1") if b"authorization" in headers else None
        )
        if scheme.lower() != "bearer" or not credentials:
            return None
        try:
            token = deps.bearer_token(credentials)
        except Unauthorized:
            return None
        service: ContractSync = self.api.state.service
        actor = service.cached_actor(token)
        if actor is None:
            scope[deps.UNCACHED] = True  # FastAPI's `get_actor` authenticates, not asks again
        return actor

    def _validated(self, body: bytes) -> Any | None:
        try:
            parsed = json.loads(body)
        except ValueError:
            return None
        body_field = self.route.body_field
        assert body_field is not None
        value, errors = body_field.validate(parsed, {}, loc=("body",))
        return None if errors else value

    def _layered(self) -> ASGIApp:
        """The endpoint under the layers the app runs every route under: the request log and
        metrics, the app's 500 answer, its exception handlers (as FastAPI's middleware stack
        orders them)."""
        if self._guarded is None:
            unexpected = None
            handlers = {}
            for key, handler in self.api.exception_handlers.items():
                if key in (500, Exception):
                    unexpected = handler
                else:
                    handlers[key] = handler
            guarded = ExceptionMiddleware(self._endpoint, handlers=handlers, debug=self.api.debug)
            self._guarded = ObserveRequests(
                ServerErrorMiddleware(guarded, handler=unexpected, debug=self.api.debug)
            )
        return self._guarded

    async def _endpoint(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.route.endpoint(**scope.pop(_ARGUMENTS))
        await response(scope, receive, send)


def _argument_names(route: APIRoute) -> dict[str, str]:
    """The endpoint's parameter names by role, or {} (path off) when its signature is not the
    one this path knows: one path parameter, one body, the actor and the façade, an async
    function answering a Response."""
    dependant = route.dependant
    calls = {sub.call: sub.name for sub in dependant.dependencies}
    if not (
        inspect.iscoroutinefunction(route.endpoint)
        and len(dependant.path_params) == 1
        and len(dependant.body_params) == 1
        and route.body_field is not None
        and not dependant.query_params
        and not dependant.header_params
        and not dependant.cookie_params
        and set(calls) == {deps.get_actor, deps.get_service}
        and _answers_response(route)
    ):
        return {}
    return {
        "path": dependant.path_params[0].name,
        "body": dependant.body_params[0].name,
        "actor": str(calls[deps.get_actor]),
        "service": str(calls[deps.get_service]),
    }


def _answers_response(route: APIRoute) -> bool:
    returned = inspect.signature(route.endpoint, eval_str=True).return_annotation
    return inspect.isclass(returned) and issubclass(returned, Response)


def _first_headers(scope: Scope, names: tuple[bytes, ...]) -> dict[bytes, bytes]:
    """The first value of each named header (as Starlette's `Headers.get` reads them)."""
    found: dict[bytes, bytes] = {}
    for key, value in scope["headers"]:
        key = key.lower()
        if key in names and key not in found:
            found[key] = value
    return found


async def _read_body(receive: Receive, received: list[Message]) -> bytes | None:
    """The whole body (each message kept in `received`), or None when the client left."""
    chunks = []
    while True:
        message = await receive()
        received.append(message)
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(received: list[Message], receive: Receive) -> Receive:
    pending = deque(received)

    async def again() -> Message:
        return pending.popleft() if pending else await receive()

    return again
