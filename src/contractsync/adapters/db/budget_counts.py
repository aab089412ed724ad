"""The SQL of the shared request budget (request_budget.py): count, sum and correct one budget.

A budget is one row of `autotask_budgets` and one row per minute of `autotask_request_minutes`;
the rolling hour is the current minute and the 60 before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from contractsync.adapters.db.budget_table import autotask_budgets, autotask_request_minutes
from contractsync.adapters.db.session import is_postgres

_minutes = autotask_request_minutes
_budgets = autotask_budgets
WINDOW = timedelta(minutes=60)
BUCKET = timedelta(minutes=1)


@dataclass(frozen=True)
class Standing:
    """One budget as the database holds it now."""

    own: int  # requests contractsync counted in the rolling hour
    oldest: datetime | None  # the oldest minute still counted
    allowance: int

    @property
    def fraction(self) -> float:
        return self.own / self.allowance if self.allowance > 0 else 1.0


def window_start(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0) - WINDOW


def allowance(share: int, state: Any) -> int:
    """What contractsync may spend: its share, and never more than the tenant has left."""
    if state is None or state.tenant_threshold is None:
        return share
    return max(0, min(share, int(state.tenant_threshold) - int(state.others)))


def lock_budget(session: Session, key: str) -> Any:
    """The budget's row, created if missing and locked until the transaction ends."""
    dialect = postgresql if is_postgres(session) else sqlite
    session.execute(dialect.insert(_budgets).values(budget_key=key, others=0).on_conflict_do_nothing())
    return session.execute(select(_budgets).where(_budgets.c.budget_key == key).with_for_update()).one()


def count(session: Session, key: str, now: datetime, requests: int) -> None:
    """One UPSERT: add `requests` to this minute's row."""
    if requests <= 0:
        return
    dialect = postgresql if is_postgres(session) else sqlite
    minute = now.replace(second=0, microsecond=0)
    statement = dialect.insert(_minutes).values(budget_key=key, minute=minute, requests=requests)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[_minutes.c.budget_key, _minutes.c.minute],
            set_={"requests": _minutes.c.requests + statement.excluded.requests},
        )
    )


def standing(session: Session, key: str, share: int, now: datetime, state: Any = None) -> Standing:
    if state is None:
        state = session.execute(select(_budgets).where(_budgets.c.budget_key == key)).first()
    own, oldest = session.execute(
        select(func.coalesce(func.sum(_minutes.c.requests), 0), func.min(_minutes.c.minute)).where(
            _minutes.c.budget_key == key, _minutes.c.minute >= window_start(now)
        )
    ).one()
    if oldest is not None and oldest.tzinfo is None:  # an aggregate skips the column's type
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return Standing(int(own), oldest, allowance(share, state))


def mark(session: Session, key: str, **values: Any) -> None:
    session.execute(update(_budgets).where(_budgets.c.budget_key == key).values(**values))


def record_threshold(
    session: Session, key: str, share: int, threshold: int, current: int, now: datetime
) -> Standing:
    """What Autotask counted (`current` of `threshold`): the rest of the hour's requests are
    others'. The caller holds the budget's lock (`lock_budget`)."""
    own = standing(session, key, share, now).own
    mark(session, key, tenant_threshold=threshold, others=max(0, current - own), threshold_read_at=now)
    # Minutes that left the hour are never read again.
    session.execute(
        delete(_minutes).where(_minutes.c.budget_key == key, _minutes.c.minute < window_start(now))
    )
    return standing(session, key, share, now)


def fractions(session: Session, share: int, now: datetime) -> dict[str, float]:
    """Share of its allowance every budget used in the rolling hour."""
    sums = dict(
        session.execute(
            select(_minutes.c.budget_key, func.sum(_minutes.c.requests))
            .where(_minutes.c.minute >= window_start(now))
            .group_by(_minutes.c.budget_key)
        ).all()
    )
    states = {row.budget_key: row for row in session.execute(select(_budgets))}
    return {
        key: Standing(int(sums.get(key) or 0), None, allowance(share, states.get(key))).fraction
        for key in sorted(set(sums) | set(states))
    }
