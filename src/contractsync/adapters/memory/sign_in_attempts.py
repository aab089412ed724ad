"""The sign-in-attempts port in memory (a unit of work runs alone: `lock` has nothing to do)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contractsync.adapters.memory.unit_of_work import MemoryData


class MemorySignInAttempts:
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    def lock(self) -> None:
        """Nothing to do: a unit of work runs alone."""

    def count_after(self, key: str, after: datetime) -> int:
        return sum(1 for k, at in self.data.sign_in_attempts if k == key and at > after)

    def add(self, key: str, at: datetime) -> None:
        self.data.sign_in_attempts.append((key, at))

    def remove_before(self, at: datetime) -> None:
        self.data.sign_in_attempts = [(k, made) for k, made in self.data.sign_in_attempts if made >= at]
