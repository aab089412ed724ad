"""A subscription's sync state: unmapped, failed, pending, out_of_sync or synced.

- `unmapped`: no mapping;
- `failed`: an adjustment Autotask refused is not superseded yet, or the subscription's latest
  operation was refused before anything could be planned (e.g. outside the contract) — a refused
  or failed operation never shows `synced`;
- `pending`: adjustments are waiting to be sent or being sent;
- `out_of_sync`: the latest reconciliation found drift (Autotask differs from what contractsync
  sent) and nothing was sent for the subscription since;
- `synced` otherwise.
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from contractsync.adapters.db.outbox_rows import OPEN_STATUSES
from contractsync.adapters.db.reconciliation_facts import refused_records_query
from contractsync.adapters.db.reconciliation_tables import reconciliation_runs
from contractsync.adapters.db.tables import adjustments, connection_operations, subscription_mappings
from contractsync.ports.directory import SyncState


def sync_state(session: Session, subscription_id: str) -> SyncState:
    mapping = session.execute(
        select(subscription_mappings.c.connection_id).where(
            subscription_mappings.c.subscription_id == subscription_id
        )
    ).first()
    if mapping is None:
        return "unmapped"
    failed_row = exists().where(
        adjustments.c.subscription_id == subscription_id, adjustments.c.status == "failed"
    )
    refused = (
        refused_records_query(mapping.connection_id)
        .where(connection_operations.c.subscription_id == subscription_id)
        .exists()
    )
    if session.execute(select(failed_row | refused)).scalar_one():
        return "failed"
    open_row = exists().where(
        adjustments.c.subscription_id == subscription_id, adjustments.c.status.in_(OPEN_STATUSES)
    )
    if session.execute(select(open_row)).scalar_one():
        return "pending"
    return "out_of_sync" if _drifting(session, mapping.connection_id, subscription_id) else "synced"


def _drifting(session: Session, connection_id: str, subscription_id: str) -> bool:
    run = session.execute(
        select(reconciliation_runs.c.started_at, reconciliation_runs.c.drifting)
        .where(reconciliation_runs.c.connection_id == connection_id)
        .order_by(reconciliation_runs.c.id.desc())
        .limit(1)
    ).first()
    if run is None or subscription_id not in (run.drifting or []):
        return False
    sent_since = session.execute(
        select(
            exists().where(
                adjustments.c.subscription_id == subscription_id,
                adjustments.c.status == "sent",
                adjustments.c.sent_at > run.started_at,
            )
        )
    ).scalar_one()
    return not sent_since
