"""Which failed records count as refusals (as `adapters/db/reconciliation_facts.refused_records_query`
reads them): failed without planning anything (e.g. outside the contract), not an unsupported
attribute (R1c), no manual action, and not overtaken by a later record of their subscription."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contractsync.domain.enums import RecordType
from contractsync.ports.audit_records import AuditRecord

if TYPE_CHECKING:
    from contractsync.adapters.memory.unit_of_work import MemoryData

#: a later record of the subscription in one of these overtakes a refused one
OVERTAKING = ("pending", "succeeded", "skipped")


def is_refused(data: MemoryData, record: AuditRecord) -> bool:
    return (
        record.status == "failed"
        and record.type != RecordType.UPDATE_UNSUPPORTED.value
        and all(line.operation_id != record.id for line in data.adjustments.values())
        and all(action.operation_id != record.id for action in data.manual_actions.values())
        and not any(
            later.subscription_id is not None
            and later.subscription_id == record.subscription_id
            and later.id > record.id
            and later.status in OVERTAKING
            for later in data.records.values()
        )
    )
