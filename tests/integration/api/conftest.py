"""Fixtures for the HTTP layer over the real façade on the in-memory unit of work
(`tests/memory_service.py`)."""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import structlog
from cryptography.fernet import Fernet

from contractsync.adapters.clock import ManualClock
from contractsync.adapters.logging import configure_logging
from contractsync.adapters.metrics import Metrics
from contractsync.api.app import create_api
from contractsync.bootstrap import build_app_service, build_web_app
from contractsync.service.facade import ContractSync
from contractsync.settings import Settings
from tests.memory_service import ADMIN_TOKEN, memory_service

with warnings.catch_warnings():
    # Starlette asks for httpx2 instead of httpx; the TestClient works the same with either, and
    # the project pins httpx, so the deprecation is not ours to act on here.
    warnings.simplefilter("ignore", UserWarning)
    from starlette.testclient import TestClient

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
JSON = dict[str, Any]

SUBSCRIPTION: dict[str, Any] = {
    "id": "s1",
    "customer_id": "c1",
    "offer_id": "CFQ7TTC0LF8S:0001",
    "offer_name": "Microsoft 365 E5",
    "kind": "nce",
    "quantity": 10,
    "term": "P1Y",
    "billing_cycle": "monthly",
    "start_date": "2024-01-15",
    "end_date": "2025-01-14",
    "auto_renew": True,
    "list_price": "10.00",
}


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """JSON logging into a buffer for one test; the previous configuration comes back after."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging(json=True, level="INFO", stream=stream)
    try:
        yield stream
    finally:
        root.handlers, level = saved
        root.setLevel(level)
        structlog.reset_defaults()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def service() -> ContractSync:
    """`ContractSync` over a fresh in-memory unit of work, no Autotask; `ADMIN` is its provider."""
    return memory_service()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture(scope="session")
def _shared_client() -> Iterator[TestClient]:
    # One app for the whole session: FastAPI prepares its routing on the first request (~0.3 s),
    # which per test would dominate the run. Each test swaps in its own service below.
    with TestClient(create_api(memory_service())) as client:
        yield client


@pytest.fixture
def client(_shared_client: TestClient, service: ContractSync, metrics: Metrics) -> TestClient:
    state = _shared_client.app.state  # type: ignore[attr-defined]
    state.service, state.health, state.metrics = service, service.health, metrics
    state.partner_center = None  # built again for this test's service
    return _shared_client


@pytest.fixture
def seeded(service: ContractSync, client: TestClient) -> dict[str, dict[str, str]]:
    """Two resellers with a connection, a customer and a subscription each (not mapped: these
    tests reach no Autotask); answers each reseller's auth headers."""
    headers = {}
    for n in ("1", "2"):
        r = f"r{n}"
        assert (
            client.post(
                "/v1/resellers", json={"id": r, "name": f"R{n}", "promotion_setting": "keep"}, headers=ADMIN
            ).status_code
            == 201
        )
        headers[r] = bearer(service.create_token(r))
        connection = {
            "id": f"at{n}",
            "reseller_id": r,
            "kind": "autotask",
            "username": "u",
            "secret": "s3cr3t",
            "integration_code": "IC",
            "timezone": "UTC",
        }
        assert client.post("/v1/connections", json=connection, headers=headers[r]).status_code == 201
        customer = {"id": f"c{n}", "reseller_id": r, "name": "Contoso"}
        assert client.post("/v1/customers", json=customer, headers=headers[r]).status_code == 201
        subscription = {**SUBSCRIPTION, "id": f"s{n}", "customer_id": f"c{n}"}
        assert client.post("/v1/subscriptions", json=subscription, headers=headers[r]).status_code == 201
    return headers


@contextmanager
def real_client(
    database_url: str, data_dir: Path, admin_token: str, now: datetime, posts: list[tuple[str, JSON]]
) -> Iterator[tuple[TestClient, Any]]:
    """`contractsync serve`'s app on the real service (clock fixed at `now`, no Autotask reachable),
    after the admin posted `posts` (each answered 201); yields the client and the service."""
    settings = Settings(
        database_url=database_url,
        admin_token=admin_token,
        secret_key=Fernet.generate_key().decode(),
        data_dir=data_dir,
    )
    fake = object()  # no test using this may reach Autotask
    service = build_app_service(
        settings, clock=ManualClock(now), connector_factory=lambda row: fake, upgrade=False
    )
    with TestClient(build_web_app(service, settings)) as client:
        for path, body in posts:
            response = client.post(path, json=body, headers=bearer(admin_token))
            assert response.status_code == 201, response.text
        yield client, service
