"""Use case `create_partner_center_source`: a reseller's CSP partner tenant, its credentials stored
encrypted, its endpoints checked against the allow-list (default Microsoft's)."""

from __future__ import annotations

from typing import Any

from contractsync.domain.partner_center_commands import CreatePartnerCenterSource
from contractsync.ports.partner_center import PartnerCenterSource
from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_reseller
from contractsync.service.errors import Conflict
from contractsync.service.partner_center_sources import checked_url, load, source_view

JSON = dict[str, Any]
REQUIRED = {"id", "reseller_id", "tenant_id", "application_id", "secret", "refresh_token"}
OPTIONAL = {"authority_host", "api_root", "poll_minutes", "price_list", "webhook_url"}


def create_source(ctx: ServiceContext, actor: Actor, command: CreatePartnerCenterSource | JSON) -> JSON:
    """`command`: built by the API from its body, or the API.md body itself."""
    if not isinstance(command, CreatePartnerCenterSource):
        command = read_new_source(command)
    kit = ctx.partner_center_kit
    source = PartnerCenterSource(
        id=command.id,
        reseller_id=command.reseller_id,
        tenant_id=command.tenant_id,
        application_id=command.application_id,
        secret_encrypted=ctx.secrets.encrypt(command.secret),
        refresh_token_encrypted=ctx.secrets.encrypt(command.refresh_token),
        authority_host=checked_url(ctx, command.authority_host or kit.default_authority, "authority_host"),
        api_root=checked_url(ctx, command.api_root or kit.default_api, "api_root"),
        poll_minutes=command.poll_minutes,
        price_list=dict(command.price_list),
        webhook_url=command.webhook_url,
        created_at=ctx.now(),
    )
    with ctx.units() as uow:
        visible_reseller(uow.directory, actor, source.reseller_id)
        if not uow.partner_center.add(source, ctx.now()):
            raise Conflict(f"Partner Center source {source.id} exists already")
        return source_view(uow.partner_center, load(uow.partner_center, actor, source.id))


def read_new_source(body: JSON) -> CreatePartnerCenterSource:
    """The API.md body as the command, read by the same rules."""
    v.fields(body, REQUIRED, OPTIONAL)
    return v.check(lambda: CreatePartnerCenterSource.build(**body))
