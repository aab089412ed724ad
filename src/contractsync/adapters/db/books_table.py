"""The per-contract-service target intents (the domain's ServiceBook), next to the outbox tables."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Date, Integer, String, Table

from contractsync.adapters.db.tables import metadata

# One row per contract service: where adjustments may start, and the target intents as JSON
# ([{"date", "units", "unit_price", "unit_cost"}], money as exact decimal strings).
service_books = Table(
    "service_books",
    metadata,
    Column("connection_id", String(100), primary_key=True),
    Column("contract_service_id", Integer, primary_key=True, autoincrement=False),
    Column("contract_id", Integer, nullable=False),
    Column("service_start", Date, nullable=False),
    Column("intents", JSON, nullable=False),
)
