"""The Partner Center sources port in memory."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from contractsync.ports.partner_center import PartnerCenterSource, PollState

if TYPE_CHECKING:
    from contractsync.adapters.memory.unit_of_work import MemoryData


class MemoryPartnerCenterSources:
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    def add(self, source: PartnerCenterSource, first_poll_at: datetime) -> bool:
        if source.id in self.data.sources:
            return False
        self.data.sources[source.id] = source
        self.data.polls[source.id] = PollState(source.id, "idle", first_poll_at)
        return True

    def source(self, source_id: str) -> PartnerCenterSource | None:
        return self.data.sources.get(source_id)

    def sources(self, only: str | None = None) -> list[PartnerCenterSource]:
        return [s for _, s in sorted(self.data.sources.items()) if only in (None, s.reseller_id)]

    def update(self, source_id: str, changes: dict[str, Any]) -> None:
        self.data.sources[source_id] = replace(self.data.sources[source_id], **changes)

    def poll(self, source_id: str) -> PollState:
        return self.data.polls[source_id]

    def _free(self, poll: PollState, now: datetime) -> bool:
        return poll.lease_until is None or poll.lease_until < now

    def due(self, now: datetime) -> list[str]:
        return sorted(k for k, p in self.data.polls.items() if p.next_poll_at <= now and self._free(p, now))

    def claim(self, source_id: str, now: datetime, changes: dict[str, Any]) -> bool:
        if not self._free(self.data.polls[source_id], now):
            return False
        self.save_poll(source_id, changes)
        return True

    def save_poll(self, source_id: str, changes: dict[str, Any]) -> None:
        self.data.polls[source_id] = replace(self.data.polls[source_id], **changes)
