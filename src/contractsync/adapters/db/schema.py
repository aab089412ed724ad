"""The complete schema: every module that defines tables on `metadata`, imported in one place.

Alembic's env.py and the migration tests use this, so autogenerate never proposes dropping a
table merely because its module was not imported. Add new table modules here.
"""

from __future__ import annotations

from contractsync.adapters.db import (
    books_table,
    budget_table,
    checks_table,
    keys_table,
    names_table,
    partner_center_tables,
    pause_table,
    reconciliation_tables,
    service_creations_table,
    sessions_table,
    sign_in_attempts_table,
    tables,
)
from contractsync.adapters.db.tables import metadata

TABLE_MODULES = (
    tables,
    books_table,
    pause_table,
    keys_table,
    budget_table,
    reconciliation_tables,
    sessions_table,
    partner_center_tables,
    checks_table,
    service_creations_table,
    names_table,
    sign_in_attempts_table,
)

__all__ = ["TABLE_MODULES", "metadata"]
