"""A Partner Center webhook event: its signature verified, then only what it names is fetched
(its payload is not state)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from contractsync.ports.partner_center_api import PartnerCenterError, SignatureRefused, WebhookVerifier
from contractsync.service.actor import Actor
from contractsync.service.errors import Invalid, Unauthorized, Unavailable
from contractsync.service.partner_center_source_queries import get_source

if TYPE_CHECKING:
    from contractsync.service.partner_center_poll import PartnerCenterPolling

JSON = dict[str, Any]
_RESOURCE = re.compile(r"/customers/([^/?#]+)/subscriptions/([^/?#]+)", re.IGNORECASE)


def receive_partner_center_event(
    polling: PartnerCenterPolling,
    verifier: WebhookVerifier,
    source_id: str,
    headers: Mapping[str, str],
    body: bytes,
) -> JSON:
    """Verify the signature; then only fetch what the event names (its payload is not state)."""
    try:
        verifier.verify(headers, body, polling.ctx.now())
    except SignatureRefused as refused:
        raise Unauthorized(f"webhook signature refused: {refused}") from None
    get_source(polling.ctx, Actor(None), source_id)  # NotFound for an unknown source
    try:
        event = json.loads(body)
    except ValueError:
        raise Invalid("the event is not JSON") from None
    if not isinstance(event, dict):
        raise Invalid("the event must be a JSON object")
    fields = {str(key).lower(): value for key, value in event.items()}
    name = str(fields.get("eventname") or "")
    if name != "subscription-updated":
        return {
            "event": name,
            "fetched": None,
            "reason": "only subscription-updated events name a subscription",
        }
    match = _RESOURCE.search(str(fields.get("resourceuri") or ""))
    if match is None:
        raise Invalid("ResourceUri does not name a customer's subscription")
    try:
        outcome = polling.refresh_subscription(source_id, match[1].lower(), match[2].lower())
    except PartnerCenterError as error:
        raise Unavailable(f"the subscription could not be fetched: {error.message}") from None
    return {"event": name, "fetched": outcome}
