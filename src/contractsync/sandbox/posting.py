"""Approve-and-post of contract periods, and the billing items it creates."""

from __future__ import annotations

from datetime import date, datetime

from contractsync.sandbox.service_units import contract_periods, posted_periods, row_id, service_rows
from contractsync.sandbox.store import Store

#: BillingItems.billingItemType the sandbox gives recurring contract service charges.
RECURRING_SERVICE_ITEM = 6


def post_periods(
    store: Store, through: date, now: datetime, contract_id: int | None = None
) -> dict[str, int]:
    """Approve and post every unposted period ending on or before `through`."""
    posted_count = items = 0
    with store.lock, store.batch():
        contracts = [c for c in store.all("Contracts") if contract_id is None or c["id"] == contract_id]
        for contract in contracts:
            already = posted_periods(store, contract["id"])
            due = [p for p in contract_periods(contract) if p.end <= through and p.start not in already]
            if not due:
                continue
            due_starts = {period.start for period in due}
            for period in due:
                store.insert(
                    "PostedPeriods",
                    {
                        "contractID": contract["id"],
                        "startDate": period.start,
                        "endDate": period.end,
                        "approveAndPostDate": now,
                    },
                )
                posted_count += 1
            for contract_service in store.find("ContractServices", "contractID", contract["id"]):
                service = store.get("Services", contract_service["serviceID"]) or {}
                for row in service_rows(store, contract, contract_service):
                    if row.period.start not in due_starts or row.units <= 0:
                        continue
                    amount = row.units * row.price
                    store.insert(
                        "BillingItems",
                        {
                            "billingItemType": RECURRING_SERVICE_ITEM,
                            "subType": 0,
                            "nonBillable": 0,
                            "companyID": contract["companyID"],
                            "contractID": contract["id"],
                            "contractServiceID": contract_service["id"],
                            "contractServicePeriodID": row_id(
                                contract_service["id"], contract["startDate"], row.start
                            ),
                            "serviceID": contract_service["serviceID"],
                            "billingCodeID": service.get("billingCodeID"),
                            "itemName": service.get("name"),
                            "description": f"{service.get('name')} {row.start:%Y-%m-%d} - {row.end:%Y-%m-%d}",
                            "itemDate": row.start,
                            "postedDate": now,
                            "webServiceDate": now,
                            "quantity": row.units,
                            "rate": row.price,
                            "internalCurrencyRate": row.price,
                            "extendedPrice": amount,
                            "internalCurrencyExtendedPrice": amount,
                            "totalAmount": amount,
                            "internalCurrencyTotalAmount": amount,
                            "ourCost": row.units * row.cost,
                            "taxDollars": 0,
                        },
                    )
                    items += 1
    return {"postedPeriods": posted_count, "billingItems": items}
