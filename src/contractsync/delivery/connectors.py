"""Building the PSA connector for a connection row (the lead completes it with the Autotask adapter)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.db.session import transaction
from contractsync.adapters.db.tables import connections
from contractsync.service.psa import PsaConnector


class ConnectorUnavailable(Exception):
    """No connector can be built for this connection."""


def build_connector(connection_row: Any) -> PsaConnector:
    """Placeholder: the lead wires the Autotask REST connector here (decrypting the secret)."""
    raise ConnectorUnavailable(
        f"no PSA connector is wired for connection {connection_row.id!r} (kind {connection_row.kind!r}) yet"
    )


def connector_factory(factory: sessionmaker[Session]) -> Any:
    """A `ConnectorFactory` for the worker: looks the connection up and builds its connector."""

    def build(connection_id: str) -> PsaConnector:
        with transaction(factory) as session:
            row = session.execute(select(connections).where(connections.c.id == connection_id)).first()
        if row is None:
            raise ConnectorUnavailable(f"connection {connection_id!r} does not exist")
        return build_connector(row)

    return build
