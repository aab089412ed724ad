"""Autotask for worker, service and crash tests: the sandbox (`contractsync.sandbox`) served
in-process over real HTTP, and real `AutotaskConnector`s talking to it.

There is no port-level fake any more: every test that needs an Autotask gets the sandbox, so it
pages, refuses, counts the budget and limits threads exactly as the sandbox does (its README
lists the public source of each behaviour). Faults are the sandbox's own (`/sandbox/faults`);
the state lives in the test process, so it survives a SIGKILL of worker processes.

    with SandboxAutotask() as autotask:
        autotask.contract_services({1: 101})           # contract service 1 on contract 101
        worker = Worker(..., lambda _row: autotask.connector, ...)
        ...
        autotask.units_on(1, date(2025, 3, 3))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from types import TracebackType
from typing import Any, NamedTuple

import httpx

from contractsync.adapters.autotask import (
    AutotaskClient,
    AutotaskConnector,
    ClientSettings,
    Credentials,
    OutboundPolicy,
)
from contractsync.ports.psa import ServiceTarget, ServiceUnitsPeriod, TargetApplied
from contractsync.sandbox.server import SandboxServer
from contractsync.sandbox.state import DEFAULT_SECRET, SandboxConfig
from tests.contract.autotask_contract import ContractChecker, ValidatingTransport

#: Short backoffs: the tests sleep for real, and need not sleep long.
FAST = ClientSettings(thread_threshold_backoff_seconds=0.002, read_retry_backoff_seconds=0.002)
#: Dates of a contract created only because a contract service names it.
DEFAULT_CONTRACT = (date(2020, 1, 1), date(2030, 12, 31))
COMPANY_ID = 1
#: The service every contract service is of, unless the test names another.
SERVICE_ID = 1
#: The sandbox's endpoint names of the calls the tests count.
ADJUSTMENTS = "ContractServiceAdjustments"
UNITS = "ContractServiceUnits"


class Adjustment(NamedTuple):
    """One ContractServiceAdjustment the sandbox holds."""

    contract_service_id: int
    effective_date: date
    unit_change: int
    price: Decimal | None
    cost: Decimal | None


class PortOnly:
    """A connector seen through the PSA port alone (`PsaConnector`, `ExchangeLog`): it cannot
    read posted periods before sending, so Autotask's refusal is what teaches them (the
    fallback SPEC §2 keeps, and what a PSA without that read gets)."""

    def __init__(self, connector: AutotaskConnector) -> None:
        self._connector = connector

    def request_record(self, target: ServiceTarget) -> dict[str, Any]:
        return self._connector.request_record(target)

    def apply_target(self, target: ServiceTarget) -> TargetApplied:
        return self._connector.apply_target(target)

    def service_units(self, contract_service_id: int, start: date, end: date) -> list[ServiceUnitsPeriod]:
        return self._connector.service_units(contract_service_id, start, end)

    def last_exchange_json(self) -> dict[str, Any] | None:
        return self._connector.last_exchange_json()


def connector_to(
    api_url: str,
    username: str,
    secret: str,
    integration_code: str,
    *,
    settings: ClientSettings = FAST,
    checker: ContractChecker | None = None,
) -> AutotaskConnector:
    """A real connector to a sandbox at `api_url` (".../atservicesrest/v1.0"); with `checker`,
    every request and answer is validated against the vendor's Swagger document."""
    transport: httpx.BaseTransport = httpx.HTTPTransport()
    if checker is not None:
        transport = ValidatingTransport(transport, checker)
    client = AutotaskClient(
        Credentials(username, secret, integration_code),
        base_url=api_url,
        outbound=OutboundPolicy.allowing(api_url),
        transport=transport,
        settings=settings,
    )
    return AutotaskConnector(client)


