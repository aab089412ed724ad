"""Poll a Partner Center source now (or resume a poll that stopped)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contractsync.service.actor import Actor
from contractsync.service.errors import Unavailable

if TYPE_CHECKING:
    from contractsync.service.partner_center_poll import PartnerCenterPolling

JSON = dict[str, Any]


def poll_partner_center(polling: PartnerCenterPolling, actor: Actor, source_id: str) -> JSON:
    """Answers the source with its poll; a poll that stops answers 503 and resumes next time."""
    from contractsync.service.partner_center_poll import PollFailed

    try:
        return polling.poll(actor, source_id)
    except PollFailed as error:
        raise Unavailable(f"the poll stopped and resumes where it stopped: {error}") from None
