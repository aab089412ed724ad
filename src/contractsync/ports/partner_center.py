"""Partner Center sources (one per reseller's CSP tenant, credentials encrypted) and their poll state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class PartnerCenterSource:
    id: str
    reseller_id: str
    tenant_id: str
    application_id: str
    secret_encrypted: str
    refresh_token_encrypted: str
    authority_host: str
    api_root: str
    poll_minutes: int
    created_at: datetime
    #: offer id (or productId:skuId) → list price, as text
    price_list: dict[str, str] = field(default_factory=dict)
    webhook_url: str | None = None


@dataclass(frozen=True)
class PollState:
    """Where a source's poll stands: idle, running (leased until `lease_until`) or failed, and the
    cursor (page token and index) a stopped poll resumes at."""

    source_id: str
    status: str
    next_poll_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    lease_until: datetime | None = None
    page_token: str | None = None
    page_index: int = 0
    progress: dict[str, Any] = field(default_factory=dict)
    last_error: str | None = None
    manual_actions: list[Any] = field(default_factory=list)


class PartnerCenterSources(Protocol):
    def add(self, source: PartnerCenterSource, first_poll_at: datetime) -> bool:
        """The source with an idle poll due at `first_poll_at`; False (nothing stored) when its id exists."""
        ...

    def source(self, source_id: str) -> PartnerCenterSource | None: ...

    def sources(self, only: str | None = None) -> list[PartnerCenterSource]:
        """By id; `only`: one reseller's."""
        ...

    def update(self, source_id: str, changes: dict[str, Any]) -> None:
        """Set these fields of the source."""
        ...

    def poll(self, source_id: str) -> PollState: ...

    def due(self, now: datetime) -> list[str]:
        """Sources whose poll is due and not leased, by id."""
        ...

    def claim(self, source_id: str, now: datetime, changes: dict[str, Any]) -> bool:
        """Set these fields of the poll state if no lease runs at `now`; False when one does."""
        ...

    def save_poll(self, source_id: str, changes: dict[str, Any]) -> None: ...
