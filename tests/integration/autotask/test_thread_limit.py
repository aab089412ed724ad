"""The connector's per-endpoint limiter against the sandbox's real thread limit, no faults.

The test holds the sandbox's data, so requests that reach it stay in flight (busy, as a slow
Autotask would be) until the test lets go; the sandbox serves requests in worker threads and
refuses a fourth in flight on one endpoint, as Autotask does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from contractsync.adapters.autotask import AutotaskConnector, ClientSettings, EndpointConcurrency
from contractsync.adapters.autotask.limits import ThreadSlots
from contractsync.adapters.db.session import make_engine, session_factory
from contractsync.adapters.db.thread_slots import SharedThreadSlots
from contractsync.bootstrap import connector_cache, secret_box
from contractsync.ports.psa import ErrorKind, PsaError
from contractsync.sandbox.server import SandboxServer
from contractsync.settings import Settings

from .conftest import CONTRACT_SERVICE_ID, FAST, Connect, seed_basic, stats

ENDPOINT = "ContractServiceUnits"
CALLS = 8


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    done = threading.Event()
    for _ in range(int(timeout / 0.02)):
        if condition():
            return
        done.wait(0.02)
    raise AssertionError(f"never saw {what}")


def _read_in_threads(
    connector: AutotaskConnector, calls: int = CALLS, outcomes: list[object] | None = None
) -> tuple[list[threading.Thread], list[object]]:
    outcomes = [] if outcomes is None else outcomes

    def read() -> None:
        try:
            outcomes.append(
                len(connector.service_units(CONTRACT_SERVICE_ID, date(2026, 1, 1), date(2026, 2, 28)))
            )
        except PsaError as error:
            outcomes.append(error.kind)

    threads = [threading.Thread(target=read, daemon=True) for _ in range(calls)]
    for thread in threads:
        thread.start()
    return threads, outcomes


def test_the_connector_never_has_a_fourth_request_in_flight(
    sandbox: SandboxServer, admin: httpx.Client, connect: Connect
) -> None:
    seed_basic(admin)
    connector = connect()
    connector.find_contracts()  # zone discovery done, so only the reads below are in flight
    with sandbox.state.store.lock:  # the sandbox cannot answer: what reaches it stays in flight
        threads, outcomes = _read_in_threads(connector)
        _wait_until(lambda: stats(admin)["in_flight"].get(ENDPOINT) == 3, "three requests in flight")
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes == [2] * CALLS  # every read answered, none refused
    snapshot = stats(admin)
    assert snapshot["requests"][ENDPOINT] == CALLS
    assert snapshot["max_in_flight"][ENDPOINT] == 3
    assert "thread_threshold" not in snapshot["rejections"]


def test_without_the_limiter_the_sandbox_refuses_the_fourth(
    sandbox: SandboxServer, admin: httpx.Client, connect: Connect
) -> None:
    """The control: a client that lets 8 through at once and does not retry is refused by the
    sandbox itself for every request beyond the third."""
    seed_basic(admin)
    greedy = ClientSettings(**{**vars(FAST), "thread_threshold_retries": 0})
    connector = connect(settings=greedy, concurrency=EndpointConcurrency(per_endpoint=CALLS))
    connector.find_contracts()
    with sandbox.state.store.lock:
        threads, outcomes = _read_in_threads(connector)
        _wait_until(lambda: len(outcomes) == CALLS - 3, "five refusals while three are in flight")
        assert outcomes == [ErrorKind.THREAD_THRESHOLD] * (CALLS - 3)
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(map(str, outcomes)) == sorted(
        map(str, [2] * 3 + [ErrorKind.THREAD_THRESHOLD] * (CALLS - 3))
    )
    assert stats(admin)["rejections"]["thread_threshold"] == CALLS - 3


def _two_processes_reading(
    sandbox: SandboxServer,
    admin: httpx.Client,
    connect: Connect,
    slots: list[ThreadSlots],
    settings: ClientSettings,
) -> list[object]:
    """Two connectors of one integration, as two processes hold them (each its own slots), four
    reads each at once while the sandbox holds what reaches it; their outcomes."""
    return _reading_at_once(sandbox, admin, [connect(settings=settings, concurrency=own) for own in slots])


def _reading_at_once(
    sandbox: SandboxServer, admin: httpx.Client, connectors: list[AutotaskConnector]
) -> list[object]:
    seed_basic(admin)
    for connector in connectors:
        connector.find_contracts()
    outcomes: list[object] = []
    threads: list[threading.Thread] = []
    with sandbox.state.store.lock:
        for connector in connectors:
            threads += _read_in_threads(connector, CALLS // 2, outcomes)[0]
        _wait_until(
            lambda: stats(admin)["in_flight"].get(ENDPOINT, 0) + len(outcomes) >= 3, "three in flight"
        )
        threading.Event().wait(0.3)  # time for a fourth to get through, if anything let it
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_processes_of_one_integration_share_its_three_threads_through_postgresql(
    sandbox: SandboxServer, admin: httpx.Client, connect: Connect, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's advisory locks; on SQLite the limit is each process's own")
    engines = [make_engine(database_url) for _ in range(2)]  # each process has its own pool
    try:
        slots: list[ThreadSlots] = [SharedThreadSlots(engine, sandbox.integration_code) for engine in engines]
        outcomes = _two_processes_reading(sandbox, admin, connect, slots, FAST)
    finally:
        for engine in engines:
            engine.dispose()
    assert outcomes == [2] * CALLS  # every read answered, none refused
    snapshot = stats(admin)
    assert snapshot["max_in_flight"][ENDPOINT] == 3
    assert "thread_threshold" not in snapshot["rejections"]


def test_processes_each_keeping_to_three_are_refused_beyond_the_third(
    sandbox: SandboxServer, admin: httpx.Client, connect: Connect
) -> None:
    """The control: each process's own limit lets six through at once; Autotask refuses."""
    greedy = ClientSettings(**{**vars(FAST), "thread_threshold_retries": 0})
    slots: list[ThreadSlots] = [EndpointConcurrency(), EndpointConcurrency()]
    outcomes = _two_processes_reading(sandbox, admin, connect, slots, greedy)
    assert ErrorKind.THREAD_THRESHOLD in outcomes
    assert stats(admin)["rejections"]["thread_threshold"] >= 3


def test_the_services_connectors_share_the_limit_on_postgresql(
    sandbox: SandboxServer, admin: httpx.Client, database_url: str, tmp_path: Path
) -> None:
    """As `serve` and `worker` build them (`bootstrap.connector_cache` over the database): two
    processes' connectors of one connection keep to three in flight together."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's advisory locks; on SQLite the limit is each process's own")
    settings = Settings(database_url=database_url, data_dir=tmp_path, psa_allowed_hosts=sandbox.allowed_host)
    engines = [make_engine(database_url) for _ in range(2)]
    try:
        caches = [connector_cache(settings, session_factory(engine)) for engine in engines]
        row = SimpleNamespace(
            id="at-1", username=sandbox.username, integration_code=sandbox.integration_code,
            secret_encrypted=secret_box(settings).encrypt(sandbox.secret), base_url=sandbox.api_url,
            credentials_version=1,
        )  # fmt: skip
        outcomes = _reading_at_once(sandbox, admin, [cache(row) for cache in caches])
    finally:
        for engine in engines:
            engine.dispose()
    assert outcomes == [2] * CALLS
    snapshot = stats(admin)
    assert snapshot["max_in_flight"][ENDPOINT] == 3
    assert "thread_threshold" not in snapshot["rejections"]
