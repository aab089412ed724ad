"""Who is calling: the provider (admin token) or one reseller (reseller-scoped token)."""

from __future__ import annotations

from dataclasses import dataclass, field


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
