"""A PSA contract as contractsync keeps it: its dates and its period type by name."""

from __future__ import annotations

from typing import Any

from contractsync.domain.enums import ContractPeriodType
from contractsync.domain.model import Contract

#: Autotask's period type picklist (ContractPeriodType / Service periodType) to our names
PERIOD_TYPES = {1: "monthly", 2: "quarterly", 3: "semi_annual", 4: "yearly"}


def period_type_name(value: int | None) -> str:
    return PERIOD_TYPES.get(value or 1, "monthly")


def contract_of(found: Any) -> Contract:
    """The contract as the PSA answered it: dates and period type."""
    return Contract(
        found.id, found.start_date, found.end_date, ContractPeriodType(period_type_name(found.period_type))
    )
