"""What reconciliation (X1) knows of a connection before it reads the PSA: per mapped contract
service, its intents, the ledger of what was sent, the open and failed outbox rows, the records
the PSA refused and what the subscription wants now. Read in one read-only unit of work (SQL:
a handful of queries for all services at once); the PSA is read after it has ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from contractsync.domain.model import Contract
from contractsync.domain.reconciliation import OutboxRow, Refusal, SentRow
from contractsync.domain.schedule import Intent, State


@dataclass
class ServiceRecords:
    subscription_id: str
    customer_id: str
    contract_id: int
    contract_service_id: int
    service_start: date
    intents: list[Intent] = field(default_factory=list)
    sent: list[SentRow] = field(default_factory=list)
    #: (row id, row): pending and sending rows, in delivery order
    open_rows: list[OutboxRow] = field(default_factory=list)
    failed: list[OutboxRow] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    wanted: State | None = None


@dataclass
class ConnectionRecords:
    connection_id: str
    timezone: str
    currency: str
    every_hours: int
    contracts: dict[int, Contract]
    services: list[ServiceRecords]


def why_open(status: str, error: str | None, attempts: int, due_at: datetime) -> str:
    """Why an outbox row is still open or failed, as the report says it."""
    if status == "failed":
        return f"Autotask refused it: {error}" if error else "delivery failed"
    if status == "sending":
        return "being sent to Autotask"
    if attempts:
        return f"planned, not sent yet: retrying (attempt {attempts + 1}) after: {error}"
    due = due_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"planned, not sent yet: due at {due} (settle window, or the connection is paused)"


class ReconciliationFacts(Protocol):
    def read(self, connection_id: str, timezone: str) -> ConnectionRecords:
        """Everything above for every mapped contract service of the connection."""
        ...
