"""PSA connections. The secret is write-only: it goes in here and never comes out."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import Field

from contractsync.api import answers as A
from contractsync.api.deps import CurrentActor, Service
from contractsync.api.routes._common import JSON, IdPath, answers, given
from contractsync.api.types import (
    Body,
    Credential,
    EntityId,
    Policy,
    SettleSeconds,
    TimeZoneName,
    Url,
)
from contractsync.domain.directory_commands import CreateConnection, UpdateCredentials
from contractsync.service.validation import check

router = APIRouter(prefix="/v1/connections", tags=["connections"])


class Policies(Body):
    upgrade: Policy = "manual"
    legacy_suspend: Policy = "manual"
    reseller_change: Policy = "manual"


class NewConnection(Body):
    id: EntityId
    reseller_id: EntityId
    kind: Literal["autotask"]
    username: Credential
    # repr=False keeps the secret out of tracebacks and debug logs.
    secret: Annotated[Credential, Field(repr=False, json_schema_extra={"writeOnly": True})]
    integration_code: Credential
    base_url: Url | None = None
    timezone: TimeZoneName
    settle_seconds: SettleSeconds | None = None
    policies: Policies | None = None


def new_connection(body: NewConnection) -> CreateConnection:
    """The command the validated body asks for: the policies the client named (the others stay
    unset, as in the body)."""
    values = given(body)
    if body.policies is not None:
        values["policies"] = {name: getattr(body.policies, name) for name in body.policies.model_fields_set}
    return check(lambda: CreateConnection.build(**values))


@router.post("", status_code=201, response_model=None, responses=answers(A.Connection, 201))
def create_connection(body: NewConnection, actor: CurrentActor, service: Service) -> JSON:
    """Answers the connection without its secret."""
    return service.create_connection(actor, new_connection(body))


@router.get("", response_model=None, responses=answers(list[A.Connection]))
def list_connections(actor: CurrentActor, service: Service) -> list[JSON]:
    return service.list_connections(actor)


class NewCredentials(Body):
    secret: Annotated[Credential, Field(repr=False, json_schema_extra={"writeOnly": True})]
    username: Credential | None = None
    integration_code: Credential | None = None


@router.put("/{connection_id}/credentials", response_model=None, responses=answers(A.Connection))
def update_credentials(
    connection_id: IdPath, body: NewCredentials, actor: CurrentActor, service: Service
) -> JSON:
    """New API credentials (a rotated secret). A connection paused because Autotask refused the
    old ones is probed at once; the first call Autotask accepts ends the pause."""
    command = check(lambda: UpdateCredentials.build(**given(body)))
    return service.update_credentials(actor, connection_id, command)
