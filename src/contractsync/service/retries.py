"""Running a use case again: after a deadlock or serialization failure (`retried`), and after a
lost race as well (`with_retries`); what outlasts every attempt is refused as a Conflict."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from contractsync.ports.subscription_books import LostRace
from contractsync.ports.unit_of_work import RetriesExhausted, UnitOfWorkFactory
from contractsync.service.errors import Conflict

T = TypeVar("T")
ATTEMPTS = 3


def retried(units: UnitOfWorkFactory, run: Callable[[], T]) -> T:
    """`run` again after a deadlock or serialization failure (`units.retrying`); a database that
    stays busy through every attempt is refused as a conflict to try again, never a 500."""
    try:
        return units.retrying(run)
    except RetriesExhausted as error:
        raise Conflict(f"{error}; try again") from error


def with_retries(units: UnitOfWorkFactory, run: Callable[[], T]) -> T:
    """A lost race (a concurrent change, a row the worker started sending, a deadlock) is retried,
    then refused."""
    for attempt in range(ATTEMPTS):
        try:
            return retried(units, run)
        except LostRace as error:
            if attempt == ATTEMPTS - 1:
                raise Conflict(f"a concurrent change won the race; try again ({error})") from None
    raise AssertionError("unreachable")
