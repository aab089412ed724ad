"""Use case `update_partner_center_source`: new credentials, poll interval, price list or webhook
URL of a source; only what the change names changes."""

from __future__ import annotations

from typing import Any

from contractsync.domain.partner_center_commands import UpdatePartnerCenterSource
from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext
from contractsync.service.partner_center_sources import load, source_view

JSON = dict[str, Any]
CHANGEABLE = {"secret", "refresh_token", "poll_minutes", "price_list", "webhook_url"}


def update_source(
    ctx: ServiceContext, actor: Actor, source_id: str, command: UpdatePartnerCenterSource | JSON
) -> JSON:
    """New credentials (`secret`, `refresh_token`), `poll_minutes`, `price_list` or `webhook_url`:
    an `UpdatePartnerCenterSource`, or its body."""
    if not isinstance(command, UpdatePartnerCenterSource):
        command = read_changes(command)
    values: JSON = {}
    if command.secret is not None:
        values["secret_encrypted"] = ctx.secrets.encrypt(command.secret)
    if command.refresh_token is not None:
        values["refresh_token_encrypted"] = ctx.secrets.encrypt(command.refresh_token)
    if command.poll_minutes is not None:
        values["poll_minutes"] = command.poll_minutes
    if command.price_list is not None:
        values["price_list"] = dict(command.price_list)
    if "webhook_url" in command.changes:
        values["webhook_url"] = command.webhook_url
    with ctx.units() as uow:
        load(uow.partner_center, actor, source_id)
        uow.partner_center.update(source_id, values)
        return source_view(uow.partner_center, load(uow.partner_center, actor, source_id))


def read_changes(body: JSON) -> UpdatePartnerCenterSource:
    """The API.md body as the command, read by the same rules."""
    v.fields(body, set(), CHANGEABLE)
    return v.check(lambda: UpdatePartnerCenterSource.build(**body))
