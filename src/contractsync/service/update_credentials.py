"""New API credentials for a connection, checked with Autotask first."""

from __future__ import annotations

from typing import Any

from contractsync.domain.directory_commands import UpdateCredentials
from contractsync.ports.directory import CredentialsChange
from contractsync.service import validation as v
from contractsync.service import views
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_connection
from contractsync.service.credentials_check import check_credentials

JSON = dict[str, Any]


def update_credentials(
    ctx: ServiceContext, actor: Actor, connection_id: str, command: UpdateCredentials | JSON
) -> JSON:
    """New API credentials (e.g. after a rotated secret), checked with Autotask first. The
    connection's `credentials_version` goes up, so every process uses them from its next call. A
    connection paused because Autotask refused the old ones is probed at once; the first accepted
    call ends the pause."""
    if not isinstance(command, UpdateCredentials):
        command = read_command(command)
    change = CredentialsChange(
        secret_encrypted=ctx.secrets.encrypt(command.secret),
        username=command.username,
        integration_code=command.integration_code,
    )
    with ctx.units(commit=False) as uow:
        current = visible_connection(uow.directory, actor, connection_id)
    checked = check_credentials(ctx, {**vars(current), **change.values()})
    with ctx.units() as uow:
        directory = uow.directory
        visible_connection(directory, actor, connection_id)
        directory.change_credentials(connection_id, change)
        directory.probe_now(connection_id, ctx.now())
        answer = views.connection(
            visible_connection(directory, actor, connection_id), directory.pause(connection_id)
        )
    return answer | {"credentials_check": checked}


def read_command(body: JSON) -> UpdateCredentials:
    """The API.md body {secret, username?, integration_code?} as the command, read by the same rules."""
    v.fields(body, {"secret"}, {"username", "integration_code"})
    return v.check(lambda: UpdateCredentials.build(**body))
