"""Building an Autotask connector from a stored connection (the secret decrypted only here)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from contractsync.adapters.autotask.client import AutotaskClient, Credentials
from contractsync.adapters.autotask.connector import AutotaskConnector
from contractsync.adapters.autotask.outbound import OutboundPolicy
from contractsync.adapters.secrets import SecretBox

#: Where zone discovery starts when a connection has no base URL.
AUTOTASK_ZONE_ROOT = "https://webservices2.autotask.net"

Build = Callable[[Any, SecretBox, OutboundPolicy], AutotaskConnector]


class ConnectorCache:
    """One connector per connection in this process, so its request budget and thread limit are
    shared. Keyed on the connection's `credentials_version`: every change of the stored
    credentials raises it, so each process (API or worker) uses new credentials from its next call."""

    def __init__(
        self, secrets: SecretBox, build: Build | None = None, outbound: OutboundPolicy | None = None
    ) -> None:
        self._secrets = secrets
        self._build = build or connector_from_row
        self.outbound = outbound or OutboundPolicy()
        self._cache: dict[str, AutotaskConnector] = {}
        self._versions: dict[str, tuple[int, str | None]] = {}
        self._lock = threading.Lock()

    def budget_used(self) -> dict[str, float]:
        """Share of each cached connection's hourly request budget in use (for /metrics and X5)."""
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


def connector_from_row(
    row: Any, secrets: SecretBox, outbound: OutboundPolicy | None = None
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
    )
    return AutotaskConnector(client)