class SandboxAutotask:
    """The sandbox on a free loopback port, a connector to it, and what tests set up and read."""

    def __init__(self, *, budget: int = 1_000_000, fault_seed: int = 0, validate: bool = True) -> None:
        self.config = SandboxConfig(budget=budget, fault_seed=fault_seed)
        self.server = SandboxServer(self.config)
        self.checker = ContractChecker() if validate else None
        self._connector: AutotaskConnector | None = None
        self._admin: httpx.Client | None = None
        self._rest: httpx.Client | None = None
        self._contracts: set[int] = set()
        self._services: set[int] = set()
        self._contract_services: set[int] = set()

    # -- running -------------------------------------------------------------------------------

    def start(self) -> SandboxAutotask:
        self.server.start()
        self._admin = httpx.Client(base_url=self.server.base_url, timeout=30)
        self._rest = httpx.Client(base_url=self.server.api_url, headers=self.server.headers, timeout=30)
        self._admin.post(
            "/sandbox/seed", json={"companies": [{"id": COMPANY_ID, "companyName": "Contoso Ltd"}]}
        ).raise_for_status()
        return self

    def stop(self) -> None:
        for client in (self._connector.client if self._connector else None, self._admin, self._rest):
            if client is not None:
                client.close()
        self.server.stop()

    def __enter__(self) -> SandboxAutotask:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def api_url(self) -> str:
        return self.server.api_url

    @property
    def connector(self) -> AutotaskConnector:
        """The connector of this test's connection: one per process, as `ConnectorCache` keeps
        one, so its thread limit is shared by the worker's threads."""
        if self._connector is None:
            self._connector = self.new_connector()
        return self._connector

    def new_connector(self, *, settings: ClientSettings = FAST) -> AutotaskConnector:
        return connector_to(
            self.api_url,
            self.config.username,
            self.config.secret,
            self.config.integration_code,
            settings=settings,
            checker=self.checker,
        )

    def violations(self) -> list[str]:
        """Requests or answers that did not match the vendor's document."""
        return [] if self.checker is None else list(self.checker.violations)

    # -- setting up Autotask -------------------------------------------------------------------

    def seed(self, body: dict[str, Any]) -> None:
        """Records as the sandbox's `/sandbox/seed` takes them (companies, services, contracts,
        contract services), as someone would have entered them in Autotask."""
        assert self._admin is not None, "start the sandbox first"
        self._admin.post("/sandbox/seed", json=body).raise_for_status()

    def service(
        self,
        service_id: int,
        price: Decimal = Decimal("12.0000"),
        cost: Decimal = Decimal(10),
        name: str | None = None,
    ) -> None:
        if service_id not in self._services:
            self.seed({"services": [{"id": service_id, "name": name or f"Service {service_id}",
                                      "unitPrice": str(price), "unitCost": str(cost)}]})  # fmt: skip
            self._services.add(service_id)

    def contract(
        self,
        contract_id: int,
        start: date,
        end: date,
        *,
        posted_through: date | None = None,
        name: str | None = None,
    ) -> None:
        """The contract with these dates (created, or changed by PATCH as a user would), its
        periods approved and posted through `posted_through` (whole periods only, as Autotask
        posts them; posting cannot be undone)."""
        if contract_id in self._contracts:
            assert self._rest is not None
            answer = self._rest.patch(
                "/Contracts",
                json={"id": contract_id, "startDate": f"{start}T00:00:00", "endDate": f"{end}T00:00:00"},
            )
            assert answer.status_code == 200, answer.text
        else:
            self.seed({"contracts": [{"id": contract_id, "companyID": COMPANY_ID, "contractType": 7,
                                       "contractName": name or f"Contract {contract_id}", "contractPeriodType": 1,
                                       "startDate": f"{start}T00:00:00", "endDate": f"{end}T00:00:00"}]})  # fmt: skip
            self._contracts.add(contract_id)
        if posted_through is not None:
            self.post_through(contract_id, posted_through)

    def post_through(self, contract_id: int, through: date) -> None:
        """Approve and post every period of the contract that ends on or before `through`."""
        assert self._admin is not None
        self._admin.post(
            "/sandbox/post-periods", json={"through": through.isoformat(), "contractID": contract_id}
        ).raise_for_status()

    def contract_services(self, placed: Mapping[int, int], service_id: int = SERVICE_ID) -> None:
        """Contract services (id → contract id) of `service_id`, unless there already; a contract
        not set up yet runs from 2020 to 2030."""
        placed = {cs: contract for cs, contract in placed.items() if cs not in self._contract_services}
        if not placed:
            return
        self.service(service_id)
        for contract_id in set(placed.values()) - self._contracts:
            self.contract(contract_id, *DEFAULT_CONTRACT)
        self.seed({"contractServices": [{"id": cs, "contractID": contract_id, "serviceID": service_id,
                                          "unitPrice": "12.0000", "unitCost": "10.0000"}
                                         for cs, contract_id in placed.items()]})  # fmt: skip
        self._contract_services.update(placed)

    # -- faults and credentials (the sandbox's own controls) -----------------------------------

    def fault(self, kind: str, endpoint: str = ADJUSTMENTS, **options: Any) -> None:
        """e.g. fault("thread_threshold", rate=1.0), fault("applied_then_500", count=1)."""
        assert self._admin is not None
        body = {"endpoint": endpoint, "kind": kind, **options}
        self._admin.post("/sandbox/faults", json=body).raise_for_status()

    def clear_faults(self) -> None:
        assert self._admin is not None
        self._admin.delete("/sandbox/faults").raise_for_status()

    def refuse_credentials(self, refuse: bool = True) -> None:
        """Someone changed the API user's secret in Autotask (or changed it back): every call
        with the stored one gets Autotask's empty 401."""
        self.config.secret = "rotated-in-autotask" if refuse else DEFAULT_SECRET

    # -- reading what Autotask holds -----------------------------------------------------------

    def adjustments(self, contract_service_id: int | None = None) -> list[Adjustment]:
        """The adjustments the sandbox holds, in creation order."""
        records = self.server.state.store.all(ADJUSTMENTS)
        return [
            Adjustment(
                r["contractServiceID"],
                r["effectiveDate"],
                r["unitChange"],
                r.get("adjustedUnitPrice"),
                r.get("adjustedUnitCost"),
            )
            for r in records
            if contract_service_id is None or r["contractServiceID"] == contract_service_id
        ]

    def units_on(self, contract_service_id: int, day: date) -> int:
        return sum(a.unit_change for a in self.adjustments(contract_service_id) if a.effective_date <= day)

    def stats(self) -> dict[str, Any]:
        assert self._admin is not None
        payload: dict[str, Any] = self._admin.get("/sandbox/stats").json()
        return payload

    def requests(self, endpoints: Iterable[str] = (ADJUSTMENTS, UNITS)) -> dict[str, int]:
        """Authenticated requests per endpoint (refused ones included), of the named endpoints."""
        counted = self.stats()["requests"]
        return {name: counted[name] for name in endpoints if counted.get(name)}

    def rejections(self) -> dict[str, int]:
        """Refusals by reason: "auth", "posted_period", "duplicate_date", "thread_threshold"..."""
        rejected: dict[str, int] = self.stats()["rejections"]
        return rejected

    def total_requests(self) -> int:
        """Every request the sandbox has seen (the chaos harness waits for it to move)."""
        return sum(self.server.state.stats.snapshot()["requests"].values())
