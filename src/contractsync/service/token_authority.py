"""Authentication on every API request: `TokenAuthority` keeps a short-lived in-process cache
of token hash → principal, so a hit costs no database round trip. Revoking a token in this
process clears the cache at once (`forget`); another process (a second API server, the CLI) sees
a revocation or expiry within `CACHE_SECONDS`, when its cached entry runs out. The last-used time
is written at most once a minute per token and process.

An entry is read again before it runs out: from `REFRESH_AFTER` of its life on, the first
`cached_actor` asks its caller to authenticate (which reads the token again), while every other
request keeps the entry until it ends — under load, one request a few seconds reads the database
instead of every request in flight at the moment the entry would run out (~30 at 850 requests/s,
each through FastAPI and a thread: measured with `benchmarks/serve_api.py`'s fast-path count).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext
from contractsync.service.errors import Unauthorized
from contractsync.service.tokens import MAX_TOKEN_LENGTH, MIN_TOKEN_LENGTH, token_hash, token_label

log = structlog.get_logger(__name__)

CACHE_SECONDS = 5
#: … and read again by one request from this share of its life on
REFRESH_AFTER = 0.8
LAST_USED_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Principal:
    token_id: int
    actor: Actor
    expires_at: datetime | None


@dataclass
class _Cached:
    principal: Principal
    fresh_until: datetime
    refresh_from: datetime
    refreshing: bool = False  # a request was sent to read it again


class TokenAuthority:
    """Authenticates tokens through a short-lived cache; one per façade (thread-safe)."""

    def __init__(self, ctx: ServiceContext, cache_seconds: float = CACHE_SECONDS) -> None:
        self.ctx = ctx
        self._cache_for = timedelta(seconds=cache_seconds)
        self._cache: dict[str, _Cached] = {}
        self._used_written: dict[int, datetime] = {}
        self._lock = threading.Lock()

    def principal(self, token: str) -> Principal:
        """The token's principal; Unauthorized when it is unknown, revoked or expired."""
        if not MIN_TOKEN_LENGTH <= len(token) <= MAX_TOKEN_LENGTH:
            raise Unauthorized("unknown token")
        key = token_hash(token)
        now = self.ctx.now()
        with self._lock:
            cached = self._cache.get(key)
        if cached is None or cached.refresh_from <= now:
            cached = self._load(key, now)
        principal = cached.principal
        if principal.expires_at is not None and principal.expires_at <= now:
            raise Unauthorized("this token has expired")
        self._note_use(principal.token_id, now)
        return principal

    def authenticate(self, token: str) -> Actor:
        return self.principal(token).actor

    def cached_actor(self, token: str) -> Actor | None:
        """The actor of a token cached and fresh, whose last use needs no writing now; None
        otherwise (`authenticate` then reads or writes the database). Never waits on it."""
        if not MIN_TOKEN_LENGTH <= len(token) <= MAX_TOKEN_LENGTH:
            return None
        now = self.ctx.now()
        with self._lock:
            cached = self._cache.get(token_hash(token))
            if cached is None or cached.fresh_until <= now:
                return None
            if cached.refresh_from <= now and not cached.refreshing:
                cached.refreshing = True  # this caller authenticates: the token is read again
                return None
            principal = cached.principal
            written = self._used_written.get(principal.token_id)
        if principal.expires_at is not None and principal.expires_at <= now:
            return None
        if written is None or now - written >= LAST_USED_EVERY:
            return None
        return principal.actor

    def _load(self, key: str, now: datetime) -> _Cached:
        with self.ctx.units(commit=False) as uow:
            row = uow.api_tokens.by_hash(key)
        if row is None:
            with self._lock:
                self._cache.pop(key, None)
            raise Unauthorized("unknown token")
        cached = _Cached(
            Principal(row.id, Actor(row.reseller_id, token_label(row)), row.expires_at),
            fresh_until=now + self._cache_for,
            refresh_from=now + self._cache_for * REFRESH_AFTER,
        )
        with self._lock:
            self._cache[key] = cached
            if row.last_used_at is not None:
                self._used_written.setdefault(row.id, row.last_used_at)
        return cached

    def _note_use(self, token_id: int, now: datetime) -> None:
        with self._lock:
            written = self._used_written.get(token_id)
            if written is not None and now - written < LAST_USED_EVERY:
                return
            self._used_written[token_id] = now
        try:
            with self.ctx.units() as uow:
                uow.api_tokens.used(token_id, now)
        except Exception as error:  # bookkeeping: never the reason a request is refused
            log.warning("token_last_used_not_recorded", token_id=token_id, error=type(error).__name__)

    def forget(self) -> None:
        """Drop every cached principal (after a revocation)."""
        with self._lock:
            self._cache.clear()
