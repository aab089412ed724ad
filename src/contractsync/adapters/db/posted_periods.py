"""What Autotask's "already approved and posted" rejection teaches: the contract is posted at least
through the end of the contract period that holds the refused date.

contractsync cannot see Autotask post periods; it learns it from this rejection and remembers it
in `contracts.posted_through`, so every later plan places adjustments after it (SPEC §2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from contractsync.adapters.db.tables import contracts
from contractsync.domain.enums import ContractPeriodType
from contractsync.domain.periods import Period, period_containing


def learn_posted_through(
    session: Session, connection_id: str, contract_id: int, refused: date
) -> date | None:
    """Move the contract's posted-through date to the end of the period holding `refused`."""
    learned = learn_posted_period(session, connection_id, contract_id, refused)
    return None if learned is None else learned.posted_through


@dataclass(frozen=True)
class PostedPeriod:
    """The contract period Autotask refused, and the posted-through date known afterwards."""

    period: Period
    posted_through: date


def learn_posted_period(
    session: Session, connection_id: str, contract_id: int, refused: date
) -> PostedPeriod | None:
    """`learn_posted_through`, answering the refused period too (None: the contract is unknown)."""
    row = session.execute(
        select(contracts).where(
            contracts.c.connection_id == connection_id, contracts.c.contract_id == contract_id
        )
    ).first()
    if row is None:
        return None
    period = period_containing(row.start_date, ContractPeriodType(row.period_type).months, refused)
    known: date | None = row.posted_through
    if known is not None and known >= period.end:
        return PostedPeriod(period, known)
    session.execute(
        update(contracts)
        .where(contracts.c.connection_id == connection_id, contracts.c.contract_id == contract_id)
        .values(posted_through=period.end)
    )
    return PostedPeriod(period, period.end)
