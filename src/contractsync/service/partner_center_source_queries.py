"""Queries of the Partner Center sources: each with its poll, as its reseller sees it."""

from __future__ import annotations

from typing import Any

from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext
from contractsync.service.partner_center_sources import load, source_view

JSON = dict[str, Any]


def list_sources(ctx: ServiceContext, actor: Actor) -> list[JSON]:
    with ctx.units(commit=False) as uow:
        return [source_view(uow.partner_center, s) for s in uow.partner_center.sources(actor.reseller_id)]


def get_source(ctx: ServiceContext, actor: Actor, source_id: str) -> JSON:
    with ctx.units(commit=False) as uow:
        return source_view(uow.partner_center, load(uow.partner_center, actor, source_id))
