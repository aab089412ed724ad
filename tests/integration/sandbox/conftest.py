"""The sandbox over real HTTP on loopback: one SandboxServer per test, httpx clients."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from contractsync.adapters.clock import ManualClock
from contractsync.sandbox.server import SandboxServer
from contractsync.sandbox.state import SandboxConfig


def decode(response: httpx.Response) -> Any:
    """JSON with exact numbers, as the connector reads it."""
    return json.loads(response.content, parse_float=Decimal)


class Api:
    """A thin Autotask client for the tests: auth headers, Decimal JSON, admin calls."""

    def __init__(self, server: SandboxServer, timeout: float = 30.0) -> None:
        self.server = server
        self.http = httpx.Client(headers=server.headers, timeout=timeout)
        self.admin_http = httpx.Client(base_url=server.base_url, timeout=30.0)

    def close(self) -> None:
        self.http.close()
        self.admin_http.close()

    def url(self, path: str) -> str:
        return f"{self.server.api_url}/{path.lstrip('/')}"

    def post(self, path: str, body: Any) -> httpx.Response:
        return self.http.post(self.url(path), json=body)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(self.url(path), params=params or None)

    def create(self, entity: str, body: dict[str, Any]) -> int:
        response = self.post(entity, body)
        assert response.status_code == 200, response.text
        item_id: int = decode(response)["itemId"]
        return item_id

    def query(self, entity: str, *filters: dict[str, Any], **extra: Any) -> list[dict[str, Any]]:
        """One page of rows (every row when no filter is given: `exist id`, as at the vendor)."""
        conditions = list(filters) or [{"op": "exist", "field": "id"}]
        response = self.post(f"{entity}/query", {"filter": conditions, **extra})
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = decode(response)["items"]
        return items

    def adjust(self, **body: Any) -> httpx.Response:
        return self.post("ContractServiceAdjustments", body)

    def units(self, contract_service_id: int) -> list[dict[str, Any]]:
        return self.query(
            "ContractServiceUnits", {"op": "eq", "field": "contractServiceID", "value": contract_service_id}
        )

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        response = self.admin_http.request(method, f"/sandbox/{path.lstrip('/')}", json=body)
        assert response.status_code == 200, response.text
        return decode(response)

    def wait_in_flight(self, endpoint: str, count: int, timeout: float = 20.0) -> None:
        """Poll until `count` requests to `endpoint` are in flight (no timing assumptions)."""
        deadline = time.monotonic() + timeout
        while self.admin("GET", "stats")["in_flight"].get(endpoint, 0) != count:
            assert time.monotonic() < deadline, f"never saw {count} requests in flight on {endpoint}"
            time.sleep(0.02)


#: The fields a company create needs besides its name (requiredPerLiveFieldInfo).
COMPANY = {"companyType": 1, "ownerResourceID": 29682885, "phone": "+1 555 0100"}
#: Services need a billing code (an allocation code at the vendor); the sandbox takes any id.
BILLING_CODE = 29682801


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2024, 6, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def server(clock: ManualClock) -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(clock=clock)) as running:
        yield running


@pytest.fixture
def api(server: SandboxServer) -> Iterator[Api]:
    client = Api(server)
    yield client
    client.close()


def make_contract(
    api: Api,
    *,
    start: str = "2024-01-01",
    end: str = "2024-12-31",
    period_type: int = 1,
    unit_price: str = "10.00",
    unit_cost: str = "8.00",
) -> dict[str, int]:
    """A customer, a recurring-service contract, a service and the service on the contract."""
    company = api.create("Companies", COMPANY | {"companyName": "Contoso Ltd"})
    contract = api.create(
        "Contracts",
        {
            "companyID": company,
            "contractName": "Contoso CSP",
            "contractType": 7,
            "contractPeriodType": period_type,
            "startDate": f"{start}T00:00:00",
            "endDate": f"{end}T00:00:00",
            "status": 1,
            "timeReportingRequiresStartAndStopTimes": 0,
        },
    )
    service = api.create(
        "Services",
        {
            "name": "Microsoft 365 Business Standard",
            "unitPrice": unit_price,
            "unitCost": unit_cost,
            "periodType": 1,
            "billingCodeID": BILLING_CODE,
        },
    )
    contract_service = api.create(
        f"Contracts/{contract}/Services",
        {"contractID": contract, "serviceID": service, "unitPrice": unit_price, "unitCost": unit_cost},
    )
    return {
        "company": company,
        "contract": contract,
        "service": service,
        "contract_service": contract_service,
    }
