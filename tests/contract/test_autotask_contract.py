"""The connector's requests (and canned vendor-shaped answers) against the vendor document.

The same checker wraps the real HTTP transport in tests/integration/autotask/, where every
answer comes from the sandbox.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from contractsync.adapters.autotask.adjustments import AdjustmentRequest
from tests.integration.autotask.mock_autotask import BASE_URL, CREDENTIALS, Harness, answer

from .autotask_contract import ContractChecker, ContractViolation, ValidatingTransport
from .generate_schemas import SCHEMA_DIR, SWAGGER, generate

needs_reference = pytest.mark.skipif(not SWAGGER.exists(), reason=f"vendor document not at {SWAGGER}")

UNITS_ROW = {
    "id": 1, "contractID": 100, "contractServiceID": 7, "serviceID": 3, "startDate": "2026-01-01T00:00:00",
    "endDate": "2026-01-31T00:00:00", "units": 4, "price": 12.3456, "cost": 10, "approveAndPostDate": None,
}  # fmt: skip
CONTRACT = {
    "id": 100, "companyID": 1, "contractName": "CSP", "contractType": 7, "contractPeriodType": 1,
    "startDate": "2026-01-01T00:00:00", "endDate": "2026-12-31T00:00:00", "status": 1,
}  # fmt: skip


def _page(*items: dict[str, Any]) -> dict[str, Any]:
    details = {"count": len(items), "requestCount": 500, "prevPageUrl": None, "nextPageUrl": None}
    return {"items": list(items), "pageDetails": details}


def _vendor_like(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path.endswith("/ContractServiceUnits/query"):
        return answer(200, _page(UNITS_ROW))
    if path.endswith("/Contracts/100"):
        return answer(200, {"item": CONTRACT})
    if path.endswith("/Contracts/query"):
        return answer(200, _page(CONTRACT))
    if path.endswith("/Companies/query"):
        return answer(200, _page({"id": 1, "companyName": "Contoso", "companyType": 1}))
    if path.endswith("/Services/query"):
        return answer(200, _page({"id": 3, "name": "M365"}))
    if path.endswith("/ContractServices/query"):
        return answer(200, _page({"id": 7, "contractID": 100, "serviceID": 3, "unitPrice": 1, "unitCost": 1}))
    if path.endswith("/ThresholdInformation"):
        return answer(
            200,
            {
                "externalRequestThreshold": 10000,
                "requestThresholdTimeframe": 60,
                "currentTimeframeRequestCount": 1,
            },
        )
    if request.method == "POST":
        return answer(200, {"itemId": 5})
    raise AssertionError(path)


@needs_reference
def test_committed_schemas_match_the_generator() -> None:
    committed = {p.name: p.read_text(encoding="utf-8") for p in SCHEMA_DIR.glob("*.json")}
    assert committed == generate(), "run: .venv/bin/python tests/contract/generate_schemas.py"


@needs_reference
def test_every_connector_call_matches_the_vendor_document() -> None:
    checker = ContractChecker()
    harness = Harness(_vendor_like, wrap=lambda inner: ValidatingTransport(inner, checker))
    c = harness.connector
    c.create_adjustment(AdjustmentRequest(100, 7, date(2026, 2, 1), -1, Decimal("12.3456"), Decimal("10")))
    c.service_units(7, date(2026, 1, 1), date(2026, 1, 31))
    c.get_contract(100)
    c.find_contracts(1)
    c.find_companies(name="Contoso")
    c.find_companies(ids=[1, 2])
    c.find_services("M365")
    c.find_services()
    c.find_contract_services(100)
    c.create_contract_service(100, 3, Decimal("1.5"), Decimal("1"))
    c.threshold_information()
    assert checker.violations == []
    assert checker.checked_requests == checker.checked_responses == len(harness.requests) == 11


def _checker_request(method: str, path: str, body: Any = None) -> httpx.Request:
    headers = {
        "ApiIntegrationCode": CREDENTIALS.integration_code,
        "UserName": CREDENTIALS.username,
        "Secret": CREDENTIALS.secret,
        "Content-Type": "application/json",
    }
    content = None if body is None else json.dumps(body).encode()
    return httpx.Request(method, f"{BASE_URL}/{path}", headers=headers, content=content)


@needs_reference
@pytest.mark.parametrize(
    ("method", "path", "body", "problem"),
    [
        ("POST", "ContractServiceAdjustments", {"contractID": 1, "contractServiceID": 2, "unitChange": 1},
         "effectiveDate"),
        ("POST", "ContractServiceAdjustments",
         {"contractID": 1, "effectiveDate": "2026-01-01T00:00:00", "unitChange": 1}, "not valid under any"),
        ("POST", "ContractServiceAdjustments",
         {"contractID": 1, "contractServiceID": 2, "effectiveDate": "2026-01-01T10:00:00", "unitChange": 1},
         "does not match"),
        ("POST", "ContractServiceAdjustments",
         {"contractID": 1, "contractServiceID": 2, "effectiveDate": "2026-01-01T00:00:00", "unitChange": 1,
          "units": 3}, "units"),
        ("POST", "ContractServices", {"contractID": 1, "serviceID": 2, "unitPrice": 1}, "not in the vendor document"),
        ("DELETE", "ContractServiceAdjustments/5", None, "do not cover"),
        ("POST", "Contracts/query", {"filter": [{"op": "equals", "field": "id", "value": 1}]}, "equals"),
        ("POST", "Contracts/query", {"filter": [], "MaxRecords": 500}, "filter"),
        ("POST", "Contracts/query", {"filter": [{"op": "eq", "field": "id", "value": 1}], "MaxRecords": 501},
         "501"),
    ],
)  # fmt: skip
def test_the_checker_refuses_what_autotask_would_not_take(
    method: str, path: str, body: Any, problem: str
) -> None:
    checker = ContractChecker()
    with pytest.raises(ContractViolation, match=problem):
        checker.check_request(_checker_request(method, path, body))
    assert checker.violations


@needs_reference
def test_the_checker_refuses_answers_the_vendor_would_not_give() -> None:
    checker = ContractChecker()
    route = checker.check_request(_checker_request("POST", "ContractServiceUnits/query", {"filter": [
        {"op": "eq", "field": "contractServiceID", "value": 7}]}))  # fmt: skip
    bad_rows = [
        {**UNITS_ROW, "unitsOnDate": 4},  # a field the vendor does not have
        {**UNITS_ROW, "price": "12.3456"},  # money as text
        {k: v for k, v in UNITS_ROW.items() if k != "units"},  # a field the connector needs
    ]
    for row in bad_rows:
        with pytest.raises(ContractViolation):
            checker.check_response(route, answer(200, _page(row)))
    with pytest.raises(ContractViolation, match="empty body"):
        checker.check_response(route, answer(401, {"errors": ["no"]}))
    with pytest.raises(ContractViolation):
        checker.check_response(route, answer(500, {"message": "no"}))
    checker.check_response(route, answer(500, {"errors": ["Attempt to insert duplicate data"]}))
    checker.check_response(route, answer(401, raw=""))
