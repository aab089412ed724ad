"""X4 in bulk for polled customers (issue 14, item 5): against the Autotask sandbox over HTTP."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from contractsync.adapters.autotask.client import AutotaskClient, Credentials
from contractsync.adapters.autotask.connector import AutotaskConnector
from contractsync.adapters.autotask.outbound import OutboundPolicy
from contractsync.partner_center_sandbox.state import OFFERS
from contractsync.sandbox.server import SandboxServer
from contractsync.service.actor import ADMIN
from contractsync.service.partner_center_suggest import _customers
from tests.integration.partner_center.live_world import LiveWorld, live

__all__ = ["live"]

SEED = {
    "companies": [
        {"id": 501, "companyName": "Customer 00000 Ltd"},
        {"id": 502, "companyName": "  customer 00001 LTD "},
        {"id": 503, "companyName": "Customer 00002 Ltd"},
        {"id": 504, "companyName": "Customer 00002 Ltd"},
    ],
    "services": [
        {
            "id": 71,
            "name": "Microsoft 365 Business Basic",
            "unitCost": "5",
            "unitPrice": "6",
            "periodType": 1,
        },
        {
            "id": 72,
            "name": "Microsoft 365 Business Standard",
            "unitCost": "11",
            "unitPrice": "13",
            "periodType": 1,
        },
    ],
    "contracts": [
        {
            "id": 801,
            "companyID": 501,
            "contractName": "Customer 0 CSP",
            "contractType": 7,
            "startDate": "2024-01-01T00:00:00",
            "endDate": "2026-12-31T00:00:00",
        },
    ],
    "contractServices": [{"id": 9001, "contractID": 801, "serviceID": 71, "unitPrice": "6", "unitCost": "5"}],
}


def connect(live: LiveWorld, autotask: SandboxServer, seed: dict[str, Any]) -> None:
    """Seed the Autotask sandbox and add connection at2 for reseller r1, reaching it over HTTP."""
    httpx.post(f"{autotask.base_url}/sandbox/seed", json=seed).raise_for_status()
    credentials = Credentials(autotask.username, autotask.secret, autotask.integration_code)
    outbound = OutboundPolicy.allowing(autotask.base_url)
    live.connectors["at2"] = AutotaskConnector(
        AutotaskClient(credentials, base_url=autotask.api_url, outbound=outbound)
    )
    live.service.create_connection(
        ADMIN,
        {"id": "at2", "reseller_id": "r1", "kind": "autotask", "username": autotask.username,
         "secret": autotask.secret, "integration_code": autotask.integration_code,
         # The stored URL is never used: the test's connector above reaches the sandbox.
         "base_url": "https://webservices99.autotask.net", "timezone": "UTC"},
    )  # fmt: skip


def test_polled_customers_and_their_subscriptions_get_suggestions_in_bulk(live: LiveWorld) -> None:
    live.poll()
    with SandboxServer() as autotask:
        connect(live, autotask, SEED)
        first = live.center.suggestions(ADMIN, "pc1", "at2")
        by_customer = {s["customer_name"]: (s["company_id"], s["matched_by"]) for s in first["customers"]}
        assert by_customer == {"Customer 00000 Ltd": (501, "name"), "Customer 00001 Ltd": (502, "name")}
        (skipped,) = first["customers_skipped"]
        assert "2 companies match by name" in skipped["reason"]
        assert first["subscriptions"] == []  # no customer is mapped yet
        accepted = live.center.accept_suggestions(
            ADMIN,
            {"connection_id": "at2",
             "customers": [{"customer_id": s["customer_id"], "company_id": s["company_id"]} for s in first["customers"]]},
        )  # fmt: skip
        assert [r["status"] for r in accepted["customers"]] == ["mapped", "mapped"]
        second = live.center.suggestions(ADMIN, "pc1", "at2")
        assert second["customers"] == []  # a mapping is never suggested again
        tenant, _ = live.customer_ids(0)
        basic, standard = list(live.pc.state.subscriptions[tenant])
        chosen = {s["subscription_id"]: s for s in second["subscriptions"]}
        assert (chosen[basic]["contract_service_id"], chosen[basic]["service_id"]) == (9001, 71)
        assert (chosen[standard]["contract_service_id"], chosen[standard]["service_id"]) == (None, 72)
        assert {s["subscription_id"] for s in second["subscriptions_skipped"]} == set(
            live.pc.state.subscriptions[live.customer_ids(1)[0]]
        )
        mapped = live.center.accept_suggestions(
            ADMIN, {"connection_id": "at2", "subscriptions": [chosen[basic]]}
        )
        assert mapped["subscriptions"][0]["status"] == "mapped"
        assert live.service.get_subscription(ADMIN, basic)["mapping"]["contract_service_id"] == 9001


def test_a_tenant_id_in_a_company_field_wins_over_the_name() -> None:
    rows: list[dict[str, Any]] = [
        {"id": 1, "companyName": "Contoso", "userDefinedFields": [{"name": "Tenant", "value": "T-1"}]},
        {"id": 2, "companyName": "Contoso"},
        {"id": 3, "companyName": "Fabrikam", "userDefinedFields": [{"name": "Tenant", "value": "t-2"}]},
        {"id": 4, "companyName": "Other", "userDefinedFields": [{"name": "Tenant", "value": "t-2"}]},
    ]
    connector = SimpleNamespace(client=SimpleNamespace(query=lambda entity, filters: rows))
    customers = [
        SimpleNamespace(id="a", tenant_id="t-1", name="Contoso"),
        SimpleNamespace(id="b", tenant_id="t-2", name="Fabrikam"),
        SimpleNamespace(id="c", tenant_id="t-3", name="Nobody"),
    ]
    found = _customers(connector, customers, companies_taken={2})
    assert [(s["customer_id"], s["company_id"], s["matched_by"]) for s in found["customers"]] == [
        ("a", 1, "tenant_id")
    ]
    reasons = {s["customer_id"]: s["reason"] for s in found["customers_skipped"]}
    assert reasons == {"b": "2 companies match by tenant_id", "c": "no company matches by tenant id or name"}


def bulk_seed(customers: int, offers: int) -> dict[str, list[dict[str, Any]]]:
    """An Autotask database where every polled customer has a company of its name, one contract
    running, and a contract service for each of the offers it bought."""
    names = [name for _, name in OFFERS[:offers]]
    return {
        "companies": [{"id": 5000 + c, "companyName": f"Customer {c:05d} Ltd"} for c in range(customers)],
        "services": [
            {"id": 70 + i, "name": name, "unitCost": "5", "unitPrice": "6", "periodType": 1}
            for i, name in enumerate(names)
        ],
        "contracts": [
            {
                "id": 8000 + c,
                "companyID": 5000 + c,
                "contractName": f"CSP {c}",
                "contractType": 7,
                "startDate": "2024-01-01T00:00:00",
                "endDate": "2026-12-31T00:00:00",
            }
            for c in range(customers)
        ],
        "contractServices": [
            {
                "id": 100_000 + c * 10 + i,
                "contractID": 8000 + c,
                "serviceID": 70 + i,
                "unitPrice": "6",
                "unitCost": "5",
            }
            for c in range(customers)
            for i in range(offers)
        ],
    }


@pytest.mark.parametrize("live", ["200x5"], indirect=True)
def test_a_first_poll_of_200_customers_creates_them_and_suggests_every_mapping(live: LiveWorld) -> None:
    """Issue 14's "first poll of 200 customers x 5 subscriptions creates and suggests": the first
    connection of a tenant is a review of suggestions, not hours of clicking."""
    progress = live.poll()["poll"]["progress"]
    assert (progress["customers_created"], progress["subscriptions_created"]) == (200, 1000)
    with SandboxServer() as autotask:
        connect(live, autotask, bulk_seed(200, 5))
        first = live.center.suggestions(ADMIN, "pc1", "at2")
        assert len(first["customers"]) == 200 and first["customers_skipped"] == []
        assert {s["matched_by"] for s in first["customers"]} == {"name"}
        chosen = [
            {"customer_id": s["customer_id"], "company_id": s["company_id"]} for s in first["customers"]
        ]
        accepted = live.center.accept_suggestions(ADMIN, {"connection_id": "at2", "customers": chosen})
        assert {r["status"] for r in accepted["customers"]} == {"mapped"}
        second = live.center.suggestions(ADMIN, "pc1", "at2")
        assert second["customers"] == [] and second["subscriptions_skipped"] == []
        assert len(second["subscriptions"]) == 1000
        tenant, subscription_id = live.customer_ids(7)
        (seventh,) = [s for s in second["subscriptions"] if s["subscription_id"] == subscription_id]
        offer = live.pc.state.subscription(tenant, subscription_id)["offerName"]
        assert seventh["contract_id"] == 8007 and seventh["service_id"] == 70 + [n for _, n in OFFERS].index(
            offer
        )
        assert seventh["contract_service_id"] == 100_070 + seventh["service_id"] - 70


def test_a_service_with_the_offers_sku_is_suggested_whatever_its_name(live: LiveWorld) -> None:
    """The same matcher as the console's suggestions: the SKU first, the name only after."""
    basic_sku = ":".join(OFFERS[0][0].split(":")[:2])  # product:sku, as Autotask's `sku` holds it
    seed = {
        **SEED,
        "services": [
            {**SEED["services"][0], "name": "M365 Basic (CSP, monthly)", "sku": basic_sku},
            SEED["services"][1],
        ],
    }
    live.poll()
    with SandboxServer() as autotask:
        connect(live, autotask, seed)
        first = live.center.suggestions(ADMIN, "pc1", "at2")
        live.center.accept_suggestions(ADMIN, {
            "connection_id": "at2",
            "customers": [{"customer_id": s["customer_id"], "company_id": s["company_id"]} for s in first["customers"]],
        })  # fmt: skip
        tenant, _ = live.customer_ids(0)
        basic, _standard = list(live.pc.state.subscriptions[tenant])
        chosen = {
            s["subscription_id"]: s for s in live.center.suggestions(ADMIN, "pc1", "at2")["subscriptions"]
        }
        assert (chosen[basic]["contract_service_id"], chosen[basic]["matched_by"]) == (9001, "SKU")
