"""Admin only: a named token made through the API, shown once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from contractsync.domain.commands import IssueToken
from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, require_admin
from contractsync.service.create_token import create_token
from contractsync.service.tokens import SOURCE_API, token_hash, token_view

JSON = dict[str, Any]


def issue_token(ctx: ServiceContext, actor: Actor, command: IssueToken | JSON) -> JSON:
    """Admin only. An `IssueToken`, or its body {name, reseller_id?: null (an admin token),
    expires_in_days?: 1..3650}: the token's listing with the token itself, shown this once."""
    require_admin(actor)
    if not isinstance(command, IssueToken):
        command = read_command(command)
    days = command.expires_in_days
    expires_at = None if days is None else ctx.now() + timedelta(days=days)
    token = create_token(
        ctx, command.reseller_id, source=SOURCE_API, expires_at=expires_at, name=command.name
    )
    with ctx.units(commit=False) as uow:
        stored = uow.api_tokens.by_hash(token_hash(token))
    assert stored is not None
    return token_view(stored) | {"token": token}


def read_command(body: JSON) -> IssueToken:
    """The API.md body as the command, read by the same rules."""
    v.fields(body, {"name"}, {"reseller_id", "expires_in_days"})
    return v.check(lambda: IssueToken.build(**body))
