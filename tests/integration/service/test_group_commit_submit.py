"""Operations submitted without a waiting thread (the API's event loop) share group commits with
those applied from threads, and each caller gets its own answer or error."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from contractsync.service.actor import ADMIN
from contractsync.service.errors import NotFound
from tests.integration.service.conftest import World, map_s1


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
