"""The connector's per-endpoint limiter against the sandbox's real thread limit, no faults.

The test holds the sandbox's data, so requests that reach it stay in flight (busy, as a slow
Autotask would be) until the test lets go; the sandbox serves requests in worker threads and
refuses a fourth in flight on one endpoint, as Autotask does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

import httpx

from contractsync.adapters.autotask import AutotaskConnector, ClientSettings, EndpointConcurrency
from contractsync.ports.psa import ErrorKind, PsaError
from contractsync.sandbox.server import SandboxServer

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


def _read_in_threads(connector: AutotaskConnector) -> tuple[list[threading.Thread], list[object]]:
    outcomes: list[object] = []

    def read() -> None:
        try:
            outcomes.append(
                len(connector.service_units(CONTRACT_SERVICE_ID, date(2026, 1, 1), date(2026, 2, 28)))
            )
        except PsaError as error:
            outcomes.append(error.kind)

    threads = [threading.Thread(target=read, daemon=True) for _ in range(CALLS)]
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
