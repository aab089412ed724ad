"""Partner Center sources: one per reseller's CSP partner tenant, with the app + user credentials
(application id and secret, and the refresh token sign-in rotates) stored encrypted, never answered.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from contractsync.domain.bounds import ROOT_URL_MAX_LENGTH
from contractsync.domain.partner_center_commands import CreatePartnerCenterSource, UpdatePartnerCenterSource
from contractsync.ports.partner_center import PartnerCenterSource, PartnerCenterSources, PollState
from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_reseller
from contractsync.service.errors import Conflict, Invalid, NotFound

JSON = dict[str, Any]
REQUIRED = {"id", "reseller_id", "tenant_id", "application_id", "secret", "refresh_token"}
OPTIONAL = {"authority_host", "api_root", "poll_minutes", "price_list", "webhook_url"}
CHANGEABLE = {"secret", "refresh_token", "poll_minutes", "price_list", "webhook_url"}


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
        authority_host=_url(ctx, command.authority_host or kit.default_authority, "authority_host"),
        api_root=_url(ctx, command.api_root or kit.default_api, "api_root"),
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


def list_sources(ctx: ServiceContext, actor: Actor) -> list[JSON]:
    with ctx.units(commit=False) as uow:
        return [source_view(uow.partner_center, s) for s in uow.partner_center.sources(actor.reseller_id)]


def get_source(ctx: ServiceContext, actor: Actor, source_id: str) -> JSON:
    with ctx.units(commit=False) as uow:
        return source_view(uow.partner_center, load(uow.partner_center, actor, source_id))


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


def read_new_source(body: JSON) -> CreatePartnerCenterSource:
    """The API.md body as the command, read by the same rules."""
    v.fields(body, REQUIRED, OPTIONAL)
    return v.check(lambda: CreatePartnerCenterSource.build(**body))


def read_changes(body: JSON) -> UpdatePartnerCenterSource:
    """The API.md body as the command, read by the same rules."""
    v.fields(body, set(), CHANGEABLE)
    return v.check(lambda: UpdatePartnerCenterSource.build(**body))


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
