"""Create a reseller (admin only)."""

from __future__ import annotations

from typing import Any

from contractsync.domain.enums import PromotionSetting
from contractsync.domain.model import Reseller
from contractsync.service import validation as v
from contractsync.service import views
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, require_admin, visible_reseller
from contractsync.service.new_rows import require_new

JSON = dict[str, Any]


def create_reseller(ctx: ServiceContext, actor: Actor, body: JSON) -> JSON:
    require_admin(actor)
    v.fields(body, {"id", "name"}, {"promotion_setting"})
    reseller = Reseller(
        id=v.text(body["id"], "id", 100),
        name=v.text(body["name"], "name", 300),
        promotion_setting=v.enum(
            PromotionSetting, body.get("promotion_setting", "pass_through"), "promotion_setting"
        ),
    )
    with ctx.units() as uow:
        require_new(uow.directory.add_reseller(reseller), "reseller", reseller.id)
        return views.reseller(visible_reseller(uow.directory, actor, reseller.id))
