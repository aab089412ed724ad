"""The outbox of contract services to create in the PSA (a mapping whose contract service does
not exist yet): one row per mapping waiting for its contract service, delivered by the worker.

`status` is `pending` (due at `next_attempt_at`), `sending` (claimed until `lease_expires_at`;
after that the outcome of the call is unknown and the next attempt looks the line up before
creating anything), `sent` (`contract_service_id` holds the line) or `failed` (refused for good).
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text

from contractsync.adapters.db.tables import metadata
from contractsync.adapters.db.types import DecimalText, UtcDateTime

service_creations = Table(
    "service_creations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("operation_id", Integer, ForeignKey("connection_operations.id"), nullable=False),
    Column("connection_id", String(100), ForeignKey("connections.id"), nullable=False),
    Column("subscription_id", String(100), nullable=False, index=True),
    Column("contract_id", Integer, nullable=False),
    Column("service_id", Integer, nullable=False),
    Column("unit_price", DecimalText, nullable=False),
    Column("unit_cost", DecimalText, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("lease_expires_at", UtcDateTime, nullable=True),
    Column("contract_service_id", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("error_kind", String(40), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
)
