"""Console sign-in attempts, counted where every API process sees them (moving windows)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

#: The longest key a store keeps (a kind prefix and a client address).
KEY_LENGTH = 100


class SignInAttempts(Protocol):
    def lock(self) -> None:
        """Serialise admissions, across processes, until this transaction ends."""
        ...

    def count_after(self, key: str, after: datetime) -> int:
        """Attempts under `key` made strictly after `after`."""
        ...

    def add(self, key: str, at: datetime) -> None: ...

    def remove_before(self, at: datetime) -> None:
        """Attempts (under any key) made before `at`."""
        ...
