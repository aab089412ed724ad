"""Request dependencies: the façade and the calling actor (from `Authorization: Bearer <token>`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from contractsync.service.actor import Actor
from contractsync.service.errors import Invalid, Unauthorized
from contractsync.service.facade import ContractSync

# auto_error=False: a missing token must answer our 401 envelope, not FastAPI's 403.
bearer_scheme = HTTPBearer(auto_error=False, description="An API token from `contractsync tokens create`.")
MAX_TOKEN_LENGTH = 512


# The dependencies are `async def`: FastAPI runs a plain `def` dependency in the thread pool,
# a hand-off per dependency per request. None of them waits on anything (a token found in the
# cache needs no database; only a miss goes to a thread), so they run on the event loop and a
# request reaches a thread once: for its route.


async def get_service(request: Request) -> ContractSync:
    service: ContractSync = request.app.state.service
    return service


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None:
        raise Unauthorized("missing bearer token (Authorization: Bearer <token>)")
    return bearer_token(credentials.credentials)


def bearer_token(credentials: str) -> str:
    """The token of `Authorization: Bearer <credentials>`; Unauthorized when it cannot be one."""
    token = credentials.strip()
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise Unauthorized("unknown token")
    return token


def authenticated(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Actor:
    """The caller (blocking: may read the database)."""
    service: ContractSync = request.app.state.service
    return service.authenticate(_token(credentials))


#: Set in a request's scope when the fast path asked the token cache and was told to authenticate
#: (the entry is due to be read again: `TokenAuthority.cached_actor`), so that FastAPI does.
UNCACHED = "contractsync.uncached"


async def get_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Actor:
    token = _token(credentials)
    service: ContractSync = request.app.state.service
    actor = None if request.scope.get(UNCACHED) else service.cached_actor(token)
    if actor is None:  # not cached, or due a look at the database: off the event loop
        actor = await run_in_threadpool(service.authenticate, token)
    return actor


Service = Annotated[ContractSync, Depends(get_service)]
CurrentActor = Annotated[Actor, Depends(get_actor)]


async def reject_unknown_query(request: Request, _: CurrentActor) -> None:
    """A misspelt filter (`?sync-state=failed`) must not silently answer everything: any query
    parameter the route does not declare is refused. After authentication (the actor parameter,
    resolved once per request), so an anonymous caller learns nothing but 401."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = set(_declared_query(dependant))
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise Invalid(
            f"unknown query parameter: {unknown[0][:100]}",
            [
                {"loc": ["query", name[:100]], "msg": "unknown query parameter", "type": "extra_forbidden"}
                for name in unknown[:20]
            ],
        )


def _declared_query(dependant: Any) -> Iterator[str]:
    """Query parameter names of a route's dependency tree (FastAPI's `Dependant`)."""
    for param in dependant.query_params:
        yield str(param.alias)
    for sub in dependant.dependencies:
        yield from _declared_query(sub)
