"""Seeding the sandbox: arbitrary records (tests, benchmarks) and the demo data set."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from contractsync.sandbox.adjustments import create_adjustment
from contractsync.sandbox.entity_writes import (
    create_company,
    create_contract,
    create_contract_service,
    create_service,
)
from contractsync.sandbox.errors import SandboxError
from contractsync.sandbox.store import Store

_SEEDERS = {
    "companies": create_company,
    "services": create_service,
    "contracts": create_contract,
}


def seed_records(store: Store, body: object, now: datetime) -> dict[str, list[int]]:
    """Create companies, services, contracts, contract services and adjustments (in that order);
    ids optional (not for adjustments)."""
    if not isinstance(body, dict):
        raise SandboxError("The seed must be a JSON object.", status=400)
    created: dict[str, list[int]] = {}
    with store.lock, store.batch():
        for key in ("companies", "services", "contracts", "contractServices"):
            items = body.get(key) or []
            if not isinstance(items, list):
                raise SandboxError(f"{key} must be a list.", status=400)
            ids: list[int] = []
            for item in items:
                item_id = item.get("id") if isinstance(item, dict) else None
                if item_id is not None and not isinstance(item_id, int):
                    raise SandboxError(f"{key}: id {item_id!r} is not an integer.", status=400)
                try:
                    if key == "contractServices":
                        ids.append(create_contract_service(store, item, item_id))
                    else:
                        ids.append(_SEEDERS[key](store, item, now, item_id))
                except ValueError as exc:  # an id given twice
                    raise SandboxError(f"{key}: {exc}", status=400) from exc
            created[key] = ids
        adjustments = body.get("adjustments") or []
        if not isinstance(adjustments, list):
            raise SandboxError("adjustments must be a list.", status=400)
        # History goes through the same checks as the API (window, posted periods, same date).
        created["adjustments"] = [create_adjustment(store, item, now) for item in adjustments]
    return created


DEMO_COMPANIES = ["Contoso Ltd", "Fabrikam Inc"]
#: name, unit cost, unit price (per month; the demo contracts bill monthly).
DEMO_SERVICES = [
    ("Microsoft 365 Business Basic (NCE, monthly, monthly billing)", "6.0000", "7.2000"),
    ("Microsoft 365 Business Standard (NCE, annual, monthly billing)", "12.5000", "15.0000"),
    ("Microsoft 365 Business Premium (NCE, annual, monthly billing)", "22.0000", "26.4000"),
    ("Microsoft 365 E3 (legacy)", "32.0000", "38.4000"),
    ("Azure plan", "0.0000", "0.0000"),
]


def seed_demo(store: Store, now: datetime) -> dict[str, Any]:
    """Two customers with a monthly recurring-service contract each, and a CSP service catalogue.

    Idempotent by name, so `--seed demo` on a persisted sandbox does not duplicate anything.
    """
    with store.lock, store.batch():
        companies = {c["companyName"]: c["id"] for c in store.all("Companies")}
        services = {s["name"]: s["id"] for s in store.all("Services")}
        contracts = {c["contractName"]: c["id"] for c in store.all("Contracts")}
        company_ids: dict[str, int] = {}
        contract_ids: dict[str, int] = {}
        for name in DEMO_COMPANIES:
            company_ids[name] = companies.get(name) or create_company(
                store,
                {"companyName": name, "companyType": 1, "phone": "+1 555 0100", "ownerResourceID": 29682885},
                now,
            )
            contract_name = f"{name} - Microsoft CSP"
            contract_ids[name] = contracts.get(contract_name) or create_contract(
                store,
                {
                    "companyID": company_ids[name],
                    "contractName": contract_name,
                    "contractType": 7,
                    "contractPeriodType": 1,
                    "status": 1,
                    "startDate": "2024-01-01T00:00:00",
                    "endDate": "2027-12-31T00:00:00",
                },
                now,
            )
        service_ids: dict[str, int] = {}
        for name, cost, price in DEMO_SERVICES:
            service_ids[name] = services.get(name) or create_service(
                store, {"name": name, "unitCost": cost, "unitPrice": price, "periodType": 1}, now
            )
    return {"companies": company_ids, "contracts": contract_ids, "services": service_ids}
