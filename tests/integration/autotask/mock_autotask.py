"""Helpers for driving the connector through `httpx.MockTransport` (no network, no sleeping)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from contractsync.adapters.autotask import AutotaskClient, AutotaskConnector, ClientSettings, Credentials
from contractsync.adapters.autotask.limits import RequestBudget, RollingWindowBudget
from contractsync.adapters.autotask.redaction import ExchangeRecord
from contractsync.adapters.clock import ManualClock

BASE_URL = "https://webservices99.autotask.net/atservicesrest/v1.0"
CREDENTIALS = Credentials(
    username="api-user@msp.example", secret="Sup3r-S3cret-Value", integration_code="INTEGRATION-CODE-7"
)
SECRET_VALUES = (CREDENTIALS.secret, CREDENTIALS.integration_code, CREDENTIALS.username)

Handler = Callable[[httpx.Request], httpx.Response]


def answer(status: int, payload: Any = None, *, raw: str | None = None) -> httpx.Response:
    content = raw if raw is not None else ("" if payload is None else json.dumps(payload))
    return httpx.Response(status, content=content.encode(), headers={"Content-Type": "application/json"})


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None


@dataclass
class Harness:
    """A connector on a MockTransport, with a manual clock that sleeping advances."""

    handler: Handler
    settings: ClientSettings = field(default_factory=ClientSettings)
    budget: RequestBudget | None = None
    base_url: str | None = BASE_URL
    zone_root: str | None = None
    requests: list[httpx.Request] = field(default_factory=list)
    exchanges: list[ExchangeRecord] = field(default_factory=list)
    clock: ManualClock = field(default_factory=lambda: ManualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC)))
    sleeps: list[float] = field(default_factory=list)
    wrap: Callable[[httpx.BaseTransport], httpx.BaseTransport] | None = None

    def __post_init__(self) -> None:
        def record(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return self.handler(request)

        transport: httpx.BaseTransport = httpx.MockTransport(record)
        self.client = AutotaskClient(
            CREDENTIALS,
            base_url=self.base_url,
            zone_root=self.zone_root,
            transport=self.wrap(transport) if self.wrap else transport,
            settings=self.settings,
            budget=self.budget or RollingWindowBudget(self.clock, self),
            sleeper=self,
            on_exchange=self.exchanges.append,
        )
        self.connector = AutotaskConnector(self.client)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.advance(seconds)
