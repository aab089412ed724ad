"""Who is calling: the provider (admin token) or one reseller (reseller-scoped token)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Actor:
    reseller_id: str | None  # None: the provider, who sees every reseller
    # Who, for the audit log: a token's name, a console user, "worker", "cli"; not part of equality.
    name: str | None = field(default=None, compare=False)

    @property
    def is_admin(self) -> bool:
        return self.reseller_id is None

    def can_see(self, reseller_id: str) -> bool:
        return self.reseller_id is None or self.reseller_id == reseller_id


ADMIN = Actor(None)
CLI = Actor(None, "cli")  # the provider, from a command line
SCHEDULER = Actor(None, "scheduler")


def named_by(name: str | None) -> dict[str, Any]:
    """An audit record's details naming who made it (`details["actor"]`), when known."""
    return {"actor": name} if name else {}
