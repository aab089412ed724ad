"""Idempotency keys of applied operations: a client that sends the same operation again (a
retried webhook, a re-run import) gets the first answer instead of a second change.

One row per (scope, key), written in the transaction that applied the operation. `scope` is the
caller's reseller (or "*" for the provider), so one reseller's keys never meet another's.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, String, Table

from contractsync.adapters.db.tables import metadata
from contractsync.adapters.db.types import UtcDateTime

operation_keys = Table(
    "operation_keys",
    metadata,
    Column("scope", String(100), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("body_hash", String(64), nullable=False),
    Column("subscription_id", String(100), nullable=False),
    Column("record_ids", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
