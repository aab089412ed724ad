"""A subscription's sync state (SPEC §1): unmapped, out_of_sync or synced."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from contractsync.adapters.db.records import UNSYNCED_STATUSES
from contractsync.adapters.db.tables import adjustments, subscription_mappings

SyncState = Literal["synced", "out_of_sync", "unmapped"]


def sync_state(session: Session, subscription_id: str) -> SyncState:
    """Out of sync while any of its adjustments is pending, being sent or failed (superseded = done)."""
    mapped = session.execute(
        select(exists().where(subscription_mappings.c.subscription_id == subscription_id))
    ).scalar_one()
    if not mapped:
        return "unmapped"
    open_work = session.execute(
        select(
            exists().where(
                adjustments.c.subscription_id == subscription_id,
                adjustments.c.status.in_(UNSYNCED_STATUSES),
            )
        )
    ).scalar_one()
    return "out_of_sync" if open_work else "synced"
