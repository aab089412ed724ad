"""Autotask names for the ids the console and the alerts show (companies, contracts, and the
services a contract service bills), stored per connection: a page costs no Autotask call, and the
names survive a restart.

They are read through the connector on mapping, on reconciliation, and when a page finds none
stored for its connection; a connection whose Autotask cannot be read then answers the names it
has (maybe none: the page shows the ids alone).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import structlog

from contractsync.ports.autotask_names import NameKind
from contractsync.ports.directory import StoredConnection
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_connection

log = structlog.get_logger(__name__)
JSON = dict[str, Any]
#: the answer's keys, by the stored kind
PLURAL: dict[NameKind, str] = {"company": "companies", "contract": "contracts", "service": "services"}


def _answer(stored: Mapping[NameKind, dict[int, str]]) -> JSON:
    """The names, without the ids stored as unknown to Autotask (an empty name)."""
    return {PLURAL[kind]: {k: n for k, n in stored.get(kind, {}).items() if n} for kind in PLURAL}


def names(
    ctx: ServiceContext,
    actor: Actor,
    connection_id: str,
    refresh: bool = False,
    wanted: Mapping[NameKind, Iterable[int]] | None = None,
) -> JSON:
    """{companies: {id: name}, contracts: {id: name}, services: {id: name}} of the connection, as
    stored. Read from Autotask (and stored) when `refresh`, when none is stored yet, or when an id
    the page shows (`wanted`) has none stored; an id Autotask does not have either is stored as
    unknown (no name), so it costs no further read until the next mapping or reconciliation."""
    with ctx.units(commit=False) as uow:
        connection = visible_connection(uow.directory, actor, connection_id)
        stored = uow.autotask_names.names(connection.id)
    missing = {kind: set(ids) - set(stored[kind]) for kind, ids in (wanted or {}).items()}
    if not (refresh or not any(stored.values()) or any(missing.values())):
        return _answer(stored)
    read = refreshed(ctx, connection)
    if read is None:
        return _answer(stored)
    unknown = {kind: ids - set(read[PLURAL[kind]]) for kind, ids in missing.items()}
    for kind, ids in unknown.items():
        remember(ctx, connection.id, kind, dict.fromkeys(ids, ""))
    return _answer({kind: read[PLURAL[kind]] for kind in PLURAL})


def refreshed(ctx: ServiceContext, connection: StoredConnection) -> JSON | None:
    """Every company, contract and service name of the connection read from Autotask and stored in
    place of the old ones; None (nothing changed) when Autotask cannot be read."""
    connector = ctx.connector_for(connection)
    try:
        read: dict[NameKind, dict[int, str]] = {
            "company": {c.id: c.name for c in connector.find_companies()},
            "contract": {c.id: c.name for c in connector.find_contracts()},
            "service": {s.id: s.name for s in connector.find_services()},
        }
    except Exception as error:  # Autotask unreachable or refusing: keep what is stored
        log.warning("autotask_names.unavailable", connection=connection.id, error=type(error).__name__)
        return None
    with ctx.units() as uow:
        for kind, found in read.items():
            uow.autotask_names.replace(connection.id, kind, found, ctx.now())
    return _answer(read)


def refresh_quietly(ctx: ServiceContext, actor: Actor, connection_id: str) -> None:
    """After a mapping or a reconciliation: the names read again; a failure only logs."""
    try:
        names(ctx, actor, connection_id, refresh=True)
    except Exception as error:  # names are a convenience: never fail the change
        log.warning("autotask_names.not_refreshed", connection=connection_id, error=type(error).__name__)


def remember(ctx: ServiceContext, connection_id: str, kind: NameKind, found: Mapping[int, str]) -> None:
    """Names learnt on the way (the company a customer was just mapped to): stored at once."""
    if found:
        with ctx.units() as uow:
            uow.autotask_names.store(connection_id, kind, found, ctx.now())


def cover(ctx: ServiceContext, actor: Actor, connection_id: str, wanted: Mapping[NameKind, set[int]]) -> None:
    """After mapping: when a mapped id has no stored name, read them all again (once for a batch)."""
    with ctx.units(commit=False) as uow:
        stored = uow.autotask_names.names(connection_id)
    if any(ids - {k for k, name in stored.get(kind, {}).items() if name} for kind, ids in wanted.items()):
        refresh_quietly(ctx, actor, connection_id)
