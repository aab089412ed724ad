"""The connector's calls and what it makes of Autotask's answers (MockTransport)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx
import pytest

from contractsync.adapters.autotask import Company, Contract, ContractService, Service, Threshold
from contractsync.ports.psa import ErrorKind, PsaConnector, PsaError, ServiceUnitsPeriod

from .mock_autotask import BASE_URL, Harness, answer, body_of


def _query_answer(*items: dict[str, object]) -> httpx.Response:
    return answer(200, {"items": list(items), "pageDetails": {"count": len(items), "nextPageUrl": None}})


def test_it_is_a_psa_connector() -> None:
    connector: PsaConnector = Harness(lambda request: answer(200, {})).connector
    assert connector is not None


def test_service_units_asks_for_overlapping_periods_and_reads_the_posted_flag() -> None:
    rows = [
        {"id": 2, "contractID": 1, "contractServiceID": 7, "serviceID": 3, "startDate": "2026-02-01T00:00:00",
         "endDate": "2026-02-28T00:00:00", "units": 5, "price": 10.5, "cost": 8, "approveAndPostDate": None},
        {"id": 1, "contractID": 1, "contractServiceID": 7, "serviceID": 3, "startDate": "2026-01-01T00:00:00",
         "endDate": "2026-01-31T00:00:00", "units": 4, "price": 10.5, "cost": 8,
         "approveAndPostDate": "2026-02-02T10:11:12.000Z"},
    ]  # fmt: skip
    harness = Harness(lambda request: _query_answer(*rows))
    periods = harness.connector.service_units(7, date(2026, 1, 15), date(2026, 2, 15))
    assert periods == [
        ServiceUnitsPeriod(7, date(2026, 1, 1), date(2026, 1, 31), 4, Decimal("10.5"), Decimal(8), True),
        ServiceUnitsPeriod(7, date(2026, 2, 1), date(2026, 2, 28), 5, Decimal("10.5"), Decimal(8), False),
    ]
    request = harness.requests[0]
    assert request.url == f"{BASE_URL}/ContractServiceUnits/query"
    assert body_of(request)["filter"] == [
        {"op": "eq", "field": "contractServiceID", "value": 7},
        {"op": "lte", "field": "startDate", "value": "2026-02-15T00:00:00"},
        {"op": "gte", "field": "endDate", "value": "2026-01-15T00:00:00"},
    ]


def test_lookups() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/Companies/query"):
            return _query_answer({"id": 1, "companyName": "Contoso", "companyType": 1, "isActive": True})
        if path.endswith("/Contracts/query"):
            return _query_answer(
                {"id": 100, "companyID": 1, "contractName": "CSP", "contractType": 7, "contractPeriodType": 1,
                 "startDate": "2026-01-01T00:00:00", "endDate": "2026-12-31T00:00:00", "status": 1}
            )  # fmt: skip
        if path.endswith("/Services/query"):
            return _query_answer(
                {"id": 3, "name": "M365 BP", "periodType": 1, "unitPrice": 20, "unitCost": 16.5}
            )
        if path.endswith("/ContractServices/query"):
            return _query_answer(
                {"id": 7, "contractID": 100, "serviceID": 3, "unitPrice": 20.0, "unitCost": None}
            )
        if path.endswith("/ThresholdInformation"):
            return answer(
                200,
                {
                    "externalRequestThreshold": 10000,
                    "requestThresholdTimeframe": 60,
                    "currentTimeframeRequestCount": 8000,
                },
            )
        raise AssertionError(path)

    harness = Harness(handler)
    c = harness.connector
    assert c.find_companies(name="Contoso") == [Company(1, "Contoso", 1, True)]
    assert body_of(harness.requests[-1])["filter"] == [
        {"op": "eq", "field": "companyName", "value": "Contoso"},
        {"op": "eq", "field": "companyType", "value": 1},
    ]
    c.find_companies(ids=[3, 1, 3])
    assert body_of(harness.requests[-1])["filter"][0] == {"op": "in", "field": "id", "value": [1, 3]}
    assert c.find_companies(ids=[]) == []
    assert c.find_contracts(1) == [Contract(100, 1, "CSP", 7, 1, date(2026, 1, 1), date(2026, 12, 31), 1)]
    assert c.find_services() == [Service(3, "M365 BP", 1, Decimal(20), Decimal("16.5"), None)]
    assert body_of(harness.requests[-1])["filter"] == [{"op": "gte", "field": "id", "value": 0}]
    assert c.find_contract_services(100) == [ContractService(7, 100, 3, Decimal("20.0"), None)]
    threshold = c.threshold_information()
    assert threshold == Threshold(10000, 60, 8000)
    assert threshold.fraction_used == 0.8


def test_get_contract_by_id_and_unknown_id() -> None:
    contract = {
        **{"id": 5, "companyID": 1, "contractName": "X", "contractType": 7, "contractPeriodType": None},
        **{"startDate": "2026-01-01T00:00:00", "endDate": "2026-12-31T00:00:00", "status": 1},
    }
    answers = iter([answer(200, {"item": contract}), answer(200, {"item": None})])
    harness = Harness(lambda request: next(answers))
    assert harness.connector.get_contract(5).period_type is None
    with pytest.raises(PsaError) as raised:
        harness.connector.get_contract(6)
    assert raised.value.kind is ErrorKind.NOT_FOUND


def test_create_contract_service_posts_to_the_contracts_services_child() -> None:
    harness = Harness(lambda request: answer(200, {"itemId": 41}))
    new_id = harness.connector.create_contract_service(100, 3, Decimal("19.99"), Decimal("15.5"))
    assert new_id == 41
    request = harness.requests[0]
    assert request.url == f"{BASE_URL}/Contracts/100/Services"
    assert request.content == b'{"contractID":100,"serviceID":3,"unitPrice":19.99,"unitCost":15.5}'


def test_an_unreadable_row_is_an_unexpected_answer() -> None:
    harness = Harness(lambda request: _query_answer({"id": 1, "contractID": 2}))
    with pytest.raises(PsaError) as raised:
        harness.connector.find_contract_services(2)
    assert raised.value.kind is ErrorKind.SERVER_ERROR
