"""Exponential backoff with full jitter (AWS architecture blog): spreads retries of many workers."""

from __future__ import annotations

import random
from typing import Protocol


class Random(Protocol):
    def uniform(self, a: float, b: float) -> float: ...


def backoff_seconds(attempt: int, rng: Random | random.Random, *, base: float, cap: float) -> float:
    """Delay before retry number `attempt` (1-based): uniform in [0, min(cap, base·2^(attempt-1))]."""
    ceiling = min(cap, base * (2 ** max(attempt - 1, 0)))
    return rng.uniform(0.0, ceiling)
