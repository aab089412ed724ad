"""Partner Center sources: one per reseller's CSP partner tenant, with the app + user credentials
(application id and secret, and the refresh token sign-in rotates) stored encrypted, never answered.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from contractsync.domain.bounds import ROOT_URL_MAX_LENGTH, WEBHOOK_URL_MAX_LENGTH
from contractsync.domain.money import format_money
from contractsync.ports.partner_center import PartnerCenterSource, PartnerCenterSources, PollState
from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_reseller
from contractsync.service.errors import Conflict, Invalid, NotFound

JSON = dict[str, Any]
DEFAULT_POLL_MINUTES = 15
REQUIRED = {"id", "reseller_id", "tenant_id", "application_id", "secret", "refresh_token"}
OPTIONAL = {"authority_host", "api_root", "poll_minutes", "price_list", "webhook_url"}


def create_source(ctx: ServiceContext, actor: Actor, body: JSON) -> JSON:
    v.fields(body, REQUIRED, OPTIONAL)
    source_id = v.text(body["id"], "id", 100)
    reseller_id = v.text(body["reseller_id"], "reseller_id", 100)
    kit = ctx.partner_center_kit
    source = PartnerCenterSource(
        id=source_id,
        reseller_id=reseller_id,
        tenant_id=v.text(body["tenant_id"], "tenant_id", 100),
        application_id=v.text(body["application_id"], "application_id", 100),
        secret_encrypted=ctx.secrets.encrypt(v.text(body["secret"], "secret", 2000)),
        refresh_token_encrypted=ctx.secrets.encrypt(v.text(body["refresh_token"], "refresh_token", 10_000)),
        authority_host=_url(ctx, body.get("authority_host") or kit.default_authority, "authority_host"),
        api_root=_url(ctx, body.get("api_root") or kit.default_api, "api_root"),
        poll_minutes=v.integer(body.get("poll_minutes", DEFAULT_POLL_MINUTES), "poll_minutes", 1, 1440),
        price_list=price_list(body.get("price_list") or {}),
        webhook_url=v.optional_text(body.get("webhook_url"), "webhook_url", WEBHOOK_URL_MAX_LENGTH),
        created_at=ctx.now(),
    )
    with ctx.units() as uow:
        visible_reseller(uow.directory, actor, reseller_id)
        if not uow.partner_center.add(source, ctx.now()):
            raise Conflict(f"Partner Center source {source_id} exists already")
        return source_view(uow.partner_center, load(uow.partner_center, actor, source_id))


def list_sources(ctx: ServiceContext, actor: Actor) -> list[JSON]:
    with ctx.units(commit=False) as uow:
        return [source_view(uow.partner_center, s) for s in uow.partner_center.sources(actor.reseller_id)]


def get_source(ctx: ServiceContext, actor: Actor, source_id: str) -> JSON:
    with ctx.units(commit=False) as uow:
        return source_view(uow.partner_center, load(uow.partner_center, actor, source_id))


def update_source(ctx: ServiceContext, actor: Actor, source_id: str, body: JSON) -> JSON:
    """New credentials (`secret`, `refresh_token`), `poll_minutes` or `price_list`."""
    v.fields(body, set(), {"secret", "refresh_token", "poll_minutes", "price_list", "webhook_url"})
    values: JSON = {}
    if "secret" in body:
        values["secret_encrypted"] = ctx.secrets.encrypt(v.text(body["secret"], "secret", 2000))
    if "refresh_token" in body:
        values["refresh_token_encrypted"] = ctx.secrets.encrypt(
            v.text(body["refresh_token"], "refresh_token", 10_000)
        )
    if "poll_minutes" in body:
        values["poll_minutes"] = v.integer(body["poll_minutes"], "poll_minutes", 1, 1440)
    if "price_list" in body:
        values["price_list"] = price_list(body["price_list"])
    if "webhook_url" in body:
        values["webhook_url"] = v.optional_text(body["webhook_url"], "webhook_url", WEBHOOK_URL_MAX_LENGTH)
    with ctx.units() as uow:
        load(uow.partner_center, actor, source_id)
        uow.partner_center.update(source_id, values)
        return source_view(uow.partner_center, load(uow.partner_center, actor, source_id))


def store_refresh_token(ctx: ServiceContext, source_id: str, token: str) -> None:
    """Keep the refresh token sign-in rotated, so the next run starts from it."""
    with ctx.units() as uow:
        uow.partner_center.update(source_id, {"refresh_token_encrypted": ctx.secrets.encrypt(token)})


def load(sources: PartnerCenterSources, actor: Actor, source_id: str) -> PartnerCenterSource:
    row = sources.source(source_id)
    if row is None or not actor.can_see(row.reseller_id):
        raise NotFound(f"Partner Center source {source_id} not found")
    return row


def source_view(sources: PartnerCenterSources, row: PartnerCenterSource) -> JSON:
    poll = sources.poll(row.id)
    return {
        "id": row.id,
        "reseller_id": row.reseller_id,
        "tenant_id": row.tenant_id,
        "application_id": row.application_id,
        "authority_host": row.authority_host,
        "api_root": row.api_root,
        "poll_minutes": row.poll_minutes,
        "price_list": row.price_list,
        "webhook_url": row.webhook_url,
        "created_at": _instant(row.created_at),
        "poll": poll_view(poll),
    }


def poll_view(poll: PollState) -> JSON:
    return {
        "status": poll.status,
        "started_at": _instant(poll.started_at),
        "last_poll_at": _instant(poll.finished_at),
        "next_poll_at": _instant(poll.next_poll_at),
        "resumes_at_page": poll.page_token is not None or poll.page_index > 0
        if poll.status != "idle"
        else False,
        "progress": poll.progress,
        "last_error": poll.last_error,
        "manual_actions": poll.manual_actions,
    }


MANUAL_INSTRUCTIONS = {
    "needs_price": "Add the offer's list price to the source's price list "
    "(PATCH /v1/partner-center/sources/{id} price_list); the next poll creates the subscription.",
    "needs_customer": "Set the customer's tenant id (or let the next poll create the customer).",
    "failed": "Read the reason; the next poll tries again.",
}
LISTED_KINDS = ("needs_price", "needs_customer")


def poll_manual_actions(sources: PartnerCenterSources, reseller_id: str | None) -> list[JSON]:
    """The open `needs_price` / `needs_customer` items of the sources' last polls, as items of
    `GET /v1/manual-actions` (`kind` tells them apart); `reseller_id` None: every reseller's."""
    items: list[JSON] = []
    for source in sources.sources(reseller_id):
        poll = sources.poll(source.id)
        for index, item in enumerate(poll.manual_actions or []):
            if item.get("kind") not in LISTED_KINDS:
                continue
            items.append(
                {
                    "id": f"partner-center:{source.id}:{index}",
                    "kind": item["kind"],
                    "source_id": source.id,
                    "reseller_id": source.reseller_id,
                    "subscription_id": item.get("subscription_id"),
                    "tenant_id": item.get("tenant_id"),
                    "reason": item.get("reason"),
                    "instruction": MANUAL_INSTRUCTIONS[item["kind"]],
                    "status": "open",
                    "created_at": _instant(poll.started_at),
                }
            )
    return items


def next_poll(now: Any, minutes: int) -> Any:
    return now + timedelta(minutes=minutes)


def price_list(raw: object) -> dict[str, str]:
    """`{"offerId or productId:skuId": "list price"}`; prices are decimals ≥ 0, kept as text."""
    if not isinstance(raw, dict):
        raise Invalid("price_list must be an object of offer id → list price")
    if len(raw) > 10_000:
        raise Invalid("price_list holds at most 10000 offers")
    table: dict[str, str] = {}
    for key, value in raw.items():
        offer = v.text(key, "price_list key", 200).upper()
        table[offer] = format_money(v.decimal(value, f"price_list.{key}", "0", "1000000"))
    return table


def price_table(row: PartnerCenterSource) -> dict[str, Decimal]:
    return {key: Decimal(value) for key, value in (row.price_list or {}).items()}


def _url(ctx: ServiceContext, value: object, field: str) -> str:
    url = v.text(value, field, ROOT_URL_MAX_LENGTH).rstrip("/")
    try:
        return ctx.partner_center_kit.check_url(url)
    except ValueError as refused:
        raise Invalid(f"{field}: {refused}", {"field": field}) from None


def _instant(value: Any) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")
