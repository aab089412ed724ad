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

from contractsync.ports.api_tokens import NewToken, StoredToken
from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, require_admin
from contractsync.service.errors import Conflict, Invalid, NotFound, Unauthorized
from contractsync.service.views import instant

JSON = dict[str, Any]
log = structlog.get_logger(__name__)

MIN_TOKEN_LENGTH = 24
MAX_TOKEN_LENGTH = 512
CACHE_SECONDS = 5
LAST_USED_EVERY = timedelta(minutes=1)
HINT_LENGTH = 4
MAX_NAME_LENGTH = 60

SOURCE_ENVIRONMENT = "environment"
SOURCE_GENERATED = "generated"
SOURCE_CLI = "cli"
SOURCE_API = "api"


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
        name: str | None = None,
    ) -> str:
        """A new token (or register a given one). None: an admin token. `name` is who the audit
        log says used it (unique). Registering a token that exists already changes nothing
        (except giving a token from before migration 0008 its source)."""
        if token is None:
            token = f"cs_{secrets.token_urlsafe(32)}"
        else:
            check_token_value(token)
        if name is not None:
            name = check_token_name(name)
        if expires_at is not None and expires_at <= self.ctx.now():
            raise Invalid("the expiry must be in the future")
        with self.ctx.units() as uow:
            if reseller_id is not None and uow.directory.reseller(reseller_id) is None:
                raise NotFound(f"reseller {reseller_id} not found")
            exists = uow.api_tokens.by_hash(token_hash(token))
            if exists is not None and exists.source is None:
                # Registered before tokens had a source (migration 0008): now we know it.
                uow.api_tokens.set_source(exists.id, source, token[:HINT_LENGTH])
            if exists is None:
                if name is not None and uow.api_tokens.named(name) is not None:
                    raise _name_taken(name)
                added = uow.api_tokens.add(
                    NewToken(
                        token_hash=token_hash(token),
                        reseller_id=reseller_id,
                        created_at=self.ctx.now(),
                        source=source,
                        hint=token[:HINT_LENGTH],
                        expires_at=expires_at,
                        name=name,
                    )
                )
                # Lost a race with a concurrent create: the same token (e.g. two processes
                # registering CONTRACTSYNC_ADMIN_TOKEN) is there now; else the name was taken.
                if added is None and uow.api_tokens.by_hash(token_hash(token)) is None:
                    raise _name_taken(name)
        return token

    def register_environment_admin(self, token: str) -> None:
        """CONTRACTSYNC_ADMIN_TOKEN: registered, and every earlier token from the environment is
        retired (with the console sessions it signed in), so changing the variable rotates it."""
        try:
            check_token_value(token)
        except Invalid as refused:
            raise Invalid(f"CONTRACTSYNC_ADMIN_TOKEN: {refused.message}") from None
        self.create(None, token, source=SOURCE_ENVIRONMENT)
        with self.ctx.units() as uow:
            ids = uow.api_tokens.ids_from(SOURCE_ENVIRONMENT, token_hash(token))
            uow.api_tokens.remove(ids)
        if ids:
            self.forget()

    def issue(self, actor: Actor, body: JSON) -> JSON:
        """Admin only. body {name, reseller_id?: null (an admin token), expires_in_days?: 1..3650}:
        the token's listing with the token itself, shown this once."""
        require_admin(actor)
        v.fields(body, {"name"}, {"reseller_id", "expires_in_days"})
        days = body.get("expires_in_days")
        expires_at = (
            None
            if days is None
            else self.ctx.now() + timedelta(days=v.integer(days, "expires_in_days", 1, 3650))
        )
        reseller_id = None if body.get("reseller_id") is None else str(body["reseller_id"])
        token = self.create(reseller_id, source=SOURCE_API, expires_at=expires_at, name=body["name"])
        with self.ctx.units(commit=False) as uow:
            stored = uow.api_tokens.by_hash(token_hash(token))
        assert stored is not None
        return token_view(stored) | {"token": token}

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
        with self.ctx.units(commit=False) as uow:
            row = uow.api_tokens.by_hash(key)
        if row is None:
            with self._lock:
                self._cache.pop(key, None)
            raise Unauthorized("unknown token")
        cached = _Cached(
            Principal(row.id, Actor(row.reseller_id, token_label(row)), row.expires_at), now + self._cache_for
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

    # --- listing and revoking -------------------------------------------------------------------
    def listed(self, actor: Actor) -> list[JSON]:
        require_admin(actor)
        with self.ctx.units(commit=False) as uow:
            rows = uow.api_tokens.listed()
        return [token_view(row) for row in rows]

    def revoke(self, actor: Actor, token_id: int) -> None:
        """The token stops working at once in this process (within CACHE_SECONDS elsewhere) and
        the console sessions it signed in end."""
        require_admin(actor)
        with self.ctx.units() as uow:
            if uow.api_tokens.token(token_id) is None:
                raise NotFound(f"token {token_id} not found")
            uow.api_tokens.remove([token_id])
        self.forget()


def token_view(row: StoredToken) -> JSON:
    return {
        "id": row.id,
        "name": row.name,
        "kind": "admin" if row.reseller_id is None else "reseller",
        "reseller_id": row.reseller_id,
        "source": row.source or "unknown",
        "hint": f"{row.hint}…" if row.hint else None,
        "created_at": instant(row.created_at),
        "expires_at": instant(row.expires_at),
        "last_used_at": instant(row.last_used_at),
    }


def token_name(token_id: int, hint: str | None = None) -> str:
    """How the audit log names who used a token without a name: its number and first characters."""
    return f"token #{token_id} ({hint}…)" if hint else f"token #{token_id}"


def token_label(token: StoredToken) -> str:
    """Who the audit log says used the token: its name, else its number and first characters."""
    return token.name or token_name(token.id, token.hint)


def check_token_name(name: str) -> str:
    """A token's name: 1 to 60 printable characters, spaces at either end dropped."""
    if not isinstance(name, str):
        raise Invalid("name: must be text")
    cleaned = name.strip()
    if not cleaned:
        raise Invalid("name: must not be empty")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise Invalid(f"name: at most {MAX_NAME_LENGTH} characters")
    if not cleaned.isprintable():
        raise Invalid("name: must be printable (no control characters or line breaks)")
    return cleaned


def _name_taken(name: str | None) -> Conflict:
    return Conflict(f"a token named {name!r} exists already (names tell tokens apart in the audit log)")
