"""The outbox and ledger records the repositories hand out; they are the ports' records
(`contractsync.ports.outbox`), named here too for the adapters that build them from rows."""

from contractsync.ports.outbox import (
    OPEN_STATUSES,
    UNSYNCED_STATUSES,
    Adjustment,
    AdjustmentStatus,
    LedgerEntry,
    NewAdjustment,
    OperationStatus,
)

__all__ = [
    "OPEN_STATUSES",
    "UNSYNCED_STATUSES",
    "Adjustment",
    "AdjustmentStatus",
    "LedgerEntry",
    "NewAdjustment",
    "OperationStatus",
]
