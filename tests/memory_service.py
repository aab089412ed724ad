"""The real façade for tests: `ContractSync` over the in-memory unit of work, with the Autotask
sandbox as its PSA where one is needed; sample data made through the façade's own use cases.

- `memory_service()` — `ContractSync` over `FakeUnitsOfWork` (no database), the admin token
  `ADMIN_TOKEN` registered, the clock fixed at `NOW`.
- `sql_service(url, ...)` — the same façade as `contractsync serve` builds it
  (`bootstrap.build_app_service`) on a migrated SQLite file, with its worker: for sample data that
  needs deliveries (the worker's `DeliveryStore` has no in-memory implementation).
- `console_sample(service, autotask, clock)` — the console's sample data, created as a client
  would: reseller r1 (`RESELLER_TOKEN`) with connection at1 to the sandbox, customers c1 (mapped
  to Autotask company 1, 20 % Microsoft margin) and c2, subscriptions s1 (synced), s2 (Autotask
  refused its last change: failed, retryable) and s3 (unmapped); failed records, alerts.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from contractsync.adapters.autotask.outbound import OutboundPolicy
from contractsync.adapters.clock import ManualClock
from contractsync.adapters.memory.unit_of_work import FakeUnitOfWork, FakeUnitsOfWork
from contractsync.adapters.secrets import SecretBox
from contractsync.bootstrap import build_app_service, service_context
from contractsync.domain.operations import OperationCommand
from contractsync.ports.psa import ErrorKind, PsaError
from contractsync.service.actor import ADMIN
from contractsync.service.context import Leases
from contractsync.service.facade import ContractSync
from contractsync.settings import Settings
from tests.sandbox_autotask import SandboxAutotask

JSON = dict[str, Any]

#: The provider's token (registered on every service built here) and reseller r1's (sample data).
ADMIN_TOKEN = "admin-token-of-the-test-suite"
RESELLER_TOKEN = "reseller-r1-token-of-the-test-suite"
NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
TODAY = NOW.date()
#: The secret key connections' secrets are sealed with (one for every service of a test run).
SECRET_KEY = SecretBox.new_key()

Connectors = Callable[[Any], Any]


def no_autotask(connection: Any) -> Any:
    """The connector factory of a service whose tests must not reach any Autotask."""
    raise PsaError(ErrorKind.TIMEOUT_BEFORE_SEND, "this test has no Autotask")


class BreakableUnits(FakeUnitsOfWork):
    """The in-memory units of work, failing like a database that broke once `failure` is set."""

    failure: Exception | None = None

    def __call__(self, *, commit: bool = True) -> FakeUnitOfWork:
        if self.failure is not None:
            raise self.failure
        return super().__call__(commit=commit)

    def reachable(self) -> bool:
        return self.failure is None


def memory_service(
    clock: ManualClock | None = None,
    connectors: Connectors = no_autotask,
    outbound: OutboundPolicy | None = None,
    units: FakeUnitsOfWork | None = None,
    partner_center: bool = True,
) -> ContractSync:
    """`ContractSync` over a fresh in-memory unit of work; `ADMIN_TOKEN` is the provider's.
    `outbound`: where Autotask and Partner Center requests may go (default: Autotask's hosts);
    `partner_center=False`: a process without Partner Center (its use cases answer Unavailable)."""
    context = service_context(
        units or FakeUnitsOfWork(),
        clock or ManualClock(NOW),
        SecretBox(SECRET_KEY.encode()),
        connectors,
        outbound or OutboundPolicy(),
        Leases(),
    )
    if not partner_center:
        context = dataclasses.replace(context, partner_center=None)
    service = ContractSync(context)
    service.create_token_value(None, ADMIN_TOKEN)
    return service


def reseller_service(units: FakeUnitsOfWork | None = None, **options: Any) -> ContractSync:
    """`memory_service(...)` with reseller r1, whose token is `RESELLER_TOKEN`."""
    service = memory_service(units=units, **options)
    service.create_reseller(ADMIN, {"id": "r1", "name": "Reseller One", "promotion_setting": "keep"})
    service.create_token_value("r1", RESELLER_TOKEN)
    return service


def sql_service(
    database_url: str, data_dir: Path, clock: ManualClock, connectors: Connectors = no_autotask
) -> ContractSync:
    """`contractsync serve`'s façade (and worker: `run_deliveries`) on a migrated database."""
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        admin_token=ADMIN_TOKEN,
        secret_key=SECRET_KEY,
        data_dir=data_dir,
    )
    return build_app_service(settings, clock=clock, connector_factory=connectors, upgrade=False)


