"""Register a URL for a source's subscription-updated events with Partner Center."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contractsync.ports.partner_center_api import PartnerCenterError
from contractsync.service.actor import Actor
from contractsync.service.errors import Unavailable

if TYPE_CHECKING:
    from contractsync.service.partner_center_poll import PartnerCenterPolling

JSON = dict[str, Any]


def register_partner_center_webhook(
    polling: PartnerCenterPolling, actor: Actor, source_id: str, url: str
) -> JSON:
    try:
        return polling.register_webhook(actor, source_id, url)
    except PartnerCenterError as error:
        raise Unavailable(f"Partner Center refused the registration: {error.message}") from None
