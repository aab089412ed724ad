"""The ledger: what contractsync believes the PSA holds per contract service (the adjustments it
sent, and what a reconciliation read), and what a reconciliation fix changes of it.

One repository on the unit of work (`uow.ledger`). SQL: `adapters/db/ledger.py`; in memory:
`adapters/memory/ledger.py`; both give the same answers (`tests/integration/service/
test_repositories_agree.py`).
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from contractsync.ports.outbox import LedgerEntry


class Ledger(Protocol):
    def entries(self, connection_id: str, contract_service_id: int) -> list[LedgerEntry]:
        """The contract service's entries, by date."""
        ...

    def replace_from(
        self, connection_id: str, contract_service_id: int, start: date, entries: list[LedgerEntry]
    ) -> None:
        """Every entry dated on or after `start` goes; `entries` take their place (rebuilt from
        what the PSA shows). An entry on a date that holds one already merges into it: the unit
        changes add up, the price, cost and ids are the new entry's."""
        ...

    def in_flight(self, connection_id: str, contract_service_id: int) -> bool:
        """Outbox rows of the contract service are still on their way (pending or being sent)."""
        ...

    def mark_units_unknown(self, connection_id: str, contract_service_id: int) -> None:
        """The worker reads the PSA's units again before it next sends to the contract service."""
        ...
