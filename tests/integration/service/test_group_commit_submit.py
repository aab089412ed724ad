"""Operations submitted without a waiting thread (the API's event loop) share group commits with
those applied from threads, and each caller gets its own answer or error."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from contractsync.service.actor import ADMIN
from contractsync.service.errors import NotFound
from contractsync.service.group_commit import GATHER_FROM
from tests.integration.service.conftest import World, map_s1

JSON = dict[str, Any]


def test_submitted_and_applied_operations_each_get_their_answer(world: World) -> None:
    map_s1(world)
    service = world.service
    futures = [
        service.submit_operation(ADMIN, "s1", {"type": "update_quantity", "quantity": 20 + n})
        for n in range(5)
    ]
    with ThreadPoolExecutor(3) as pool:
        applied = list(pool.map(
            lambda n: service.apply_operation(ADMIN, "s1", {"type": "update_quantity", "quantity": 40 + n}),
            range(3),
        ))  # fmt: skip
    missing = service.submit_operation(ADMIN, "nope", {"type": "update_quantity", "quantity": 1})
    answers = [future.result(timeout=60) for future in futures]
    assert [a[0]["adjustments"][0]["target_units"] for a in answers] == [20, 21, 22, 23, 24]
    assert [a[0]["adjustments"][0]["target_units"] for a in applied] == [40, 41, 42]
    with pytest.raises(NotFound):
        missing.result(timeout=60)
    preview = service.submit_operation(
        ADMIN, "s1", {"type": "update_quantity", "quantity": 9, "preview": True}
    )
    assert preview.result(timeout=60)[0]["preview"] is True


def _large_group(world: World, queued_meanwhile: int = 0) -> tuple[Any, Any, list[Future[list[JSON]]]]:
    """A group of GATHER_FROM operations on s1 (they arrive while a transaction is pretended to
    run), during whose transaction `queued_meanwhile` more are queued; answered, the first
    returned. Gathering waits 30 s at most: what is measured is the grouping, not the time."""
    map_s1(world)
    service, group_commit = world.service, world.service._operations
    group_commit.gather_seconds = 30.0
    meanwhile: list[Future[list[JSON]]] = []

    def queue_more(size: int) -> None:
        if size == GATHER_FROM and not meanwhile:
            meanwhile.extend(change(service, 30 + n) for n in range(queued_meanwhile))

    group_commit.observer = queue_more  # told inside the group, after its commit
    with group_commit._changed:
        group_commit._busy = True
    first = [change(service, 20 + n) for n in range(GATHER_FROM)]
    with group_commit._changed:
        group_commit._busy = False
        group_commit._call_leader()
    assert [units(f) for f in first] == list(range(20, 20 + GATHER_FROM))
    return service, group_commit, meanwhile


def change(service: Any, quantity: int) -> Future[list[JSON]]:
    return service.submit_operation(ADMIN, "s1", {"type": "update_quantity", "quantity": quantity})


def units(future: Future[list[JSON]]) -> int:
    return int(future.result(timeout=60)[0]["adjustments"][0]["target_units"])


def test_after_a_large_group_the_next_waits_for_its_callers_to_come_back(world: World) -> None:
    """Its callers come back one at a time (each alone long enough to run on its own): the next
    group waits for all of them, not only the first, and holds as many as the last."""
    service, group_commit, _ = _large_group(world)
    before, started = (group_commit.groups, group_commit.operations), time.monotonic()
    back = []
    for n in range(GATHER_FROM):
        back.append(change(service, 40 + n))
        time.sleep(0.02)
    assert [units(f) for f in back] == list(range(40, 40 + GATHER_FROM))
    assert (group_commit.groups - before[0], group_commit.operations - before[1]) == (1, GATHER_FROM)
    assert time.monotonic() - started < 15  # started when all were back, not after the 30 s


def test_callers_queued_during_a_large_group_wait_for_its_callers_and_merge(world: World) -> None:
    """Cohorts that would alternate (one queues while the other's group runs) merge: the next
    group holds the callers queued meanwhile and those the last group answered."""
    service, group_commit, meanwhile = _large_group(world, queued_meanwhile=GATHER_FROM)
    before = (group_commit.groups, group_commit.operations)
    back = []
    for n in range(GATHER_FROM):
        back.append(change(service, 40 + n))
        time.sleep(0.02)
    assert [units(f) for f in meanwhile] == list(range(30, 30 + GATHER_FROM))
    assert [units(f) for f in back] == list(range(40, 40 + GATHER_FROM))
    assert (group_commit.groups - before[0], group_commit.operations - before[1]) == (1, 2 * GATHER_FROM)


def test_a_caller_that_comes_alone_never_waits(world: World) -> None:
    """After a small group, or long after a large one, an operation runs at once."""
    service, group_commit, _ = _large_group(world)
    later = group_commit.clock
    group_commit.clock = lambda: later() + 60  # a minute after the large group answered
    started = time.monotonic()
    assert units(change(service, 60)) == 60
    assert time.monotonic() - started < 15  # did not wait out the 30 s
    group_commit.clock = later
    started = time.monotonic()
    assert units(change(service, 61)) == 61  # right after a group of one
    assert time.monotonic() - started < 15
