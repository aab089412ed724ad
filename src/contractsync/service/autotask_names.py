"""Autotask names for the ids the console shows (companies, contracts, services), read through
the connector and kept in memory for a few minutes per connection, so a page that lists a hundred
contract ids costs three Autotask queries at most, and none while the names are fresh.

A connection whose Autotask cannot be read answers empty names (the page shows the ids alone).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import structlog

from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext
from contractsync.service.session_compat import visible_connection

log = structlog.get_logger(__name__)
JSON = dict[str, Any]
FRESH_SECONDS = 600.0

_lock = threading.Lock()
_cache: dict[tuple[int, str], tuple[float, JSON]] = {}


def names(ctx: ServiceContext, actor: Actor, connection_id: str, refresh: bool = False) -> JSON:
    """{companies: {id: name}, contracts: {id: name}, services: {id: name}} of the connection."""
    with ctx.unit_of_work(commit=False) as uow:
        connection = visible_connection(uow.session, actor, connection_id)
    key = (id(ctx), connection.id)
    with _lock:
        found = _cache.get(key)
    if found is not None and not refresh and time.monotonic() - found[0] < FRESH_SECONDS:
        return found[1]
    connector = ctx.connector_for(connection)
    try:
        read: JSON = {
            "companies": {c.id: c.name for c in connector.find_companies()},
            "contracts": {c.id: c.name for c in connector.find_contracts()},
            "services": {s.id: s.name for s in connector.find_services()},
        }
    except Exception as error:  # Autotask unreachable or refusing: ids without names
        log.warning("autotask_names.unavailable", connection=connection.id, error=type(error).__name__)
        return {"companies": {}, "contracts": {}, "services": {}}
    with _lock:
        _cache[key] = (time.monotonic(), read)
    return read
