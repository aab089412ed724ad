"""Time, injected everywhere it matters (never `datetime.now()` in the core)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class Sleeper(Protocol):
    def sleep(self, seconds: float) -> None: ...
