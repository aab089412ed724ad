"""A create use case's answer when the id it adds is taken."""

from __future__ import annotations

from contractsync.service.errors import Conflict


def require_new(added: bool, what: str, key: str) -> None:
    """Conflict when the repository did not add the row (its id exists already)."""
    if not added:
        raise Conflict(f"{what} {key} already exists")
