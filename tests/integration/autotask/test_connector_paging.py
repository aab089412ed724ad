"""Every query the connector makes, over more than 500 matching rows, by POST and by GET.

Autotask answers at most 500 rows a page; the next page of a POST query is fetched by POST with
the same body (a GET there is a 405), of a GET query by GET. Every request passes the
vendor-document checker, and every page is one request against the connector's budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

import httpx
import pytest

from contractsync.adapters.autotask import AutotaskConnector, ExchangeRecord
from contractsync.adapters.autotask.filters import eq

from .conftest import FAST, Connect, stats

ROWS = 521  # one full page of 500 and a second of 21
COMPANY, CONTRACT, LONG_CONTRACT, FIRST_SERVICE = 1, 100, 101, 1000
LONG_SERVICE = 2000
#: A monthly contract of 46 years: 552 billing periods, one ContractServiceUnits row each.
LONG_START, LONG_END, LONG_PERIODS = date(1980, 1, 1), date(2025, 12, 31), 552


def _seed(admin: httpx.Client) -> None:
    contract = {"contractType": 7, "contractPeriodType": 1, "companyID": COMPANY}
    body: dict[str, Any] = {
        "companies": [{"id": COMPANY, "companyName": "Contoso Ltd", "companyType": 1}]
        + [{"companyName": f"Customer {n:03}", "companyType": 1} for n in range(ROWS - 1)]
        # Not customers: find_companies leaves them out.
        + [{"companyName": f"Vendor {n}", "companyType": 7} for n in range(3)],
        "services": [
            {"id": FIRST_SERVICE + n, "name": f"Service {n:03}", "unitPrice": 1} for n in range(ROWS)
        ]
        + [{"id": LONG_SERVICE, "name": "Long service", "unitPrice": 2}],
        "contracts": [
            contract
            | {"id": CONTRACT, "contractName": "CSP 0", "startDate": "2026-01-01", "endDate": "2026-12-31"},
            contract
            | {
                "id": LONG_CONTRACT,
                "contractName": "CSP long",
                "startDate": LONG_START.isoformat(),
                "endDate": LONG_END.isoformat(),
            },
        ]
        + [
            contract | {"contractName": f"CSP {n}", "startDate": "2026-01-01", "endDate": "2026-12-31"}
            for n in range(1, ROWS - 1)
        ],
        "contractServices": [
            {"contractID": CONTRACT, "serviceID": FIRST_SERVICE + n, "unitPrice": 1, "unitCost": 0}
            for n in range(ROWS)
        ]
        + [{"contractID": LONG_CONTRACT, "serviceID": LONG_SERVICE, "unitPrice": 2, "unitCost": 1}],
    }
    admin.post("/sandbox/seed", json=body).raise_for_status()


#: (connector, the long contract's one contract service) -> rows
Query = Callable[[AutotaskConnector, int], list[Any]]
QUERIES: dict[str, tuple[str, Query, int]] = {
    "contracts": ("Contracts", lambda c, _: c.find_contracts(COMPANY), ROWS),
    "contract services": ("ContractServices", lambda c, _: c.find_contract_services(CONTRACT), ROWS),
    "services": ("Services", lambda c, _: c.find_services(), ROWS + 1),
    "companies": ("Companies", lambda c, _: c.find_companies(), ROWS),
    "contract service units": (
        "ContractServiceUnits",
        lambda c, long_service: c.service_units(long_service, LONG_START, LONG_END),
        LONG_PERIODS,
    ),
    # Reconciliation's read: the units of many contract services in one `in` query.
    "units of many services": (
        "ContractServiceUnits",
        lambda c, long_service: c.service_units_of([long_service]).periods,
        LONG_PERIODS,
    ),
}


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize("path", list(QUERIES))
def test_every_query_reads_every_page(admin: httpx.Client, connect: Connect, path: str, method: str) -> None:
    _seed(admin)
    entity, query, expected = QUERIES[path]
    exchanges: list[ExchangeRecord] = []
    connector = connect(settings=replace(FAST, query_method=method), on_exchange=exchanges.append)
    [long_service] = connector.find_contract_services(LONG_CONTRACT)  # (and zone discovery)
    exchanges.clear()
    used_before = connector.client.budget_usage().used
    requests_before = stats(admin)["requests"].get(entity, 0)

    rows = query(connector, long_service.id)

    ids = [getattr(row, "id", None) or (row.start_date, row.end_date) for row in rows]
    assert len(rows) == expected and len(set(ids)) == expected
    _two_pages_by(method, [e for e in exchanges if f"/{entity}/query" in e.url])
    # Every page is a request Autotask counts, and one the connector's budget counted.
    assert stats(admin)["requests"][entity] - requests_before == 2
    assert connector.client.budget_usage().used - used_before == 2


def _two_pages_by(method: str, pages: list[ExchangeRecord]) -> None:
    assert len(pages) == 2  # 500 rows, then the rest
    assert [e.method for e in pages] == [method, method]
    assert "/query/next?paging=" in pages[1].url
    if method == "POST":
        assert pages[0].request_body == pages[1].request_body and '"MaxRecords":500' in (
            pages[0].request_body or ""
        )
    else:
        assert pages[0].request_body is None and "search=" in pages[0].url
    assert all(e.status_code == 200 for e in pages)


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_the_posted_periods_read_pages_over_more_than_500_posted_rows(
    admin: httpx.Client, connect: Connect, method: str
) -> None:
    """The read before sending a back-dated adjustment (one query per contract): 552 posted
    ContractServiceUnits rows of the long contract, on two pages."""
    _seed(admin)
    admin.post(
        "/sandbox/post-periods", json={"through": LONG_END.isoformat(), "contractID": LONG_CONTRACT}
    ).raise_for_status()
    exchanges: list[ExchangeRecord] = []
    connector = connect(settings=replace(FAST, query_method=method), on_exchange=exchanges.append)
    requests_before = stats(admin)["requests"].get("ContractServiceUnits", 0)

    assert connector.posted_through(LONG_CONTRACT, LONG_START) == LONG_END

    _two_pages_by(method, [e for e in exchanges if "/ContractServiceUnits/query" in e.url])
    assert stats(admin)["requests"]["ContractServiceUnits"] - requests_before == 2


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_count_over_more_than_500_rows(admin: httpx.Client, connect: Connect, method: str) -> None:
    _seed(admin)
    client = connect(settings=replace(FAST, query_method=method)).client
    assert client.count("Contracts", [eq("companyID", COMPANY)]) == ROWS
    assert client.count("ContractServices", [eq("contractID", CONTRACT)]) == ROWS


def test_no_conditions_match_nothing_and_nothing_is_sent(admin: httpx.Client, connect: Connect) -> None:
    _seed(admin)
    connector = connect()
    connector.find_contracts(COMPANY)  # zone discovery and one query, so the counts below are exact
    before = stats(admin)["requests"]
    assert connector.client.query("Contracts", []) == []
    assert connector.client.count("Contracts", []) == 0
    assert connector.find_companies(ids=[]) == []
    assert stats(admin)["requests"] == before
