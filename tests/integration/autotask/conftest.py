"""The Autotask sandbox over real HTTP on loopback, and connectors that talk to it through the
vendor-document checker (every request and answer is validated; a violation fails the test)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from contractsync.adapters.autotask import (
    AutotaskClient,
    AutotaskConnector,
    ClientSettings,
    Credentials,
    ExchangeRecord,
    OutboundPolicy,
    RollingWindowBudget,
)
from contractsync.adapters.clock import SystemClock, SystemSleeper
from contractsync.sandbox.server import SandboxServer
from contractsync.sandbox.state import SandboxConfig
from tests.contract.autotask_contract import ContractChecker, ValidatingTransport

#: Distinctive credentials, so a leak is easy to find in any text.
SANDBOX_CONFIG = SandboxConfig(
    username="integration-user@msp.example", secret="S3cret-Must-Not-Leak-42", integration_code="CODE-XYZ-987"
)
SECRETS = (SANDBOX_CONFIG.secret, SANDBOX_CONFIG.integration_code, SANDBOX_CONFIG.username)

#: Short backoffs: the integration tests sleep for real, and need not sleep long.
FAST = ClientSettings(thread_threshold_backoff_seconds=0.02, read_retry_backoff_seconds=0.02)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(replace(SANDBOX_CONFIG)) as server:
        yield server


@pytest.fixture
def admin(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.base_url, timeout=30) as client:
        client.post("/sandbox/reset").raise_for_status()
        yield client
        client.delete("/sandbox/faults").raise_for_status()


@pytest.fixture
def checker() -> Iterator[ContractChecker]:
    checker = ContractChecker()
    yield checker
    assert checker.violations == [], "requests or answers that do not match the vendor document"


Connect = Callable[..., AutotaskConnector]


@pytest.fixture
def connect(sandbox: SandboxServer, checker: ContractChecker) -> Iterator[Connect]:
    """connect(settings=..., secret=..., on_exchange=..., budget=..., sleeper=...) -> connector."""
    clients: list[AutotaskClient] = []

    def make(
        settings: ClientSettings = FAST,
        secret: str | None = None,
        on_exchange: Callable[[ExchangeRecord], None] | None = None,
        **kwargs: Any,
    ) -> AutotaskConnector:
        credentials = Credentials(sandbox.username, secret or sandbox.secret, sandbox.integration_code)
        sleeper = kwargs.pop("sleeper", SystemSleeper())
        client = AutotaskClient(
            credentials,
            zone_root=sandbox.base_url,  # exercises zone discovery on every connector
            outbound=OutboundPolicy.allowing(sandbox.base_url),
            transport=ValidatingTransport(httpx.HTTPTransport(), checker),
            settings=settings,
            sleeper=sleeper,
            budget=kwargs.pop("budget", RollingWindowBudget(SystemClock(), sleeper)),
            on_exchange=on_exchange,
            **kwargs,
        )
        clients.append(client)
        return AutotaskConnector(client)

    yield make
    for client in clients:
        client.close()


CONTRACT_ID = 100
SERVICE_ID = 3
CONTRACT_SERVICE_ID = 7


def seed_basic(admin: httpx.Client, **extra: Any) -> None:
    body: dict[str, Any] = {
        "companies": [{"id": 1, "companyName": "Contoso Ltd", "companyType": 1}],
        "services": [
            {"id": SERVICE_ID, "name": "Microsoft 365 Business Premium", "unitPrice": 26.4, "unitCost": 22},
            {"id": 4, "name": "Azure plan", "unitPrice": 0, "unitCost": 0},
        ],
        "contracts": [
            {
                "id": CONTRACT_ID,
                "companyID": 1,
                "contractName": "Contoso - Microsoft CSP",
                "contractType": 7,
                "contractPeriodType": 1,
                "startDate": "2026-01-01T00:00:00",
                "endDate": "2026-12-31T00:00:00",
            }
        ],
        "contractServices": [
            {
                "id": CONTRACT_SERVICE_ID,
                "contractID": CONTRACT_ID,
                "serviceID": SERVICE_ID,
                "unitPrice": 26.4,
                "unitCost": 22,
            }
        ],
    }
    for key, items in extra.items():
        body[key] = body.get(key, []) + items
    admin.post("/sandbox/seed", json=body).raise_for_status()


def add_fault(admin: httpx.Client, endpoint: str, kind: str, **options: Any) -> None:
    admin.post("/sandbox/faults", json={"endpoint": endpoint, "kind": kind, **options}).raise_for_status()


def stats(admin: httpx.Client) -> dict[str, Any]:
    payload: dict[str, Any] = admin.get("/sandbox/stats").json()
    return payload
