"""What the connector answers: small immutable records built from Autotask's camelCase JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from contractsync.adapters.autotask.wire import (
    parse_date,
    to_int,
    to_optional_decimal,
    to_optional_int,
)

COMPANY_TYPE_CUSTOMER = 1
CONTRACT_TYPE_RECURRING_SERVICE = 7


@dataclass(frozen=True)
class Company:
    id: int
    name: str
    company_type: int | None
    is_active: bool | None

    @classmethod
    def from_wire(cls, item: Mapping[str, Any]) -> Company:
        active = item.get("isActive")
        return cls(
            id=to_int(item["id"]),
            name=str(item.get("companyName") or ""),
            company_type=to_optional_int(item.get("companyType")),
            is_active=active if isinstance(active, bool) else None,
        )


@dataclass(frozen=True)
class Contract:
    id: int
    company_id: int
    name: str
    contract_type: int | None
    period_type: int | None  # Autotask's contractPeriodType picklist value, as sent
    start_date: date
    end_date: date
    status: int | None

    @classmethod
    def from_wire(cls, item: Mapping[str, Any]) -> Contract:
        return cls(
            id=to_int(item["id"]),
            company_id=to_int(item["companyID"]),
            name=str(item.get("contractName") or ""),
            contract_type=to_optional_int(item.get("contractType")),
            period_type=to_optional_int(item.get("contractPeriodType")),
            start_date=parse_date(item["startDate"]),
            end_date=parse_date(item["endDate"]),
            status=to_optional_int(item.get("status")),
        )


@dataclass(frozen=True)
class Service:
    id: int
    name: str
    period_type: int | None
    unit_price: Decimal | None
    unit_cost: Decimal | None
    is_active: bool | None
    #: the service's SKU (a newer field of Services; absent from older Autotask versions)
    sku: str | None = None

    @classmethod
    def from_wire(cls, item: Mapping[str, Any]) -> Service:
        active = item.get("isActive")
        return cls(
            id=to_int(item["id"]),
            name=str(item.get("name") or ""),
            period_type=to_optional_int(item.get("periodType")),
            unit_price=to_optional_decimal(item.get("unitPrice")),
            unit_cost=to_optional_decimal(item.get("unitCost")),
            is_active=active if isinstance(active, bool) else None,
            sku=str(item["sku"]).strip() or None if item.get("sku") else None,
        )


@dataclass(frozen=True)
class ContractService:
    id: int
    contract_id: int
    service_id: int
    unit_price: Decimal | None
    unit_cost: Decimal | None

    @classmethod
    def from_wire(cls, item: Mapping[str, Any]) -> ContractService:
        return cls(
            id=to_int(item["id"]),
            contract_id=to_int(item["contractID"]),
            service_id=to_int(item["serviceID"]),
            unit_price=to_optional_decimal(item.get("unitPrice")),
            unit_cost=to_optional_decimal(item.get("unitCost")),
        )


@dataclass(frozen=True)
class Threshold:
    """GET /ThresholdInformation: the tenant's budget, shared by every integration."""

    limit: int
    timeframe_minutes: int
    current_count: int

    @property
    def fraction_used(self) -> float:
        return self.current_count / self.limit if self.limit else 1.0

    @classmethod
    def from_wire(cls, item: Mapping[str, Any]) -> Threshold:
        return cls(
            limit=to_int(item["externalRequestThreshold"]),
            timeframe_minutes=to_int(item["requestThresholdTimeframe"]),
            current_count=to_int(item["currentTimeframeRequestCount"]),
        )
