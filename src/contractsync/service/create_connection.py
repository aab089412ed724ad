"""Create a PSA connection: its URL checked against the outbound allow-list, its credentials
checked with Autotask before it is stored."""

from __future__ import annotations

from typing import Any

from contractsync.domain.directory_commands import CreateConnection
from contractsync.ports.directory import StoredConnection
from contractsync.service import validation as v
from contractsync.service import views
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_connection, visible_reseller
from contractsync.service.credentials_check import check_credentials
from contractsync.service.new_rows import require_new

JSON = dict[str, Any]

CONNECTION_FIELDS = {"id", "reseller_id", "kind", "username", "secret", "integration_code", "timezone"}


def create_connection(ctx: ServiceContext, actor: Actor, command: CreateConnection | JSON) -> JSON:
    """Stores the connection after checking its URL against the outbound allow-list, and answers
    it with `credentials_check`: what Autotask said to the new credentials. `command`: built by the
    API from its body, or the API.md body itself."""
    if not isinstance(command, CreateConnection):
        command = read_command(command)
    connection = StoredConnection(
        id=command.id,
        reseller_id=command.reseller_id,
        kind=command.kind,
        username=command.username,
        secret_encrypted=ctx.secrets.encrypt(command.secret),
        integration_code=command.integration_code,
        base_url=None if command.base_url is None else ctx.outbound.api_root(command.base_url),
        timezone=command.timezone,
        settle_seconds=command.settle_seconds,
        policies=dict(command.policies),
        created_at=ctx.now(),
    )
    with ctx.units(commit=False) as uow:
        visible_reseller(uow.directory, actor, connection.reseller_id)  # before any call on its behalf
    checked = check_credentials(ctx, vars(connection))
    with ctx.units() as uow:
        visible_reseller(uow.directory, actor, connection.reseller_id)
        require_new(uow.directory.add_connection(connection), "connection", connection.id)
        answer = views.connection(visible_connection(uow.directory, actor, connection.id))
    return answer | {"credentials_check": checked}


def read_command(body: JSON) -> CreateConnection:
    """The API.md body as the command, read by the same rules."""
    v.fields(body, CONNECTION_FIELDS, {"base_url", "settle_seconds", "policies"})
    return v.check(lambda: CreateConnection.build(**body))
