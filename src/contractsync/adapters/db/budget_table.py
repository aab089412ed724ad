"""Autotask's request budget, shared by every process of a connection (see request_budget.py).

`autotask_request_minutes` counts the requests contractsync sent (or reserved) per budget and
minute, so the rolling hour is the sum of the last 61 rows. `autotask_budgets` holds what
`GET /ThresholdInformation` last said about the tenant and when a process last sent a request.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table

from contractsync.adapters.db.tables import metadata
from contractsync.adapters.db.types import UtcDateTime

autotask_request_minutes = Table(
    "autotask_request_minutes",
    metadata,
    Column("budget_key", String(200), primary_key=True),
    Column("minute", UtcDateTime, primary_key=True),
    Column("requests", Integer, nullable=False),
)

autotask_budgets = Table(
    "autotask_budgets",
    metadata,
    Column("budget_key", String(200), primary_key=True),
    #: externalRequestThreshold at the last read (None: never read)
    Column("tenant_threshold", Integer, nullable=True),
    #: requests Autotask counted in the hour that contractsync did not send, at the last read
    Column("others", Integer, nullable=False),
    Column("threshold_read_at", UtcDateTime, nullable=True),
    #: a process took the next ThresholdInformation read at this time (the others skip it)
    Column("refresh_claimed_at", UtcDateTime, nullable=True),
    Column("last_request_at", UtcDateTime, nullable=True),
)
