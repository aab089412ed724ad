"""`AutotaskConnector`: the PSA port over Autotask REST, plus the look-ups mapping needs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from contractsync.adapters.autotask import filters as f
from contractsync.adapters.autotask.adjustments import (
    AdjustmentRequest,
    adjustment_body,
    adjustment_for,
    adjustment_record,
)
from contractsync.adapters.autotask.client import MAX_RECORDS_PER_PAGE, AutotaskClient
from contractsync.adapters.autotask.errors import excerpt
from contractsync.adapters.autotask.models import (
    COMPANY_TYPE_CUSTOMER,
    Company,
    Contract,
    ContractService,
    Service,
    Threshold,
)
from contractsync.adapters.autotask.redaction import ExchangeRecord, exchange_json
from contractsync.adapters.autotask.wire import (
    parse_date,
    parse_optional_date,
    to_decimal,
    to_int,
)
from contractsync.ports.psa import (
    ErrorKind,
    PsaError,
    ServiceTarget,
    ServiceUnitsPeriod,
    TargetApplied,
    UnitsRead,
)

T = TypeVar("T")

#: Autotask keeps money to 4 decimal places; more would be rounded by Autotask, silently.
MONEY_PLACES = 4
_MONEY_STEP = Decimal(1).scaleb(-MONEY_PLACES)
#: Contract services per ContractServiceUnits query (reconciliation reads).
UNITS_QUERY_CHUNK = 500


class AutotaskConnector:
    """Implements `contractsync.ports.psa.PsaConnector`. Raises only `PsaError`."""

    def __init__(self, client: AutotaskClient) -> None:
        self._client = client

    @property
    def client(self) -> AutotaskClient:
        """The REST client underneath, for reads the port does not name (e.g. BillingItems)."""
        return self._client

    @property
    def last_exchange(self) -> ExchangeRecord | None:
        """The calling thread's last HTTP exchange, redacted, for the audit record."""
        return self._client.last_exchange

    def last_exchange_json(self) -> dict[str, Any] | None:
        """`last_exchange` as JSON data, for the outbox row (the port's `ExchangeLog`)."""
        return exchange_json(self._client.last_exchange)

    # -- the PSA port ----------------------------------------------------------------------

    def request_record(self, target: ServiceTarget) -> dict[str, Any]:
        return adjustment_record(adjustment_for(target))

    def apply_target(self, target: ServiceTarget) -> TargetApplied:
        request = adjustment_for(target)
        return TargetApplied(self.create_adjustment(request), request.unit_change)

    def create_adjustment(self, request: AdjustmentRequest) -> int:
        """One ContractServiceAdjustment; answers Autotask's new id."""
        _money("adjustedUnitPrice", request.adjusted_unit_price)
        _money("adjustedUnitCost", request.adjusted_unit_cost)
        return self._client.create("ContractServiceAdjustments", adjustment_body(request))

    def service_units(self, contract_service_id: int, start: date, end: date) -> list[ServiceUnitsPeriod]:
        rows = self._client.query(
            "ContractServiceUnits",
            [
                f.eq("contractServiceID", contract_service_id),
                f.lte("startDate", end),
                f.gte("endDate", start),
            ],
        )
        periods = [_parse(_service_units_period, row, "ContractServiceUnits") for row in rows]
        # The date conditions are Autotask's to apply; keep only overlapping rows regardless.
        overlapping = [
            p
            for p in periods
            if p.contract_service_id == contract_service_id and p.start_date <= end and p.end_date >= start
        ]
        return sorted(overlapping, key=lambda p: p.start_date)

    def service_units_of(self, contract_service_ids: Sequence[int]) -> UnitsRead:
        """Every ContractServiceUnits row of the given contract services: one paged query per
        500 services (an `in` filter), instead of one query per service."""
        periods: list[ServiceUnitsPeriod] = []
        reads = 0
        ids = sorted(set(contract_service_ids))
        for first in range(0, len(ids), UNITS_QUERY_CHUNK):
            chunk = ids[first : first + UNITS_QUERY_CHUNK]
            rows = self._client.query("ContractServiceUnits", [f.one_of("contractServiceID", chunk)])
            # Autotask answers at most MaxRecords (500) rows a page and pages until done.
            reads += max(1, -(-len(rows) // MAX_RECORDS_PER_PAGE))
            wanted = set(chunk)
            parsed = [_parse(_service_units_period, row, "ContractServiceUnits") for row in rows]
            periods += [p for p in parsed if p.contract_service_id in wanted]
        return UnitsRead(sorted(periods, key=lambda p: (p.contract_service_id, p.start_date)), reads)

    # -- look-ups for mapping --------------------------------------------------------------

    def find_companies(
        self, *, name: str | None = None, ids: Iterable[int] | None = None, customers_only: bool = True
    ) -> list[Company]:
        conditions: list[f.Filter] = []
        if name is not None:
            conditions.append(f.eq("companyName", name))
        if ids is not None:
            id_list = sorted(set(ids))
            if not id_list:
                return []
            conditions.append(f.one_of("id", id_list))
        if customers_only:
            conditions.append(f.eq("companyType", COMPANY_TYPE_CUSTOMER))
        rows = self._client.query("Companies", conditions or [f.everything()])
        return [_parse(Company.from_wire, row, "Companies") for row in rows]

    def find_contracts(self, company_id: int | None = None) -> list[Contract]:
        """The contracts of one company, or of every company."""
        condition = f.eq("companyID", company_id) if company_id is not None else f.everything()
        rows = self._client.query("Contracts", [condition])
        return [_parse(Contract.from_wire, row, "Contracts") for row in rows]

    def get_contract(self, contract_id: int) -> Contract:
        row = self._client.get("Contracts", contract_id)
        if row is None:
            raise PsaError(ErrorKind.NOT_FOUND, f"no Contracts entity with id {contract_id} exists")
        return _parse(Contract.from_wire, row, "Contracts")

    def find_services(self, name: str | None = None) -> list[Service]:
        conditions = [f.eq("name", name)] if name is not None else [f.everything()]
        rows = self._client.query("Services", conditions)
        return [_parse(Service.from_wire, row, "Services") for row in rows]

    def find_contract_services(self, contract_id: int) -> list[ContractService]:
        rows = self._client.query("ContractServices", [f.eq("contractID", contract_id)])
        return [_parse(ContractService.from_wire, row, "ContractServices") for row in rows]

    def create_contract_service(
        self, contract_id: int, service_id: int, unit_price: Decimal, unit_cost: Decimal
    ) -> int:
        """Adds a service to a contract (no units: units come only from adjustments).

        The vendor document creates contract services as a child of the contract
        (`POST /Contracts/{id}/Services`); there is no top-level create."""
        body = {
            "contractID": contract_id,
            "serviceID": service_id,
            "unitPrice": _money("unitPrice", unit_price),
            "unitCost": _money("unitCost", unit_cost),
        }
        return self._client.create(f"Contracts/{int(contract_id)}/Services", body)

    def threshold_information(self) -> Threshold:
        payload = self._client.get_path("ThresholdInformation")
        return _parse(Threshold.from_wire, payload, "ThresholdInformation")

    def posted_through(self, contract_id: int, since: date) -> date | None:
        """The last day of the contract's approved-and-posted periods that end on or after
        `since` (None: none does): an adjustment dated on or before it would be refused.

        One paged query for the whole contract (every service's ContractServiceUnits rows, by
        `contractID`), only the posted rows from `since` on: a few rows, whatever the services."""
        rows = self._client.query(
            "ContractServiceUnits",
            [
                f.eq("contractID", contract_id),
                f.gte("endDate", since),
                {"op": "exist", "field": "approveAndPostDate"},
            ],
        )
        ends = [
            _parse(_posted_end, row, "ContractServiceUnits")
            for row in rows
            if row.get("approveAndPostDate") is not None
        ]
        return max((end for end in ends if end >= since), default=None)


def _money(name: str, value: Decimal) -> Decimal:
    """Refuse, before sending, an amount Autotask would round or cannot store."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise PsaError(ErrorKind.REJECTED, f"{name} must be a finite Decimal, got {value!r}")
    try:
        exact = value == value.quantize(_MONEY_STEP)
    except InvalidOperation:  # more digits than the decimal context holds
        exact = False
    if not exact:
        raise PsaError(ErrorKind.REJECTED, f"{name} {value} does not fit {MONEY_PLACES} decimal places")
    return value


def _service_units_period(item: dict[str, Any]) -> ServiceUnitsPeriod:
    return ServiceUnitsPeriod(
        contract_service_id=to_int(item["contractServiceID"]),
        start_date=parse_date(item["startDate"]),
        end_date=parse_date(item["endDate"]),
        units=to_int(item["units"]),
        price=to_decimal(item["price"]),
        cost=to_decimal(item["cost"]),
        posted=parse_optional_date(item.get("approveAndPostDate")) is not None,
    )


def _parse(build: Callable[[dict[str, Any]], T], row: dict[str, Any], entity: str) -> T:
    """A row Autotask answered with, as our record; an unreadable row is an unexpected answer."""
    try:
        return build(row)
    except (KeyError, ValueError, TypeError) as exc:
        raise PsaError(ErrorKind.SERVER_ERROR, f"{entity}: unexpected answer: {excerpt(repr(exc))}") from None


def _posted_end(item: dict[str, Any]) -> date:
    parse_optional_date(item["approveAndPostDate"])  # a posting date that is not a date is unreadable
    return parse_date(item["endDate"])
