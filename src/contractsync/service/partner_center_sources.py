"""Partner Center sources: one per reseller's CSP partner tenant, with the app + user credentials
(application id and secret, and the refresh token sign-in rotates) stored encrypted, never answered.
What the use cases share: a source as its reseller sees it, its answer, its poll's manual actions,
the endpoint check. Use cases: `create_partner_center_source`, `update_partner_center_source`;
queries: `partner_center_source_queries`.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from contractsync.domain.bounds import ROOT_URL_MAX_LENGTH
from contractsync.ports.partner_center import PartnerCenterSource, PartnerCenterSources, PollState
from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext
from contractsync.service.errors import Invalid, NotFound

JSON = dict[str, Any]


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


def checked_url(ctx: ServiceContext, value: object, field: str) -> str:
    url = v.text(value, field, ROOT_URL_MAX_LENGTH).rstrip("/")
    try:
        return ctx.partner_center_kit.check_url(url)
    except ValueError as refused:
        raise Invalid(f"{field}: {refused}", {"field": field}) from None


def _instant(value: Any) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")
