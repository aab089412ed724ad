"""Creating a contract service adjustment, with every rejection Autotask applies (SPEC §3)."""

from __future__ import annotations

from datetime import datetime

from contractsync.sandbox import entities, errors
from contractsync.sandbox.entity_writes import add_contract_service, require_existing
from contractsync.sandbox.errors import SandboxError
from contractsync.sandbox.ledger import Adjustment
from contractsync.sandbox.service_units import ledger_for, posted_through
from contractsync.sandbox.store import Store
from contractsync.sandbox.wire import Record, parse_record


def create_adjustment(store: Store, body: object, now: datetime, path_contract_id: int | None = None) -> int:
    record = parse_record(entities.CONTRACT_SERVICE_ADJUSTMENTS, body)
    contract_id = record.get("contractID")
    if path_contract_id is not None:
        if contract_id is not None and contract_id != path_contract_id:
            raise SandboxError(
                f"contractID: {contract_id} does not match the parent contract {path_contract_id}."
            )
        contract_id = path_contract_id
    if contract_id is None:
        raise SandboxError("contractID: a value is required.")
    if record.get("effectiveDate") is None:
        raise SandboxError("effectiveDate: a value is required.")
    effective = record["effectiveDate"]
    unit_change = record.get("unitChange") or 0

    with store.lock:  # check-then-insert must not interleave with another adjustment
        contract = require_existing(store, "Contracts", "contractID", contract_id)
        contract_service: Record | None = None
        service: Record | None = None
        if record.get("contractServiceID") is not None:
            contract_service = require_existing(
                store, "ContractServices", "contractServiceID", record["contractServiceID"]
            )
            if contract_service["contractID"] != contract["id"]:
                raise SandboxError(
                    f"contractServiceID: contract service {contract_service['id']} does not belong to "
                    f"contract {contract['id']}."
                )
            if record.get("serviceID") not in (None, contract_service["serviceID"]):
                raise SandboxError(
                    f"serviceID: {record['serviceID']} does not match contract service "
                    f"{contract_service['id']} (service {contract_service['serviceID']})."
                )
        elif record.get("serviceID") is not None:
            service = require_existing(store, "Services", "serviceID", record["serviceID"])
            on_contract = [
                cs
                for cs in store.find("ContractServices", "contractID", contract["id"])
                if cs["serviceID"] == service["id"]
            ]
            if len(on_contract) > 1 and not record.get("allowRepeatService"):
                raise SandboxError(
                    f"serviceID: service {service['id']} is on contract {contract['id']} more than once; "
                    "send the contractServiceID."
                )
            # allowRepeatService asks for a further copy of a service already on the contract.
            repeat = bool(record.get("allowRepeatService")) and bool(on_contract)
            contract_service = on_contract[0] if on_contract and not repeat else None
        else:
            raise SandboxError("contractServiceID: a value is required (or serviceID).")

        if not contract["startDate"] <= effective <= contract["endDate"]:
            raise SandboxError(errors.OUTSIDE_CONTRACT, reason="outside_contract")
        through = posted_through(store, contract["id"])
        if through is not None and effective <= through:
            raise SandboxError(errors.POSTED_PERIOD, reason="posted_period")
        if contract_service is not None:
            ledger = ledger_for(store, contract_service)
            if ledger.has_date(effective):
                raise SandboxError(errors.DUPLICATE_DATE, reason="duplicate_date")
            ledger.adjustments.append(
                Adjustment(0, effective, unit_change, record.get("adjustedUnitPrice"), None)
            )
            ledger.adjustments.sort(key=lambda adj: (adj.effective_date, adj.id))
            if ledger.lowest_units() < 0:
                raise SandboxError(errors.NEGATIVE_UNITS, reason="negative_units")
        elif unit_change < 0:
            raise SandboxError(errors.NEGATIVE_UNITS, reason="negative_units")
        if contract_service is None:
            assert service is not None
            # Autotask adds the service to the contract when an adjustment names it.
            new_id = add_contract_service(store, contract, service)
            contract_service = store.get("ContractServices", new_id)
            assert contract_service is not None
        return store.insert(
            "ContractServiceAdjustments",
            {
                "contractID": contract["id"],
                "contractServiceID": contract_service["id"],
                "serviceID": contract_service["serviceID"],
                "effectiveDate": effective,
                "unitChange": unit_change,
                "adjustedUnitPrice": record.get("adjustedUnitPrice"),
                "adjustedUnitCost": record.get("adjustedUnitCost"),
                "quoteItemID": record.get("quoteItemID"),
                "allowRepeatService": record.get("allowRepeatService"),
                "createDate": now,
            },
        )
