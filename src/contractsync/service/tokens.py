"""API tokens: random, shown once, stored as SHA-256 hashes; listable, revocable, optionally
expiring, with the time of their last use (to the minute).

Authentication is on every API request, so `TokenAuthority` keeps a short-lived in-process cache
of token hash → principal: a hit costs no database round trip. Revoking a token in this process
clears the cache at once; another process (a second API server, the CLI) sees a revocation or
expiry within `CACHE_SECONDS`, when its cached entry runs out. The last-used time is written at
most once a minute per token and process.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from contractsync.adapters.db.sessions_table import console_sessions
from contractsync.adapters.db.tables import api_tokens, resellers
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, require_admin
from contractsync.service.errors import Invalid, NotFound, Unauthorized
from contractsync.service.views import instant

JSON = dict[str, Any]
log = structlog.get_logger(__name__)

MIN_TOKEN_LENGTH = 24
MAX_TOKEN_LENGTH = 512
CACHE_SECONDS = 5
LAST_USED_EVERY = timedelta(minutes=1)
HINT_LENGTH = 4

SOURCE_ENVIRONMENT = "environment"
SOURCE_GENERATED = "generated"
SOURCE_CLI = "cli"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_token_value(token: str) -> None:
    """A token chosen by the operator must be long enough not to be guessed, and printable."""
    if len(token) < MIN_TOKEN_LENGTH:
        raise Invalid(f"an API token must be at least {MIN_TOKEN_LENGTH} characters long")
    if len(token) > MAX_TOKEN_LENGTH:
        raise Invalid(f"an API token must be at most {MAX_TOKEN_LENGTH} characters long")
    if not token.isascii() or not token.isprintable() or any(c.isspace() for c in token):
        raise Invalid("an API token must be printable ASCII without spaces")


@dataclass(frozen=True)
class Principal:
    token_id: int
    actor: Actor
    expires_at: datetime | None


@dataclass
class _Cached:
    principal: Principal
    fresh_until: datetime


class TokenAuthority:
    """Creates, authenticates, lists and revokes tokens; one per façade (thread-safe)."""

    def __init__(self, ctx: ServiceContext, cache_seconds: float = CACHE_SECONDS) -> None:
        self.ctx = ctx
        self._cache_for = timedelta(seconds=cache_seconds)
        self._cache: dict[str, _Cached] = {}
        self._used_written: dict[int, datetime] = {}
        self._lock = threading.Lock()

    # --- creating ----------------------------------------------------------------------------
    def create(
        self,
        reseller_id: str | None,
        token: str | None = None,
        *,
        source: str = SOURCE_CLI,
        expires_at: datetime | None = None,
    ) -> str:
        """A new token (or register a given one). None: an admin token. Registering a token that
        exists already changes nothing (except giving a token from before migration 0008 its
        source)."""
        if token is None:
            token = f"cs_{secrets.token_urlsafe(32)}"
        else:
            check_token_value(token)
        if expires_at is not None and expires_at <= self.ctx.now():
            raise Invalid("the expiry must be in the future")
        with self.ctx.unit_of_work() as uow:
            session = uow.session
            if (
                reseller_id is not None
                and session.execute(select(resellers.c.id).where(resellers.c.id == reseller_id)).first()
                is None
            ):
                raise NotFound(f"reseller {reseller_id} not found")
            exists = session.execute(
                select(api_tokens.c.id, api_tokens.c.source).where(
                    api_tokens.c.token_hash == token_hash(token)
                )
            ).first()
            if exists is not None and exists.source is None:
                # Registered before tokens had a source (migration 0008): now we know it.
                session.execute(
                    update(api_tokens)
                    .where(api_tokens.c.id == exists.id)
                    .values(source=source, hint=token[:HINT_LENGTH])
                )
            if exists is None:
                session.execute(
                    insert(api_tokens).values(
                        token_hash=token_hash(token),
                        reseller_id=reseller_id,
                        created_at=self.ctx.now(),
                        source=source,
                        hint=token[:HINT_LENGTH],
                        expires_at=expires_at,
                    )
                )
        return token

    def register_environment_admin(self, token: str) -> None:
        """CONTRACTSYNC_ADMIN_TOKEN: registered, and every earlier token from the environment is
        retired (with the console sessions it signed in), so changing the variable rotates it."""
        try:
            check_token_value(token)
        except Invalid as refused:
            raise Invalid(f"CONTRACTSYNC_ADMIN_TOKEN: {refused.message}") from None
        self.create(None, token, source=SOURCE_ENVIRONMENT)
        with self.ctx.unit_of_work() as uow:
            retired = select(api_tokens.c.id).where(
                api_tokens.c.source == SOURCE_ENVIRONMENT, api_tokens.c.token_hash != token_hash(token)
            )
            ids = [row.id for row in uow.session.execute(retired)]
            _delete_tokens(uow.session, ids)
        if ids:
            self.forget()

    # --- authenticating ------------------------------------------------------------------------
    def principal(self, token: str) -> Principal:
        """The token's principal; Unauthorized when it is unknown, revoked or expired."""
        if not MIN_TOKEN_LENGTH <= len(token) <= MAX_TOKEN_LENGTH:
            raise Unauthorized("unknown token")
        key = token_hash(token)
        now = self.ctx.now()
        with self._lock:
            cached = self._cache.get(key)
        if cached is None or cached.fresh_until <= now:
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
            principal = cached.principal
            written = self._used_written.get(principal.token_id)
        if principal.expires_at is not None and principal.expires_at <= now:
            return None
        if written is None or now - written >= LAST_USED_EVERY:
            return None
        return principal.actor

    def _load(self, key: str, now: datetime) -> _Cached:
        with self.ctx.unit_of_work(commit=False) as uow:
            row = uow.session.execute(
                select(
                    api_tokens.c.id,
                    api_tokens.c.reseller_id,
                    api_tokens.c.expires_at,
                    api_tokens.c.last_used_at,
                    api_tokens.c.hint,
                ).where(api_tokens.c.token_hash == key)
            ).first()
        if row is None:
            with self._lock:
                self._cache.pop(key, None)
            raise Unauthorized("unknown token")
        cached = _Cached(
            Principal(row.id, Actor(row.reseller_id, token_name(row.id, row.hint)), row.expires_at),
            now + self._cache_for,
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
            with self.ctx.unit_of_work() as uow:
                uow.session.execute(
                    update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now)
                )
        except SQLAlchemyError as error:  # bookkeeping: never the reason a request is refused
            log.warning("token_last_used_not_recorded", token_id=token_id, error=type(error).__name__)

    def forget(self) -> None:
        """Drop every cached principal (after a revocation)."""
        with self._lock:
            self._cache.clear()

    # --- listing and revoking -------------------------------------------------------------------
    def listed(self, actor: Actor) -> list[JSON]:
        require_admin(actor)
        with self.ctx.unit_of_work(commit=False) as uow:
            rows = uow.session.execute(select(api_tokens).order_by(api_tokens.c.id)).all()
        return [token_view(row) for row in rows]

    def revoke(self, actor: Actor, token_id: int) -> None:
        """The token stops working at once in this process (within CACHE_SECONDS elsewhere) and
        the console sessions it signed in end."""
        require_admin(actor)
        with self.ctx.unit_of_work() as uow:
            found = uow.session.execute(select(api_tokens.c.id).where(api_tokens.c.id == token_id)).first()
            if found is None:
                raise NotFound(f"token {token_id} not found")
            _delete_tokens(uow.session, [token_id])
        self.forget()


def _delete_tokens(session: Any, ids: list[int]) -> None:
    if not ids:
        return
    session.execute(delete(console_sessions).where(console_sessions.c.token_id.in_(ids)))
    session.execute(delete(api_tokens).where(api_tokens.c.id.in_(ids)))


def token_view(row: Any) -> JSON:
    return {
        "id": row.id,
        "kind": "admin" if row.reseller_id is None else "reseller",
        "reseller_id": row.reseller_id,
        "source": row.source or "unknown",
        "hint": f"{row.hint}…" if row.hint else None,
        "created_at": instant(row.created_at),
        "expires_at": instant(row.expires_at),
        "last_used_at": instant(row.last_used_at),
    }


def token_name(token_id: int, hint: str | None = None) -> str:
    """How the audit log names who used a token: its number and first characters."""
    return f"token #{token_id} ({hint}…)" if hint else f"token #{token_id}"
