"""The mappings' commands: a customer mapped (or remapped) to an Autotask company, a
subscription mapped to a contract service. Built by the API routes from their validated bodies
and by the use cases from the API.md JSON (console forms, accepted suggestions, the demo), by the
same rules; `InvalidInput` names the field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from contractsync.domain.bounds import ID_MAX_LENGTH, MAX_PSA_ID
from contractsync.domain.operations import parse_int, parse_text


def psa_id(value: object, field: str) -> int:
    """An Autotask entity id: 1 .. the largest id a stored row can have."""
    return parse_int(value, field, 1, MAX_PSA_ID)


C = TypeVar("C", bound="_CustomerCompany")


@dataclass(frozen=True)
class _CustomerCompany:
    customer_id: str
    connection_id: str
    company_id: int

    @classmethod
    def build(cls: type[C], *, customer_id: object, connection_id: object, company_id: object) -> C:
        company = psa_id(company_id, "company_id")
        return cls(
            parse_text(customer_id, "customer_id", ID_MAX_LENGTH),
            parse_text(connection_id, "connection_id", ID_MAX_LENGTH),
            company,
        )


@dataclass(frozen=True)
class MapCustomer(_CustomerCompany):
    """A customer mapped to an Autotask company on a connection of its reseller."""


@dataclass(frozen=True)
class RemapCustomer(_CustomerCompany):
    """A mapped customer moved to another Autotask company (its subscriptions keep theirs)."""


@dataclass(frozen=True)
class MapSubscription:
    """A subscription mapped to a contract service; None: the contract's line for the service
    (created in Autotask when the contract has none)."""

    subscription_id: str
    connection_id: str
    contract_id: int
    service_id: int
    contract_service_id: int | None = None

    @classmethod
    def build(
        cls,
        *,
        subscription_id: object,
        connection_id: object,
        contract_id: object,
        service_id: object,
        contract_service_id: object = None,
    ) -> MapSubscription:
        contract = psa_id(contract_id, "contract_id")
        service = psa_id(service_id, "service_id")
        line = None if contract_service_id is None else psa_id(contract_service_id, "contract_service_id")
        return cls(
            parse_text(subscription_id, "subscription_id", ID_MAX_LENGTH),
            parse_text(connection_id, "connection_id", ID_MAX_LENGTH),
            contract,
            service,
            line,
        )
