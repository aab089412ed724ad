"""Autotask names (companies, contracts, services) by connection, stored so that a page shows them
beside the ids without asking Autotask, and they survive a restart. Refreshed on mapping, on
reconciliation, and when a page finds none for its connection."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Table

from contractsync.adapters.db.tables import metadata
from contractsync.adapters.db.types import UtcDateTime

autotask_names = Table(
    "autotask_names",
    metadata,
    Column("connection_id", String(100), ForeignKey("connections.id"), primary_key=True),
    Column("entity", String(20), primary_key=True),  # company | contract | service
    Column("entity_id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("refreshed_at", UtcDateTime, nullable=False),
)
