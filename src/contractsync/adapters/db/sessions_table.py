"""Console sessions, kept server-side so that signing out, expiry and revoking the token that
signed in end them everywhere (a copied cookie is worth nothing afterwards).

The cookie holds a random session secret; the table holds only its SHA-256, so a read of the
database does not hand out live sessions.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table

from contractsync.adapters.db.tables import metadata
from contractsync.adapters.db.types import UtcDateTime

console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("token_id", Integer, ForeignKey("api_tokens.id", ondelete="CASCADE"), nullable=False),
    Column("reseller_id", String(100), nullable=True),  # null: signed in with an admin token
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("idle_seconds", Integer, nullable=False),
    Index("ix_console_sessions_token_id", "token_id"),
)
