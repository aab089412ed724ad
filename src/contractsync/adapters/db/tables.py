"""The schema, as SQLAlchemy Core tables. Alembic migrations in `migrations/` follow it.

Money columns are `DecimalText` (exact), instants `UtcDateTime`, dates `Date`.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from contractsync.adapters.db.types import DecimalText, UtcDateTime

# Named constraints so Alembic's batch mode (SQLite) can find them again on downgrade.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

resellers = Table(
    "resellers",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("promotion_setting", String(20), nullable=False, default="pass_through"),
    Column("approved_through", Date, nullable=True),
)

customers = Table(
    "customers",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("reseller_id", String(100), ForeignKey("resellers.id"), nullable=False, index=True),
    Column("name", String(300), nullable=False),
    Column("tenant_id", String(100), nullable=True),
    Column("provider_margins", JSON, nullable=False, default=dict),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("customer_id", String(100), ForeignKey("customers.id"), nullable=False, index=True),
    Column("reseller_id", String(100), ForeignKey("resellers.id"), nullable=False, index=True),
    Column("offer_id", String(200), nullable=False),
    Column("offer_name", String(300), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("term", String(10), nullable=False),
    Column("billing_cycle", String(20), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("auto_renew", Boolean, nullable=False),
    Column("friendly_name", String(300), nullable=True),
    Column("list_price", DecimalText, nullable=False),
    Column("promotion_id", String(100), nullable=True),
    Column("promotion_discount_percent", DecimalText, nullable=True),
    Column("price_margin_percent", DecimalText, nullable=True),
    Column("scheduled_next_term", JSON, nullable=True),
    # Optimistic locking: writers do UPDATE … WHERE version = :seen.
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

subscription_history = Table(
    "subscription_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscription_id", String(100), ForeignKey("subscriptions.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
    Column("snapshot", JSON, nullable=False),
    Column("operation_id", String(100), nullable=True),
    UniqueConstraint("subscription_id", "version"),
)

connections = Table(
    "connections",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("reseller_id", String(100), ForeignKey("resellers.id"), nullable=False, index=True),
    Column("kind", String(20), nullable=False, default="autotask"),
    Column("username", String(300), nullable=False),
    Column("secret_encrypted", Text, nullable=False),
    Column("integration_code", String(300), nullable=False),
    Column("base_url", String(500), nullable=True),
    Column("timezone", String(64), nullable=False, default="UTC"),
    Column("settle_seconds", Integer, nullable=False, default=600),
    Column("policies", JSON, nullable=False, default=dict),
    Column("created_at", UtcDateTime, nullable=False),
    # Raised by every credentials change: each process's connector cache is keyed on it.
    Column("credentials_version", Integer, nullable=False, server_default=text("1")),
)

contracts = Table(
    "contracts",
    metadata,
    Column("connection_id", String(100), ForeignKey("connections.id"), primary_key=True),
    Column("contract_id", Integer, primary_key=True, autoincrement=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("period_type", String(20), nullable=False, default="monthly"),
    Column("posted_through", Date, nullable=True),
)

customer_mappings = Table(
    "customer_mappings",
    metadata,
    Column("customer_id", String(100), ForeignKey("customers.id"), primary_key=True),
    Column("connection_id", String(100), ForeignKey("connections.id"), primary_key=True),
    Column("company_id", Integer, nullable=False),
    UniqueConstraint("connection_id", "company_id"),
)

subscription_mappings = Table(
    "subscription_mappings",
    metadata,
    Column("subscription_id", String(100), ForeignKey("subscriptions.id"), primary_key=True),
    Column("connection_id", String(100), ForeignKey("connections.id"), nullable=False),
    Column("contract_id", Integer, nullable=False),
    Column("service_id", Integer, nullable=True),
    Column("contract_service_id", Integer, nullable=False),
    Column("mapped_on", Date, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # one subscription per contract service (migration 0014): a mapping that lost the race is refused
    Index(None, "connection_id", "contract_service_id", unique=True),
)

# The audit log: one record per (user operation, mapped subscription), several per operation_key.
connection_operations = Table(
    "connection_operations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("connection_id", String(100), ForeignKey("connections.id"), nullable=False),
    Column("subscription_id", String(100), nullable=True, index=True),
    Column("customer_id", String(100), nullable=True),
    Column("operation_key", String(100), nullable=False, index=True),
    Column("type", String(80), nullable=False),
    Column("status", String(20), nullable=False),
    Column("reason", Text, nullable=True),
    Column("details", JSON, nullable=False, default=dict),
    Column("effective_date", Date, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(None, "status", "created_at"),
)

# THE OUTBOX. `id` is the delivery order within one contract service.
adjustments = Table(
    "adjustments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("operation_id", Integer, ForeignKey("connection_operations.id"), nullable=False, index=True),
    Column("connection_id", String(100), ForeignKey("connections.id"), nullable=False),
    Column("subscription_id", String(100), nullable=True, index=True),
    Column("contract_id", Integer, nullable=False),
    Column("contract_service_id", Integer, nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("target_units", Integer, nullable=False),
    Column("unit_price", DecimalText, nullable=False),
    Column("unit_cost", DecimalText, nullable=False),
    Column("planned_unit_change", Integer, nullable=True),
    Column("status", String(20), nullable=False, default="pending"),
    Column("due_at", UtcDateTime, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_owner", String(100), nullable=True),
    Column("lease_expires_at", UtcDateTime, nullable=True),
    Column("sent_unit_change", Integer, nullable=True),
    Column("autotask_id", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("error_kind", String(40), nullable=True),
    # The typed reason of a refusal (contractsync.ports.psa.Refusal), e.g. "posted_period".
    Column("refusal", String(40), nullable=True),
    Column("request_json", JSON, nullable=True),
    Column("response_json", JSON, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
    # The claim query: open rows by due time, and "is there an earlier open row of this service".
    Index(None, "status", "due_at"),
    # The service first: a group's read gives many services of one connection (migration 0015).
    Index(None, "contract_service_id", "connection_id", "status", "id"),
)

# What Autotask holds, built from our successful sends (and from reads after an unknown outcome).
ledger = Table(
    "ledger",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("connection_id", String(100), ForeignKey("connections.id"), nullable=False),
    Column("contract_service_id", Integer, nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("unit_change", Integer, nullable=False),
    Column("unit_price", DecimalText, nullable=False),
    Column("unit_cost", DecimalText, nullable=False),
    Column("autotask_id", Integer, nullable=True),
    Column("adjustment_id", Integer, ForeignKey("adjustments.id"), nullable=True),
    UniqueConstraint("contract_service_id", "connection_id", "effective_date"),  # service first: 0015
)

# One row per contract service: the worker's per-service lease and the "units unknown" flag.
contract_service_state = Table(
    "contract_service_state",
    metadata,
    Column("connection_id", String(100), ForeignKey("connections.id"), primary_key=True),
    Column("contract_service_id", Integer, primary_key=True, autoincrement=False),
    Column("contract_id", Integer, nullable=False),
    Column("units_unknown", Boolean, nullable=False, default=False),
    Column("lease_owner", String(100), nullable=True),
    Column("lease_expires_at", UtcDateTime, nullable=True),
    Column("version", Integer, nullable=False, default=1),
)

manual_actions = Table(
    "manual_actions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("connection_id", String(100), ForeignKey("connections.id"), nullable=False),
    Column("operation_id", Integer, ForeignKey("connection_operations.id"), nullable=False),
    Column("subscription_id", String(100), nullable=False),
    Column("contract_service_id", Integer, nullable=True),
    Column("effective_date", Date, nullable=False),
    Column("unit_change", Integer, nullable=False),
    Column("instruction", Text, nullable=False),
    Column("status", String(20), nullable=False, default="open"),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "status"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(60), nullable=False),
    Column("message", Text, nullable=False),
    Column("connection_id", String(100), nullable=True),
    Column("subscription_id", String(100), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("resolved_at", UtcDateTime, nullable=True),
    Column("dedupe_key", String(300), nullable=False, unique=True),
    #: whose alert it is when it names neither a connection nor a subscription (migration 0017)
    Column("reseller_id", String(100), nullable=True),
    #: when the alert webhook accepted it; NULL: not sent (0018)
    Column("notified_at", UtcDateTime, nullable=True),
    #: … and its resolution, if the alert was sent (0018)
    Column("resolution_notified_at", UtcDateTime, nullable=True),
    #: when a worker took its news to send (0019); NULL: nobody is sending it
    Column("notify_claimed_at", UtcDateTime, nullable=True),
)

sweep_runs = Table(
    "sweep_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("connection_id", String(100), ForeignKey("connections.id"), nullable=False),
    Column("sweep_date", Date, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    UniqueConstraint("connection_id", "sweep_date"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(128), nullable=False, unique=True),
    Column("reseller_id", String(100), ForeignKey("resellers.id"), nullable=True),  # null = admin
    Column("created_at", UtcDateTime, nullable=False),
    # Migration 0008: where the token came from ("environment", "generated", "cli"; null: before
    # 0008), its first characters to recognise it by, optional expiry, last use (to the minute).
    Column("source", String(20), nullable=True),
    Column("hint", String(8), nullable=True),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("last_used_at", UtcDateTime, nullable=True),
    # Migration 0013: the name the audit log gives whoever uses it (null: "token #N (hint…)").
    Column("name", String(60), nullable=True),
    UniqueConstraint("name"),
)

__all__ = [
    "adjustments",
    "alerts",
    "api_tokens",
    "connection_operations",
    "connections",
    "contract_service_state",
    "contracts",
    "customer_mappings",
    "customers",
    "ledger",
    "manual_actions",
    "metadata",
    "resellers",
    "subscription_history",
    "subscription_mappings",
    "subscriptions",
    "sweep_runs",
]
