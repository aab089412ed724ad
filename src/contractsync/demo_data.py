"""The demo's sample data, created through the façade exactly as an API client would.

Two resellers (one with an Autotask connection to the in-process sandbox, one without), customers
with provider margins, NCE, legacy and Azure plan subscriptions, and mappings to the sandbox's
demo contracts and services. Some subscriptions stay unmapped on purpose, so the mappings page
has something to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from contractsync.service.actor import Actor
from contractsync.service.facade import ContractSync

#: the provider, as the demo's set-up (the audit log's "who" of the sample data)
ADMIN = Actor(None, "demo set-up")

DEMO_CONNECTION_ID = "demo-sandbox"


@dataclass(frozen=True)
class SandboxAccess:
    base_url: str
    username: str
    secret: str
    integration_code: str
    #: the sandbox's demo companies by name; the façade has no company search, so the demo
    #: takes them from the sandbox it started (contracts and services it finds through the façade)
    company_ids: dict[str, int]


@dataclass(frozen=True)
class DemoSubscription:
    id: str
    customer_id: str
    offer_id: str
    offer_name: str
    kind: str
    quantity: int
    term: str
    list_price: str
    #: the sandbox service it maps to (a name fragment), or None to leave it unmapped
    service: str | None
    promotion: dict[str, str] | None = None


#: Microsoft tenant ids of the demo customers that buy through Partner Center (the demo's
#: Partner Center sandbox holds them; polling and webhooks find the customers by them)
TENANT_IDS = {
    "contoso": "2f4a6c8e-0b1d-4e3f-8a5c-7d9e1f3a5b7c",
    "fabrikam": "6b8d0f2a-4c6e-4a1b-9d3f-5e7a9c1b3d5f",
}

RESELLERS = [
    {"id": "northwind", "name": "Northwind IT Services", "promotion_setting": "pass_through"},
    {"id": "adatum", "name": "Adatum Cloud Partners", "promotion_setting": "keep"},
]
#: id, reseller, name, Microsoft margin, sandbox company (None: not in Autotask)
CUSTOMERS = [
    ("contoso", "northwind", "Contoso Ltd", "20", "Contoso Ltd"),
    ("fabrikam", "northwind", "Fabrikam Inc", "15", "Fabrikam Inc"),
    ("litware", "adatum", "Litware Inc", "25", None),
]
SUBSCRIPTIONS = [
    DemoSubscription(
        "contoso-m365-standard",
        "contoso",
        "CFQ7TTC0LDPB:0001:P1Y",
        "Microsoft 365 Business Standard",
        "nce",
        10,
        "P1Y",
        "12.50",
        "Business Standard",
    ),
    DemoSubscription(
        "contoso-m365-premium",
        "contoso",
        "CFQ7TTC0LCHC:0002:P1Y",
        "Microsoft 365 Business Premium",
        "nce",
        5,
        "P1Y",
        "22.00",
        "Business Premium",
        promotion={"id": "NCE-PROMO-10", "discount_percent": "10"},
    ),
    DemoSubscription(
        "contoso-e3-legacy",
        "contoso",
        "796B6B5F-613C-4E24-A17C-EBA730D49C02",
        "Microsoft 365 E3 (legacy)",
        "legacy",
        25,
        "P1M",
        "32.00",
        "E3",
    ),
    DemoSubscription(
        "fabrikam-m365-basic",
        "fabrikam",
        "CFQ7TTC0LH18:0001:P1M",
        "Microsoft 365 Business Basic",
        "nce",
        8,
        "P1M",
        "6.00",
        "Business Basic",
    ),
    DemoSubscription(
        "fabrikam-azure", "fabrikam", "DZH318Z0BPS6:0001", "Azure plan", "azure_plan", 1, "P1M", "0.00", None
    ),
    DemoSubscription(
        "litware-m365-premium",
        "litware",
        "CFQ7TTC0LCHC:0002:P1Y",
        "Microsoft 365 Business Premium",
        "nce",
        3,
        "P1Y",
        "22.00",
        None,
    ),
]


def is_empty(service: ContractSync) -> bool:
    return not service.list_resellers(ADMIN)


def _term_dates(today: date, term: str) -> tuple[date, date]:
    """A term that started a while ago (so it is mid-term today) and contains today."""
    months = {"P1M": 1, "P1Y": 12, "P3Y": 36}[term]
    start = (
        today.replace(day=1) - relativedelta(months=min(months - 1, 3))
        if months > 1
        else today.replace(day=1)
    )
    return start, start + relativedelta(months=months) - timedelta(days=1)


def create_sample_data(
    service: ContractSync,
    sandbox: SandboxAccess,
    today: date,
    settle_seconds: int = 5,
    mapper: ContractSync | None = None,
) -> dict[str, Any]:
    """Everything the demo shows, created in dependency order; answers what was created.

    `mapper` (the same service on a clock a day earlier) maps the subscriptions: mapped before
    today, their contract services hold yesterday's adjustment, so the walkthrough's first change
    lands today instead of being pushed to tomorrow by the one-adjustment-per-day rule."""
    mapper = mapper or service
    for reseller in RESELLERS:
        service.create_reseller(ADMIN, reseller)
    service.create_connection(
        ADMIN,
        {
            "id": DEMO_CONNECTION_ID,
            "reseller_id": "northwind",
            "kind": "autotask",
            "username": sandbox.username,
            "secret": sandbox.secret,
            "integration_code": sandbox.integration_code,
            "base_url": sandbox.base_url,
            "timezone": "UTC",
            # Short, so a change shows up in the sandbox seconds later (the default is 600).
            "settle_seconds": settle_seconds,
        },
    )
    services = service.search_services(ADMIN, DEMO_CONNECTION_ID)
    company_contract: dict[str, dict[str, Any]] = {}
    for customer_id, reseller_id, name, margin, company in CUSTOMERS:
        service.create_customer(
            ADMIN,
            {
                "id": customer_id,
                "reseller_id": reseller_id,
                "name": name,
                "provider_margins": {"microsoft": margin},
                "tenant_id": TENANT_IDS.get(customer_id),
            },
        )
        company_id = sandbox.company_ids.get(company) if company else None
        if company_id is None:
            continue
        service.map_customer(
            ADMIN, {"customer_id": customer_id, "connection_id": DEMO_CONNECTION_ID, "company_id": company_id}
        )
        contracts = service.search_contracts(ADMIN, DEMO_CONNECTION_ID, company_id)
        if contracts:
            company_contract[customer_id] = contracts[0]
    mapped: list[str] = []
    for sub in SUBSCRIPTIONS:
        start, end = _term_dates(today, sub.term)
        body: dict[str, Any] = {
            "id": sub.id,
            "customer_id": sub.customer_id,
            "offer_id": sub.offer_id,
            "offer_name": sub.offer_name,
            "kind": sub.kind,
            "quantity": sub.quantity,
            "term": sub.term,
            "billing_cycle": "monthly",
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "auto_renew": True,
        }
        body["list_price"] = sub.list_price
        if sub.promotion is not None:
            body["promotion"] = sub.promotion
        service.create_subscription(ADMIN, body)
        contract = company_contract.get(sub.customer_id)
        target = next((s for s in services if sub.service and sub.service in str(s["name"])), None)
        if contract is not None and target is not None:
            mapper.map_subscription(
                ADMIN,
                {
                    "subscription_id": sub.id,
                    "connection_id": DEMO_CONNECTION_ID,
                    "contract_id": contract["id"],
                    "service_id": target["id"],
                },
            )
            mapped.append(sub.id)
    return {"subscriptions": [s.id for s in SUBSCRIPTIONS], "mapped": mapped}
