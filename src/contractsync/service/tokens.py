"""API tokens: random, shown once, stored as SHA-256 hashes; listable, revocable, optionally
expiring, with the time of their last use (to the minute). What every token use case shares: the
hash, the checks of a chosen token and of a name, how the audit log names a token, its listing.

Use cases: `create_token`, `register_admin_token`, `issue_token`, `revoke_token`, `token_queries`;
authentication (cached) is `token_authority.TokenAuthority`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from contractsync.ports.api_tokens import StoredToken
from contractsync.service.errors import Conflict, Invalid
from contractsync.service.views import instant

JSON = dict[str, Any]

MIN_TOKEN_LENGTH = 24
MAX_TOKEN_LENGTH = 512
HINT_LENGTH = 8  # "cs_" and five random characters: enough to tell a generated token from another
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


def name_taken(name: str | None) -> Conflict:
    return Conflict(f"a token named {name!r} exists already (names tell tokens apart in the audit log)")
