"""X4 for subscriptions: the contract service a subscription should map to, on a contract of its
customer's Autotask company that runs today, found by the service's SKU or its name.

A service matches a subscription by SKU when the service's `sku` is the subscription's offer id,
or the offer id's product and SKU (`CFQ7TTC0LF8S:0001` of `CFQ7TTC0LF8S:0001:0002`), in any case;
else by name when its name is the offer's name (any case, spaces at either end aside). The SKU is
tried first: a name is a weaker match. Exactly one contract service of a matching service on the
company's contracts is suggested; no contract service, one matching service and one contract
running suggests a new service line on that contract; anything else is skipped with the reason.
Contract services mapped already are never suggested.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from contractsync.ports.unit_of_work import UnitOfWork

JSON = dict[str, Any]


def taken_on(uow: UnitOfWork, connection_id: str) -> tuple[set[str], set[int]]:
    """What no suggestion on the connection offers: the subscriptions mapped, or whose contract
    service Autotask is creating (mapped once it exists; accepting one again would be refused),
    and the contract services mapped already."""
    mappings = uow.directory.subscription_mappings_of(connection_id)
    subscriptions = {m.subscription_id for m in mappings}
    subscriptions |= uow.service_creations.open_subscription_ids(connection_id)
    return subscriptions, {m.contract_service_id for m in mappings}


@dataclass(frozen=True)
class Wanted:
    """An unmapped subscription of a mapped customer."""

    subscription_id: str
    company_id: int
    offer_id: str
    offer_name: str


def _key(text: str | None) -> str:
    return (text or "").strip().lower()


def _offer_skus(offer_id: str) -> set[str]:
    parts = _key(offer_id).split(":")
    return {":".join(parts), ":".join(parts[:2])} - {""}


class ServiceIndex:
    """The connection's services by SKU and by name (one Autotask query)."""

    def __init__(self, services: Iterable[Any]) -> None:
        self.by_sku: dict[str, set[int]] = {}
        self.by_name: dict[str, set[int]] = {}
        for service in services:
            if getattr(service, "sku", None):
                self.by_sku.setdefault(_key(service.sku), set()).add(service.id)
            self.by_name.setdefault(_key(service.name), set()).add(service.id)

    def candidates(self, wanted: Wanted) -> list[tuple[str, set[int]]]:
        """(how, service ids) to try in order: SKU, then name."""
        by_sku = set().union(*(self.by_sku.get(k, set()) for k in _offer_skus(wanted.offer_id)))
        found = [("SKU", by_sku), ("service name", self.by_name.get(_key(wanted.offer_name), set()))]
        return [(how, ids) for how, ids in found if ids]


def suggest(connector: Any, wanted: list[Wanted], lines_taken: set[int], today: date) -> JSON:
    """{subscriptions: [{subscription_id, contract_id, service_id, contract_service_id (None: a new
    line), matched_by}], subscriptions_skipped: [{subscription_id, reason}]}."""
    if not wanted:
        return {"subscriptions": [], "subscriptions_skipped": []}
    index = ServiceIndex(connector.find_services())
    contracts: dict[int, list[Any]] = {}
    lines: dict[int, list[Any]] = {}

    def running(company_id: int) -> list[Any]:
        if company_id not in contracts:
            found = connector.find_contracts(company_id)
            contracts[company_id] = [c for c in found if c.start_date <= today <= c.end_date]
        return contracts[company_id]

    def lines_of(contract_id: int) -> list[Any]:
        if contract_id not in lines:
            lines[contract_id] = connector.find_contract_services(contract_id)
        return lines[contract_id]

    suggestions: list[JSON] = []
    skipped: list[JSON] = []
    for sub in wanted:
        answer = _one(sub, index.candidates(sub), running(sub.company_id), lines_of, lines_taken)
        (suggestions if "matched_by" in answer else skipped).append(answer)
    return {"subscriptions": suggestions, "subscriptions_skipped": skipped}


def _one(
    sub: Wanted, tries: list[tuple[str, set[int]]], running: list[Any], lines_of: Any, taken: set[int]
) -> JSON:
    if not tries:
        return {
            "subscription_id": sub.subscription_id,
            "reason": "no Autotask service has the offer's SKU or name",
        }
    if not running:
        return {
            "subscription_id": sub.subscription_id,
            "reason": "the customer's company has no contract running today",
        }
    reasons = []
    for how, service_ids in tries:
        found = [
            (contract.id, line)
            for contract in running
            for line in lines_of(contract.id)
            if line.service_id in service_ids and line.id not in taken
        ]
        if len(found) == 1:
            contract_id, line = found[0]
            return {"subscription_id": sub.subscription_id, "contract_id": contract_id,
                    "service_id": line.service_id, "contract_service_id": line.id, "matched_by": how}  # fmt: skip
        if not found and len(service_ids) == 1 and len(running) == 1:
            return {"subscription_id": sub.subscription_id, "contract_id": running[0].id,
                    "service_id": next(iter(service_ids)), "contract_service_id": None,
                    "matched_by": f"{how} (new service line)"}  # fmt: skip
        reasons.append(
            f"{len(found)} contract services match by {how}"
            if found
            else f"no free contract service matches by {how}"
        )
    return {"subscription_id": sub.subscription_id, "reason": "; ".join(reasons)}
