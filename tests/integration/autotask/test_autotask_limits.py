"""The request budget slows down instead of failing; at most 3 in flight per endpoint.

The budget runs on a ManualClock whose sleep advances it: no real sleeping, no timing asserts.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import httpx

from contractsync.adapters.autotask.limits import EndpointConcurrency, RollingWindowBudget, endpoint_of
from contractsync.adapters.clock import ManualClock

from .mock_autotask import Harness, answer

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class RecordingSleeper:
    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.advance(seconds)


def _budget(
    limit: int, window_seconds: float = 3600
) -> tuple[RollingWindowBudget, ManualClock, RecordingSleeper]:
    clock = ManualClock(START)
    sleeper = RecordingSleeper(clock)
    budget = RollingWindowBudget(clock, sleeper, limit=limit, window=timedelta(seconds=window_seconds))
    return budget, clock, sleeper


def test_below_eighty_percent_requests_go_at_once() -> None:
    budget, clock, sleeper = _budget(limit=10)
    for _ in range(8):
        budget.acquire()
    assert sleeper.sleeps == []
    assert clock.now() == START
    assert budget.usage().used == 8
    assert budget.usage().fraction == 0.8


def test_near_the_budget_the_rest_is_spread_over_the_window() -> None:
    budget, clock, sleeper = _budget(limit=10)
    for _ in range(8):
        budget.acquire()
    budget.acquire()  # 2 left and 3600 s until the first request leaves the window: 1800 s each
    budget.acquire()  # 1 left and 1800 s to go
    assert sleeper.sleeps == [1800.0, 1800.0]
    assert clock.now() == START + timedelta(seconds=3600)


def test_at_the_cap_callers_wait_for_the_window_and_nothing_fails() -> None:
    budget, clock, _ = _budget(limit=5)
    for _ in range(5):
        clock.advance(1)
        budget.acquire()
    assert budget.usage().used == 5
    budget.acquire()  # the 6th waits until the oldest request is an hour old
    assert clock.now() >= START + timedelta(seconds=1 + 3600)
    assert budget.usage().used <= 5


def test_the_window_rolls() -> None:
    budget, clock, _ = _budget(limit=100)
    for _ in range(50):
        budget.acquire()
    clock.advance(3601)
    assert budget.usage().used == 0


def test_the_client_spends_the_budget_once_per_http_request() -> None:
    budget, _, _ = _budget(limit=1000)
    harness = Harness(lambda request: answer(200, {"itemId": 1}), budget=budget)
    harness.client.get_path("ThresholdInformation")
    assert budget.usage().used == 1


def test_a_fourth_concurrent_request_to_one_endpoint_waits_and_is_not_lost() -> None:
    release = threading.Event()
    lock = threading.Lock()
    in_flight = {"now": 0, "max": 0}
    three_in = threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            in_flight["now"] += 1
            in_flight["max"] = max(in_flight["max"], in_flight["now"])
            if in_flight["now"] == 3:
                three_in.set()
        release.wait(timeout=30)
        with lock:
            in_flight["now"] -= 1
        return answer(200, {"item": {"id": 1, "companyName": "x", "companyType": 1}})

    harness = Harness(handler)
    results: list[object] = []

    def call() -> None:
        results.append(harness.client.get("Companies", 1))

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    assert three_in.wait(timeout=30)
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    assert in_flight["max"] == 3
    assert len(results) == 6 and len(harness.requests) == 6


def test_endpoints_do_not_share_slots() -> None:
    limiter = EndpointConcurrency(per_endpoint=1)
    with limiter.slot("contracts"), limiter.slot("companies"):
        pass


def test_child_paths_count_under_their_entity() -> None:
    base = "https://x.example/atservicesrest/v1.0"
    assert endpoint_of(f"{base}/Contracts/5/Services") == "contractservices"
    assert endpoint_of(f"{base}/ContractServices/query/next?paging=abc") == "contractservices"
    assert endpoint_of(f"{base}/Contracts/5") == "contracts"
