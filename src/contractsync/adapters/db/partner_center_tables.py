"""Partner Center sources (one per reseller's CSP partner tenant) and the state of their polls.

`partner_center_sources` keeps the app + user credentials encrypted (the secret and the refresh
token, which Partner Center's sign-in rotates), where to sign in and call, how often to poll and
the price list for new subscriptions. `partner_center_polls` has one row per source: the poll
running now or the last one, where it stands (the continuation token of the customers page it is
on and how many customers of that page are done), its counts, and when the next poll is due.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Table, Text

from contractsync.adapters.db.tables import metadata
from contractsync.adapters.db.types import UtcDateTime

partner_center_sources = Table(
    "partner_center_sources",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("reseller_id", String(100), ForeignKey("resellers.id"), nullable=False, index=True),
    Column("tenant_id", String(100), nullable=False),
    Column("application_id", String(100), nullable=False),
    Column("secret_encrypted", Text, nullable=False),
    Column("refresh_token_encrypted", Text, nullable=False),
    Column("authority_host", String(300), nullable=False),
    Column("api_root", String(300), nullable=False),
    Column("poll_minutes", Integer, nullable=False),
    Column("price_list", JSON, nullable=False),
    Column("webhook_url", String(500), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)

partner_center_polls = Table(
    "partner_center_polls",
    metadata,
    Column("source_id", String(100), ForeignKey("partner_center_sources.id"), primary_key=True),
    Column("status", String(20), nullable=False),  # idle | running | failed
    Column("started_at", UtcDateTime, nullable=True),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("next_poll_at", UtcDateTime, nullable=False),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("page_token", Text, nullable=True),
    Column("page_index", Integer, nullable=False),
    Column("progress", JSON, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("manual_actions", JSON, nullable=False),
)
