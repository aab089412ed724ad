"""Reconciliation (X1) settings and stored runs per connection, and alert follow-up (X5).

- `reconciliation_settings`: how often the worker reconciles a connection (hours; 0 = off;
  no row = daily) and the currency its money impact is reported in.
- `reconciliation_runs`: one row per reconciliation, scheduled or on demand: when, how many
  contract services were checked, how many Autotask reads it took, differences by kind, money
  impact, and the subscriptions found drifting (their `sync_state` is `out_of_sync` until an
  adjustment is sent for them after the run).
- `alert_follow_up`: per stored alert, the audit record it is about (a failed delivery links
  to its Retry) and who acknowledged it, when.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table, Text

from contractsync.adapters.db.tables import metadata
from contractsync.adapters.db.types import DecimalText, UtcDateTime
from contractsync.ports.reconciliation_runs import DEFAULT_CURRENCY, DEFAULT_EVERY_HOURS

reconciliation_settings = Table(
    "reconciliation_settings",
    metadata,
    Column("connection_id", String(100), ForeignKey("connections.id"), primary_key=True),
    Column("every_hours", Integer, nullable=False, default=DEFAULT_EVERY_HOURS),
    Column("currency", String(3), nullable=False, default=DEFAULT_CURRENCY),
)

reconciliation_runs = Table(
    "reconciliation_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("connection_id", String(100), ForeignKey("connections.id"), nullable=False),
    Column("trigger", String(20), nullable=False),  # scheduled | on_demand | fix
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=False),
    Column("services_checked", Integer, nullable=False),
    Column("reads", Integer, nullable=False),
    Column("differences", JSON, nullable=False),  # {kind: count}
    Column("money_impact", DecimalText, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("drifting", JSON, nullable=False),  # subscription ids with drift
    Column("error", Text, nullable=True),
    Index(None, "connection_id", "started_at"),
)

alert_follow_up = Table(
    "alert_follow_up",
    metadata,
    Column("alert_id", Integer, ForeignKey("alerts.id"), primary_key=True, autoincrement=False),
    Column("operation_id", Integer, nullable=True),
    Column("acknowledged_at", UtcDateTime, nullable=True),
    Column("acknowledged_by", String(100), nullable=True),
)

__all__ = [
    "DEFAULT_CURRENCY",
    "DEFAULT_EVERY_HOURS",
    "alert_follow_up",
    "reconciliation_runs",
    "reconciliation_settings",
]
