"""Creating the plain entities (Companies, Contracts, Services, ContractServices) with the
validations Autotask applies to them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from contractsync.sandbox import entities
from contractsync.sandbox.errors import POSTED_PERIOD, SandboxError, no_such_entity
from contractsync.sandbox.field_info import READ_ONLY, check_create, check_picklists
from contractsync.sandbox.periods import PeriodType
from contractsync.sandbox.store import Store
from contractsync.sandbox.wire import Record, parse_record


def _require(record: Record, *fields: str) -> None:
    for field in fields:
        if record.get(field) in (None, ""):
            raise SandboxError(f"{field}: a value is required.")


def require_existing(store: Store, entity: str, field: str, item_id: Any) -> Record:
    found = store.get(entity, item_id) if isinstance(item_id, int) else None
    if found is None:
        raise SandboxError(no_such_entity(field, entity, item_id), reason="not_found")
    return found


def _period_type(value: Any, field: str) -> int:
    try:
        return PeriodType(value).value
    except ValueError as exc:
        raise SandboxError(f"{field}: {value} is not a valid period type (1, 2, 3 or 4).") from exc


def create_company(store: Store, body: object, now: datetime, item_id: int | None = None) -> int:
    record = parse_record(entities.COMPANIES, body)
    _require(record, "companyName")
    record.setdefault("companyType", entities.CUSTOMER_COMPANY)
    record.setdefault("isActive", True)
    record["createDate"] = now
    return store.insert("Companies", record | ({"id": item_id} if item_id else {}))


def create_contract(store: Store, body: object, now: datetime, item_id: int | None = None) -> int:
    record = parse_record(entities.CONTRACTS, body)
    _require(record, "companyID", "contractName", "contractType", "startDate", "endDate")
    require_existing(store, "Companies", "companyID", record["companyID"])
    start: date = record["startDate"]
    end: date = record["endDate"]
    if end < start:
        raise SandboxError("endDate: the end date must be on or after the start date.")
    # Recurring service contracts bill by period; the sandbox defaults to monthly.
    record["contractPeriodType"] = _period_type(record.get("contractPeriodType") or 1, "contractPeriodType")
    record.setdefault("status", 1)
    record.setdefault("timeReportingRequiresStartAndStopTimes", 0)
    record["lastModifiedDateTime"] = now
    return store.insert("Contracts", record | ({"id": item_id} if item_id else {}))


def create_service(store: Store, body: object, now: datetime, item_id: int | None = None) -> int:
    record = parse_record(entities.SERVICES, body)
    _require(record, "name", "unitPrice")
    record["periodType"] = _period_type(record.get("periodType") or 1, "periodType")
    record.setdefault("unitCost", Decimal(0))
    record.setdefault("isActive", True)
    record["createDate"] = now
    record["lastModifiedDate"] = now
    return store.insert("Services", record | ({"id": item_id} if item_id else {}))


def add_contract_service(
    store: Store,
    contract: Record,
    service: Record,
    unit_price: Decimal | None = None,
    unit_cost: Decimal | None = None,
    item_id: int | None = None,
    extra: Record | None = None,
) -> int:
    price = unit_price if unit_price is not None else service.get("unitPrice") or Decimal(0)
    cost = unit_cost if unit_cost is not None else service.get("unitCost") or Decimal(0)
    record: Record = (extra or {}) | {
        "contractID": contract["id"],
        "serviceID": service["id"],
        "unitPrice": price,
        "unitCost": cost,
        "internalCurrencyUnitPrice": price,
        "internalCurrencyAdjustedPrice": price,
    }
    record.setdefault("invoiceDescription", service.get("invoiceDescription") or service.get("name"))
    return store.insert("ContractServices", record | ({"id": item_id} if item_id else {}))


def create_contract_service(
    store: Store, body: object, item_id: int | None = None, parent_id: int | None = None
) -> int:
    record = parse_record(entities.CONTRACT_SERVICES, body)
    if parent_id is not None:
        if record.get("contractID") not in (None, parent_id):
            raise SandboxError(
                f"contractID: {record['contractID']} does not match the parent contract {parent_id}."
            )
        record["contractID"] = parent_id
    _require(record, "contractID", "serviceID")
    contract = require_existing(store, "Contracts", "contractID", record["contractID"])
    service = require_existing(store, "Services", "serviceID", record["serviceID"])
    return add_contract_service(
        store, contract, service, record.get("unitPrice"), record.get("unitCost"), item_id, extra=record
    )


def update_record(
    store: Store, spec: entities.EntitySpec, body: object, now: datetime, *, replace: bool = False
) -> int:
    """PATCH (merge) or PUT (replace: a writable field the body omits becomes null, and the
    result must still carry the required fields) of Companies, Contracts or Services; the body
    names the `id`."""
    if not isinstance(body, dict):
        raise SandboxError(f"The {spec.name} entity must be sent as a JSON object.", status=400)
    raw_id = next((value for key, value in body.items() if str(key).lower() == "id"), None)
    if not isinstance(raw_id, int) or isinstance(raw_id, bool):
        raise SandboxError("id: a value is required.")
    current = require_existing(store, spec.name, "id", raw_id)
    changes = parse_record(spec, body)
    check_picklists(spec, changes)
    updated = _updated(spec, current, changes, replace=replace)
    if spec.name == "Contracts":
        if changes.get("companyID") not in (None, current["companyID"]):
            require_existing(store, "Companies", "companyID", changes["companyID"])
        if updated["endDate"] < updated["startDate"]:
            raise SandboxError("endDate: the end date must be on or after the start date.")
        updated["contractPeriodType"] = _period_type(
            updated.get("contractPeriodType") or 1, "contractPeriodType"
        )
        # Posted periods pin the contract's period grid and the dates they cover.
        posted_ends = [p["endDate"] for p in store.find("PostedPeriods", "contractID", current["id"])]
        grid_changed = any(
            updated[field] != current.get(field) for field in ("startDate", "contractPeriodType")
        )
        if posted_ends and (grid_changed or updated["endDate"] < max(posted_ends)):
            raise SandboxError(POSTED_PERIOD, reason="posted_period")
        updated["lastModifiedDateTime"] = now
    elif spec.name == "Services":
        updated["periodType"] = _period_type(updated.get("periodType") or 1, "periodType")
        updated["lastModifiedDate"] = now
    store.update(spec.name, updated)
    return int(current["id"])


def update_contract_service(store: Store, parent_id: int, body: object, *, replace: bool) -> int:
    """PATCH (merge) or PUT (replace) of /Contracts/{parent}/Services; the body names the `id`.

    PUT replaces the writable fields: one it omits becomes null, as the vendor's PUT does.
    The contract and the service of a contract service never change."""
    spec = entities.CONTRACT_SERVICES
    if not isinstance(body, dict):
        raise SandboxError(f"The {spec.name} entity must be sent as a JSON object.", status=400)
    raw_id = next((value for key, value in body.items() if str(key).lower() == "id"), None)
    if not isinstance(raw_id, int) or isinstance(raw_id, bool):
        raise SandboxError("id: a value is required.")
    with store.lock:
        current = require_existing(store, spec.name, "id", raw_id)
        if current["contractID"] != parent_id:
            raise SandboxError(no_such_entity("id", spec.name, raw_id), reason="not_found")
        changes = parse_record(spec, body)
        updated = _updated(spec, current, changes, replace=replace, keep=("contractID",))
        for field in ("contractID", "serviceID"):
            if updated.get(field) != current[field]:
                raise SandboxError(f"{field}: the {field} of a contract service cannot be changed.")
        store.update(spec.name, updated)
    return int(current["id"])


def _updated(
    spec: entities.EntitySpec, current: Record, changes: Record, *, replace: bool, keep: tuple[str, ...] = ()
) -> Record:
    """PATCH: the record with the changes. PUT: only the changes, plus what a client cannot
    write (id, read-only fields, `keep`); it must still carry every required field."""
    if not replace:
        return current | changes
    kept = {"id", *keep, *READ_ONLY.get(spec.name, frozenset())}
    updated = {field: current.get(field) for field in kept} | changes
    check_create(spec, updated)
    return updated
