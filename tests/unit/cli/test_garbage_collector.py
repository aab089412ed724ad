"""`serve` tunes the garbage collector before it answers: startup's objects frozen, the youngest
generation collected after GC_YOUNG_THRESHOLD new objects instead of Python's 700."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from contractsync.bootstrap import GC_YOUNG_THRESHOLD, tune_garbage_collector


@pytest.fixture
def restored_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_startup_objects_leave_the_collectors_sight_and_young_objects_wait_longer(
    restored_collector: None,
) -> None:
    built_at_startup = {"routes": [object() for _ in range(10)]}
    _, middle, oldest = gc.get_threshold()

    tune_garbage_collector()

    assert gc.get_freeze_count() > 0
    assert all(seen is not built_at_startup for seen in gc.get_objects())  # frozen: not walked
    assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, middle, oldest)
    assert GC_YOUNG_THRESHOLD > 700


def test_a_reference_cycle_is_still_freed(restored_collector: None) -> None:
    tune_garbage_collector()
    collected: list[int] = []
    gc.callbacks.append(lambda phase, info: collected.append(info["collected"]) if phase == "stop" else None)
    try:
        for _ in range(2 * GC_YOUNG_THRESHOLD):  # cycles only the collector can free
            node: dict[str, object] = {}
            node["self"] = node
        assert sum(collected) > 0
    finally:
        gc.callbacks.pop()
