"""Console sign-in attempts of the last window, shared by every API process on the database.

One row per counted attempt and key (the total's, the client address's); rows older than the
longest window are removed as new attempts are admitted, so the table holds at most about twice
the total limit.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table

from contractsync.adapters.db.tables import metadata
from contractsync.adapters.db.types import UtcDateTime
from contractsync.ports.sign_in_attempts import KEY_LENGTH

sign_in_attempts = Table(
    "sign_in_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(KEY_LENGTH), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_sign_in_attempts_key_at", "key", "at"),
)
