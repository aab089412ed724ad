"""ContractServiceUnits: what Autotask shows for a contract service, one row per contract period,
split at adjustment dates.

Rows start at the contract start (units 0 until the first adjustment): the sandbox does not model
a separate creation date for a contract service. Row ids are derived from the contract service and
the row's start date, so they stay the same across queries and restarts (a later split at a date
gives the part before it the same id as the whole row had).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from contractsync.sandbox.ledger import Adjustment, ServiceLedger, UnitRow
from contractsync.sandbox.periods import Period, PeriodType, billing_periods
from contractsync.sandbox.store import Store
from contractsync.sandbox.wire import Record

#: Row id = contract service id * this + days from the contract start to the row start.
ROW_ID_FACTOR = 100_000


def contract_periods(contract: Record) -> list[Period]:
    return billing_periods(
        contract["startDate"], contract["endDate"], PeriodType(contract.get("contractPeriodType") or 1)
    )


def posted_periods(store: Store, contract_id: int) -> dict[date, datetime]:
    """Start date of each approved-and-posted period → when it was posted."""
    return {
        record["startDate"]: record["approveAndPostDate"]
        for record in store.find("PostedPeriods", "contractID", contract_id)
    }


def posted_through(store: Store, contract_id: int) -> date | None:
    """End of the last approved-and-posted period of the contract."""
    ends = [record["endDate"] for record in store.find("PostedPeriods", "contractID", contract_id)]
    return max(ends, default=None)


def adjustments_of(store: Store, contract_service_id: int) -> list[Adjustment]:
    return [
        Adjustment(
            id=record["id"],
            effective_date=record["effectiveDate"],
            unit_change=record["unitChange"],
            unit_price=record.get("adjustedUnitPrice"),
            unit_cost=record.get("adjustedUnitCost"),
        )
        for record in store.find("ContractServiceAdjustments", "contractServiceID", contract_service_id)
    ]


def ledger_for(store: Store, contract_service: Record) -> ServiceLedger:
    return ServiceLedger(
        contract_service.get("unitPrice") or Decimal(0),
        contract_service.get("unitCost") or Decimal(0),
        adjustments_of(store, contract_service["id"]),
    )


def row_id(contract_service_id: int, contract_start: date, row_start: date) -> int:
    return contract_service_id * ROW_ID_FACTOR + (row_start - contract_start).days


def service_rows(store: Store, contract: Record, contract_service: Record) -> list[UnitRow]:
    return ledger_for(store, contract_service).rows(contract_periods(contract))


def unit_records(
    store: Store, contract_service_ids: set[int] | None = None, contract_ids: set[int] | None = None
) -> list[Record]:
    """ContractServiceUnits records of the given contract services (or contracts, or all)."""
    if contract_service_ids is not None:
        services = [cs for cs_id in contract_service_ids if (cs := store.get("ContractServices", cs_id))]
    elif contract_ids is not None:
        services = [cs for c_id in contract_ids for cs in store.find("ContractServices", "contractID", c_id)]
    else:
        services = store.all("ContractServices")
    records: list[Record] = []
    for contract_service in services:
        contract = store.get("Contracts", contract_service["contractID"])
        if contract is None:
            continue
        service = store.get("Services", contract_service["serviceID"]) or {}
        posted = posted_periods(store, contract["id"])
        for row in service_rows(store, contract, contract_service):
            records.append(
                {
                    "id": row_id(contract_service["id"], contract["startDate"], row.start),
                    "contractID": contract["id"],
                    "contractServiceID": contract_service["id"],
                    "serviceID": contract_service["serviceID"],
                    "startDate": row.start,
                    "endDate": row.end,
                    "units": row.units,
                    "price": row.price,
                    "internalCurrencyPrice": row.price,
                    "cost": row.cost,
                    "approveAndPostDate": posted.get(row.period.start),
                    "vendorCompanyID": service.get("vendorCompanyID"),
                    "organizationalLevelAssociationID": contract.get("organizationalLevelAssociationID"),
                }
            )
    records.sort(key=lambda record: record["id"])
    return records


def unit_record(store: Store, item_id: int) -> Record | None:
    for record in unit_records(store, contract_service_ids={item_id // ROW_ID_FACTOR}):
        if record["id"] == item_id:
            return record
    return None