def snapshot(service: ContractSync) -> tuple[object, ...]:
    """Everything the provider sees (every reseller's data, the audit log, manual actions, alerts):
    the same before and after a request that was refused or changes nothing."""
    return (
        service.list_resellers(ADMIN),
        service.list_connections(ADMIN),
        service.list_customers(ADMIN),
        service.list_subscriptions(ADMIN, page_size=200),
        service.list_operations(ADMIN, page_size=200),
        service.list_manual_actions(ADMIN),
        service.list_alerts(ADMIN, "all"),
    )


def copy_database(template: Path, directory: Path) -> str:
    """A SQLite URL of a fresh copy of `template` in `directory`."""
    path = directory / "contractsync.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


def subscription(
    subscription_id: str, customer_id: str, offer_name: str, kind: str, quantity: int, **more: Any
) -> JSON:
    return {
        "id": subscription_id, "customer_id": customer_id, "offer_id": "CFQ7TTC0LDPB:0001",
        "offer_name": offer_name, "kind": kind, "quantity": quantity, "term": "P1Y",
        "billing_cycle": "monthly", "start_date": "2026-01-15", "end_date": "2027-01-14",
        "auto_renew": True, "list_price": "12.5000", **more,
    }  # fmt: skip


def connection(connection_id: str, reseller_id: str, autotask: SandboxAutotask | None = None) -> JSON:
    """A connection body, with `autotask`'s credentials when given (its connector factory answers
    the sandbox's connector: no URL is stored)."""
    body: JSON = {"id": connection_id, "reseller_id": reseller_id, "kind": "autotask",
                  "username": "sandbox@example.com", "secret": "s", "integration_code": "SANDBOX",
                  "timezone": "UTC", "settle_seconds": 0}  # fmt: skip
    if autotask is not None:
        config = autotask.config
        body |= {"username": config.username, "secret": config.secret,
                 "integration_code": config.integration_code}  # fmt: skip
    return body


#: The sandbox's catalogue of the console sample: companies, contracts and services by id.
COMPANIES = {1: "Contoso Ltd", 2: "Fabrikam Inc"}
CONTRACTS = {100: "Contoso managed services 2026", 101: "Contoso Microsoft legacy licences"}
SERVICES = {7: "Microsoft 365 Business Standard", 9: "Azure plan"}
#: contract service → (contract, service)
CONTRACT_SERVICES = {1001: (100, 7), 1002: (101, 7)}
CONTRACT_DATES = (date(2024, 1, 1), date(2027, 12, 31))
MAPPED_ON = date(2026, 11, 2)


def seed_autotask(autotask: SandboxAutotask) -> None:
    """What the sample's Autotask holds before anything is mapped (company 1 it has already)."""
    autotask.seed({"companies": [{"id": 2, "companyName": COMPANIES[2]}]})
    autotask.service(7, Decimal("15.0000"), Decimal("12.5000"), name=SERVICES[7])
    autotask.service(9, Decimal(0), Decimal(0), name=SERVICES[9])
    for contract_id, name in CONTRACTS.items():
        autotask.contract(contract_id, *CONTRACT_DATES, name=name)
    for cs, (contract_id, service_id) in CONTRACT_SERVICES.items():
        autotask.contract_services({cs: contract_id}, service_id)


