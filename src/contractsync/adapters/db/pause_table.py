"""Connections whose deliveries are paused because Autotask refused their credentials.

A row exists only while the connection is paused; resuming deletes it. `next_probe_at` is when
the worker may try one delivery again; `probe_interval_seconds` doubles after each refused probe.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text

from contractsync.adapters.db.tables import metadata
from contractsync.adapters.db.types import UtcDateTime

connection_pauses = Table(
    "connection_pauses",
    metadata,
    Column("connection_id", String(100), ForeignKey("connections.id"), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("since", UtcDateTime, nullable=False),
    Column("next_probe_at", UtcDateTime, nullable=False),
    Column("probe_interval_seconds", Integer, nullable=False),
)
