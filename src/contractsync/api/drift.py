"""X1 reconciliation across one or every connection an actor sees (shared by the API and CLI)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contractsync.service.actor import Actor
from contractsync.service.facade import ContractSync

JSON = dict[str, Any]


def reconcile(
    service: ContractSync,
    actor: Actor,
    connection_id: str | None,
    fix: bool,
    on_connection: Callable[[str, int], None] | None = None,
) -> JSON:
    """One connection's report, or all of them merged: each difference then names its connection,
    since the merged report's own `connection_id` is null. `on_connection(id, total)` reports progress."""
    if connection_id is not None:
        return service.reconciliation(actor, connection_id, fix=fix)
    connections = service.list_connections(actor)
    differences: list[Any] = []
    fixed = 0
    for connection in connections:
        if on_connection is not None:
            on_connection(connection["id"], len(connections))
        report = service.reconciliation(actor, connection["id"], fix=fix)
        differences += [{"connection_id": connection["id"], **d} for d in report.get("differences", [])]
        fixed += int(report.get("fixed", 0))
    return {"connection_id": None, "differences": differences, "fixed": fixed}