def quantity(value: int, **more: Any) -> OperationCommand:
    return OperationCommand.build("update_quantity", quantity=value, **more)


def console_sample(service: ContractSync, autotask: SandboxAutotask, clock: ManualClock) -> None:
    """The console's sample data (see the module's docstring), through the façade; the clock ends
    at `NOW`. Operation records, oldest first: #1, #2 the mappings of s1 and s2 (sent), #3 the
    customer mapping of c1, #4 s2's change to 22 seats on a date the contract does not hold (failed
    before anything was planned: retrying it is refused), #5 s2's change to 25 seats, which
    Autotask refused (its contract ended there meanwhile: failed, retryable). Alerts: #1 the
    adjustment outside the contract, #2 s2 out of sync. Connection at1 reports in EUR."""
    seed_autotask(autotask)
    clock.set(datetime.combine(MAPPED_ON, datetime.min.time(), UTC) + timedelta(hours=9))
    service.create_reseller(ADMIN, {"id": "r1", "name": "Reseller One", "promotion_setting": "keep"})
    service.create_token_value("r1", RESELLER_TOKEN)
    service.create_connection(ADMIN, connection("at1", "r1", autotask))
    service.set_reconciliation_schedule(ADMIN, {"connection_id": "at1", "currency": "EUR"})
    service.create_customer(
        ADMIN,
        {"id": "c1", "reseller_id": "r1", "name": "Contoso Ltd", "provider_margins": {"microsoft": "20"}},
    )
    service.create_customer(ADMIN, {"id": "c2", "reseller_id": "r1", "name": "Fabrikam Inc"})
    service.create_subscription(ADMIN, subscription("s1", "c1", "Microsoft 365 Business Standard", "nce", 10))
    service.create_subscription(ADMIN, subscription("s2", "c1", "Microsoft 365 E3", "legacy", 20))
    service.create_subscription(ADMIN, subscription("s3", "c2", "Azure plan", "azure_plan", 1))
    for subscription_id, cs in (("s1", 1001), ("s2", 1002)):
        contract_id, service_id = CONTRACT_SERVICES[cs]
        service.map_subscription(
            ADMIN,
            {"subscription_id": subscription_id, "connection_id": "at1", "contract_id": contract_id,
             "service_id": service_id, "contract_service_id": cs},
        )  # fmt: skip
    service.map_customer(ADMIN, {"customer_id": "c1", "connection_id": "at1", "company_id": 1})
    service.run_deliveries(ADMIN)
    clock.set(NOW)
    # A date the contract (2024 to 2027) does not hold: refused before anything is planned.
    service.apply_operation(ADMIN, "s2", quantity(22, effective_date="2028-02-01"))
    # Someone ends contract 101 in Autotask: our copy still runs to 2027, Autotask refuses.
    autotask.contract(101, date(2024, 1, 1), date(2026, 11, 20))
    service.apply_operation(ADMIN, "s2", quantity(25))
    service.run_deliveries(ADMIN)


@dataclass
class Sample:
    """The console sample built once (its SQLite file and its sandbox), for many tests: each one
    gets a service on its own copy of the database (the sandbox is shared: a test that writes to
    Autotask builds its own sample)."""

    autotask: SandboxAutotask
    database: Path

    @classmethod
    def build(cls, autotask: SandboxAutotask, migrated: Path, directory: Path) -> Sample:
        clock = ManualClock(NOW)
        url = copy_database(migrated, directory)
        service = sql_service(url, directory, clock, lambda row: autotask.connector)
        console_sample(service, autotask, clock)
        service.context.sessions.kw["bind"].dispose()  # SQLite's WAL written back into the file
        return cls(autotask, directory / "contractsync.db")

    def service(self, directory: Path, clock: ManualClock | None = None) -> ContractSync:
        """A service at `NOW` on a fresh copy of the sample."""
        url = copy_database(self.database, directory)
        return sql_service(url, directory, clock or ManualClock(NOW), lambda row: self.autotask.connector)
