"""Create a reseller (admin only)."""

from __future__ import annotations

from typing import Any

from contractsync.domain.directory_commands import CreateReseller
from contractsync.domain.model import Reseller
from contractsync.service import validation as v
from contractsync.service import views
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, require_admin, visible_reseller
from contractsync.service.new_rows import require_new

JSON = dict[str, Any]


def create_reseller(ctx: ServiceContext, actor: Actor, command: CreateReseller | JSON) -> JSON:
    """`command`: built by the API from its body, or the API.md body itself."""
    require_admin(actor)
    if not isinstance(command, CreateReseller):
        command = read_command(command)
    reseller = Reseller(id=command.id, name=command.name, promotion_setting=command.promotion_setting)
    with ctx.units() as uow:
        require_new(uow.directory.add_reseller(reseller), "reseller", reseller.id)
        return views.reseller(visible_reseller(uow.directory, actor, reseller.id))


def read_command(body: JSON) -> CreateReseller:
    """The API.md body as the command, read by the same rules."""
    v.fields(body, {"id", "name"}, {"promotion_setting"})
    return v.check(lambda: CreateReseller.build(**body))
