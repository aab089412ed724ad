"""Create a PSA connection: its URL checked against the outbound allow-list, its credentials
checked with Autotask before it is stored."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contractsync.domain.bounds import URL_MAX_LENGTH
from contractsync.domain.enums import Policy
from contractsync.ports.directory import StoredConnection
from contractsync.service import validation as v
from contractsync.service import views
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_connection, visible_reseller
from contractsync.service.credentials_check import check_credentials
from contractsync.service.errors import Invalid
from contractsync.service.new_rows import require_new

JSON = dict[str, Any]

CONNECTION_FIELDS = {"id", "reseller_id", "kind", "username", "secret", "integration_code", "timezone"}


def create_connection(ctx: ServiceContext, actor: Actor, body: JSON) -> JSON:
    """Stores the connection after checking its URL against the outbound allow-list, and answers
    it with `credentials_check`: what Autotask said to the new credentials."""
    v.fields(body, CONNECTION_FIELDS, {"base_url", "settle_seconds", "policies"})
    if body["kind"] != "autotask":
        raise Invalid("kind must be autotask")
    zone = v.text(body["timezone"], "timezone", 64)
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"timezone is not a known IANA time zone: {zone!r}") from None
    policies_in = body.get("policies") or {}
    if not isinstance(policies_in, dict) or set(policies_in) - {
        "upgrade",
        "legacy_suspend",
        "reseller_change",
    }:
        raise Invalid("policies may name upgrade, legacy_suspend and reseller_change only")
    policies = {k: v.enum(Policy, value, f"policies.{k}").value for k, value in policies_in.items()}
    base_url = v.optional_text(body.get("base_url"), "base_url", URL_MAX_LENGTH)
    connection = StoredConnection(
        id=v.text(body["id"], "id", 100),
        reseller_id=v.text(body["reseller_id"], "reseller_id", 100),
        kind="autotask",
        username=v.credential(body["username"], "username"),
        secret_encrypted=ctx.secrets.encrypt(v.credential(body["secret"], "secret")),
        integration_code=v.credential(body["integration_code"], "integration_code"),
        base_url=None if base_url is None else ctx.outbound.api_root(base_url),
        timezone=zone,
        settle_seconds=v.integer(body.get("settle_seconds", 600), "settle_seconds", 0, 86_400),
        policies=policies,
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
