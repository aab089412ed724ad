"""A PSA for use-case unit tests: contracts, their service lines, names and the units it holds,
answered from dictionaries, with the calls it got (no HTTP, no sandbox)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from contractsync.ports.psa import ErrorKind, PsaError, ServiceUnitsPeriod, UnitsRead
from tests.unit.service.conftest import Threshold


@dataclass(frozen=True)
class Named:
    id: int
    name: str


@dataclass(frozen=True)
class StubContract:
    id: int
    company_id: int
    name: str
    start_date: date
    end_date: date
    period_type: int | None = 1  # Autotask's picklist: monthly


@dataclass(frozen=True)
class StubLine:
    id: int
    contract_id: int
    service_id: int
    unit_price: Decimal | None = None
    unit_cost: Decimal | None = None


def _contracts() -> dict[int, StubContract]:
    return {100: StubContract(100, 501, "Contoso CSP", date(2026, 1, 1), date(2027, 12, 31))}


@dataclass
class StubAutotask:
    """`context.connector_for = stub`: every connection gets this PSA."""

    companies: dict[int, str] = field(default_factory=lambda: {501: "Contoso Ltd"})
    contracts: dict[int, StubContract] = field(default_factory=_contracts)
    services: dict[int, str] = field(default_factory=lambda: {7: "Microsoft 365 E5", 8: "Microsoft 365 E3"})
    lines: dict[int, StubLine] = field(default_factory=lambda: {1001: StubLine(1001, 100, 7)})
    #: what ContractServiceUnits answers
    units: list[ServiceUnitsPeriod] = field(default_factory=list)
    #: a creation refused for good with this message (None: created)
    refuse_creation: str | None = None
    calls: list[str] = field(default_factory=list)

    def __call__(self, row: Any) -> StubAutotask:
        return self

    def threshold_information(self) -> Threshold:
        return Threshold()

    def get_contract(self, contract_id: int) -> StubContract:
        self.calls.append(f"get_contract {contract_id}")
        if contract_id not in self.contracts:
            raise PsaError(ErrorKind.NOT_FOUND, f"no Contracts entity with id {contract_id} exists")
        return self.contracts[contract_id]

    def find_contract_services(self, contract_id: int) -> list[StubLine]:
        self.calls.append(f"find_contract_services {contract_id}")
        return [line for line in self.lines.values() if line.contract_id == contract_id]

    def create_contract_service(
        self, contract_id: int, service_id: int, unit_price: Decimal, unit_cost: Decimal
    ) -> int:
        self.calls.append(f"create_contract_service {contract_id} {service_id}")
        if self.refuse_creation is not None:
            raise PsaError(ErrorKind.REJECTED, self.refuse_creation)
        line = StubLine(max(self.lines, default=1000) + 1, contract_id, service_id, unit_price, unit_cost)
        self.lines[line.id] = line
        return line.id

    def find_companies(self, ids: list[int] | None = None) -> list[Named]:
        return [Named(k, v) for k, v in self.companies.items() if ids is None or k in ids]

    def find_contracts(self, company_id: int | None = None) -> list[StubContract]:
        return [c for c in self.contracts.values() if company_id in (None, c.company_id)]

    def find_services(self, name: str | None = None) -> list[Named]:
        return [Named(k, v) for k, v in self.services.items() if name in (None, v)]

    def service_units_of(self, ids: list[int]) -> UnitsRead:
        self.calls.append(f"service_units_of {sorted(ids)}")
        return UnitsRead([p for p in self.units if p.contract_service_id in ids], 1)
