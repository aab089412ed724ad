"""What the console's dashboard reads besides the directory and the audit log: per connection, the
stored currency, the last delivery, failed records and what the PSA bills (the ledger of what was
sent). One read each, any number of connections; the newest reconciliation run comes from
`ReconciliationRuns.latest`."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class BilledLine:
    """One contract service with its ledger (what contractsync sent), oldest first."""

    connection_id: str
    contract_service_id: int
    subscription_id: str
    customer_id: str
    billing_cycle: str
    changes: list[tuple[date, int, Decimal, Decimal]]  # (effective date, unit change, price, cost)


class DashboardFacts(Protocol):
    def currencies(self, connection_ids: Collection[str]) -> dict[str, str]:
        """The currency stored for each connection that has one (the others use the default)."""
        ...

    def last_deliveries(self, connection_ids: Collection[str]) -> dict[str, datetime]:
        """When each connection last had an adjustment sent."""
        ...

    def failed_records(self, connection_ids: Collection[str]) -> dict[tuple[str, str | None], int]:
        """(connection id, customer id) → failed audit records."""
        ...

    def billed_lines(self, connection_ids: Collection[str], through: date) -> list[BilledLine]:
        """Every mapped contract service with its ledger entries dated up to `through`."""
        ...
