"""What the last verification read from Autotask, per contract service (the ledger self-check).

`units` holds Autotask's units over the read window as change points `[[date, units], …]`, the
first on `window_start`; rows with ids above `sent_through_id` were sent after the read. `delivery/ledger_check.py` compares the ledger with it continuously.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Date, ForeignKey, Integer, String, Table

from contractsync.adapters.db.tables import metadata
from contractsync.adapters.db.types import UtcDateTime

service_checks = Table(
    "service_checks",
    metadata,
    Column("connection_id", String(100), ForeignKey("connections.id"), primary_key=True),
    Column("contract_service_id", Integer, primary_key=True, autoincrement=False),
    Column("verified_at", UtcDateTime, nullable=False),
    #: The highest id of the service's rows sent when it was read (rows are sent in id order).
    Column("sent_through_id", Integer, nullable=False),
    Column("window_start", Date, nullable=False),
    Column("window_end", Date, nullable=False),
    Column("units", JSON, nullable=False),
)
