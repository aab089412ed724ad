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


def test_after_a_large_group_the_next_gathers_the_callers_that_follow(world: World) -> None:
    """Under load the group after a large one waits for the next cohort (twice as many), so the
    group's fixed cost is shared by more operations; a caller that comes alone never waits."""
    map_s1(world)
    service, group_commit = world.service, world.service._operations
    group_commit.gather_seconds = 30.0  # long: what is measured is the grouping, not the time

    def change(quantity: int) -> Future[list[JSON]]:
        return service.submit_operation(ADMIN, "s1", {"type": "update_quantity", "quantity": quantity})

    with group_commit._changed:  # eight arrive while a transaction is (pretended to be) running
        group_commit._busy = True
    first = [change(20 + n) for n in range(GATHER_FROM)]
    with group_commit._changed:
        group_commit._busy = False
        group_commit._call_leader()
    assert [f.result(timeout=60)[0]["adjustments"][0]["target_units"] for f in first] == list(range(20, 28))
    before = (group_commit.groups, group_commit.operations)
    following = []
    for n in range(2 * GATHER_FROM):  # one at a time, each alone long enough to run on its own
        following.append(change(40 + n))
        time.sleep(0.02)
    answers = [f.result(timeout=60)[0]["adjustments"][0]["target_units"] for f in following]
    assert answers == list(range(40, 40 + 2 * GATHER_FROM))
    assert (group_commit.groups - before[0], group_commit.operations - before[1]) == (1, 2 * GATHER_FROM)
    group_commit.gather_seconds = 0.0
    assert change(60).result(timeout=60)  # a group of one: the next does not gather
    group_commit.gather_seconds = 30.0
    started = time.monotonic()
    assert change(61).result(timeout=60)[0]["adjustments"][0]["target_units"] == 61
    assert time.monotonic() - started < 15  # did not wait out the 30 s
