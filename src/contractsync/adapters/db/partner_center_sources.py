"""The Partner Center sources port in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contractsync.adapters.db.partner_center_tables import partner_center_polls, partner_center_sources
from contractsync.ports.partner_center import PartnerCenterSource, PollState

_POLLS = partner_center_polls.c


def _free(now: datetime) -> Any:
    return _POLLS.lease_until.is_(None) | (_POLLS.lease_until < now)


class SqlPartnerCenterSources:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, source: PartnerCenterSource, first_poll_at: datetime) -> bool:
        try:
            with self.session.begin_nested():
                self.session.execute(insert(partner_center_sources).values(**vars(source)))
        except IntegrityError:
            return False
        self.session.execute(
            insert(partner_center_polls).values(
                source_id=source.id, status="idle", next_poll_at=first_poll_at, page_index=0,
                progress={}, manual_actions=[],
            )
        )  # fmt: skip
        return True

    def source(self, source_id: str) -> PartnerCenterSource | None:
        query = select(partner_center_sources).where(partner_center_sources.c.id == source_id)
        row = self.session.execute(query).first()
        return None if row is None else PartnerCenterSource(**row._mapping)

    def sources(self, only: str | None = None) -> list[PartnerCenterSource]:
        query = select(partner_center_sources).order_by(partner_center_sources.c.id)
        if only is not None:
            query = query.where(partner_center_sources.c.reseller_id == only)
        return [PartnerCenterSource(**row._mapping) for row in self.session.execute(query)]

    def update(self, source_id: str, changes: dict[str, Any]) -> None:
        if changes:
            table = partner_center_sources
            self.session.execute(update(table).where(table.c.id == source_id).values(**changes))

    def poll(self, source_id: str) -> PollState:
        row = self.session.execute(select(partner_center_polls).where(_POLLS.source_id == source_id)).one()
        return PollState(**row._mapping)

    def due(self, now: datetime) -> list[str]:
        rows = self.session.execute(select(_POLLS.source_id).where(_POLLS.next_poll_at <= now, _free(now)))
        return sorted(str(r[0]) for r in rows)

    def claim(self, source_id: str, now: datetime, changes: dict[str, Any]) -> bool:
        claimed = self.session.execute(
            update(partner_center_polls).where(_POLLS.source_id == source_id, _free(now)).values(**changes)
        )
        return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]

    def save_poll(self, source_id: str, changes: dict[str, Any]) -> None:
        self.session.execute(
            update(partner_center_polls).where(_POLLS.source_id == source_id).values(**changes)
        )
