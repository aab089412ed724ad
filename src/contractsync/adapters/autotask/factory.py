"""Building an Autotask connector from a stored connection (the secret decrypted only here)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from contractsync.adapters.autotask.client import AutotaskClient, Credentials
from contractsync.adapters.autotask.connector import AutotaskConnector
from contractsync.adapters.autotask.limits import RequestBudget, ThreadSlots
from contractsync.adapters.autotask.outbound import OutboundPolicy
from contractsync.adapters.secrets import SecretBox

#: Where zone discovery starts when a connection has no base URL.
AUTOTASK_ZONE_ROOT = "https://webservices2.autotask.net"

Build = Callable[[Any, SecretBox, OutboundPolicy], AutotaskConnector]
#: The thread slots of an API integration code (`adapters/db/thread_slots.SharedThreadSlots`).
SlotSource = Callable[[str], ThreadSlots]


class BudgetSource(Protocol):
    """Request budgets kept outside this process (`adapters/db/request_budget.SharedBudgets`)."""

    def for_connection(self, connection_id: str) -> RequestBudget: ...

    def fractions(self) -> dict[str, float]: ...


@runtime_checkable
class ThresholdCorrected(Protocol):
    """A budget that corrects itself from Autotask's own count (GET /ThresholdInformation)."""

    def read_threshold_with(self, reader: Callable[[], tuple[int, int]]) -> None: ...


class ConnectorCache:
    """One connector per connection in this process, so its thread limit is shared; with
    `budgets`, the request budget is shared by every process of the connection (the database's);
    with `slots`, the thread limit of each integration code by every process too.
    Keyed on the connection's `credentials_version`: every change of the stored credentials raises
    it, so each process (API or worker) uses new credentials from its next call."""

    def __init__(
        self,
        secrets: SecretBox,
        build: Build | None = None,
        outbound: OutboundPolicy | None = None,
        budgets: BudgetSource | None = None,
        slots: SlotSource | None = None,
    ) -> None:
        self._secrets = secrets
        self._budgets = budgets
        self._slots = slots
        self._build = build or self._with_budget
        self.outbound = outbound or OutboundPolicy()
        self._cache: dict[str, AutotaskConnector] = {}
        self._versions: dict[str, tuple[int, str | None]] = {}
        self._lock = threading.Lock()

    def budget_used(self) -> dict[str, float]:
        """Share of each connection's hourly request budget in use (for /metrics and X5): from the
        database when budgets are shared (every process's calls), else this process's connectors."""
        if self._budgets is not None:
            return self._budgets.fractions()
        with self._lock:
            cached = dict(self._cache)
        return {cid: connector.client.budget_usage().fraction for cid, connector in cached.items()}

    def __call__(self, connection_row: Any) -> AutotaskConnector:
        version = (int(connection_row.credentials_version), connection_row.base_url)
        with self._lock:
            if self._versions.get(connection_row.id) != version:
                self._cache[connection_row.id] = self._build(connection_row, self._secrets, self.outbound)
                self._versions[connection_row.id] = version
            return self._cache[connection_row.id]

    def fresh(self, connection_row: Any) -> AutotaskConnector:
        """A connector for credentials not stored yet (the check before saving them); not cached."""
        return self._build(connection_row, self._secrets, self.outbound)

    def _with_budget(self, row: Any, secrets: SecretBox, outbound: OutboundPolicy) -> AutotaskConnector:
        budget = self._budgets.for_connection(row.id) if self._budgets is not None else None
        slots = self._slots(row.integration_code) if self._slots is not None else None
        return connector_from_row(row, secrets, outbound, budget, slots)


def connector_from_row(
    row: Any,
    secrets: SecretBox,
    outbound: OutboundPolicy | None = None,
    budget: RequestBudget | None = None,
    slots: ThreadSlots | None = None,
) -> AutotaskConnector:
    """A connector for a stored connection; its URL must pass `outbound` (OutboundRefused if not).
    `row.base_url` is the API root; a URL stored before the allow-list existed is normalised
    (and checked) the same way."""
    credentials = Credentials(row.username, secrets.decrypt(row.secret_encrypted), row.integration_code)
    client = AutotaskClient(
        credentials,
        base_url=row.base_url or None,
        zone_root=None if row.base_url else AUTOTASK_ZONE_ROOT,
        outbound=outbound,
        budget=budget,
        concurrency=slots,
    )
    connector = AutotaskConnector(client)
    if isinstance(budget, ThresholdCorrected):
        budget.read_threshold_with(lambda: _threshold(connector))
    return connector


def _threshold(connector: AutotaskConnector) -> tuple[int, int]:
    threshold = connector.threshold_information()
    return threshold.limit, threshold.current_count
