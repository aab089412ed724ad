"""Autotask names on the in-memory unit of work: stored, read from Autotask only when needed (none
stored, an id shown without a name, a refresh), an id Autotask lacks read once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from contractsync.service import autotask_names
from contractsync.service.actor import ADMIN
from contractsync.service.errors import NotFound
from tests.unit.service.conftest import R2, Service


@dataclass(frozen=True)
class Named:
    id: int
    name: str


@dataclass
class Autotask:
    """Companies, contracts and services, and how often each list was read."""

    companies: dict[int, str] = field(default_factory=lambda: {501: "Contoso Ltd"})
    contracts: dict[int, str] = field(default_factory=lambda: {701: "Contoso CSP"})
    services: dict[int, str] = field(default_factory=lambda: {601: "Microsoft 365 E5"})
    reads: int = 0
    down: bool = False

    def __call__(self, row: Any) -> Autotask:
        return self

    def _list(self, names: dict[int, str]) -> list[Named]:
        if self.down:
            raise ConnectionError("Autotask is unreachable")
        self.reads += 1
        return [Named(k, v) for k, v in names.items()]

    def find_companies(self, **_: Any) -> list[Named]:
        return self._list(self.companies)

    def find_contracts(self) -> list[Named]:
        return self._list(self.contracts)

    def find_services(self) -> list[Named]:
        return self._list(self.services)


@pytest.fixture
def autotask(directory: Service) -> Autotask:
    fake = Autotask()
    directory.facade.context.connector_for = fake
    return fake


def test_names_are_read_once_then_served_from_the_store(directory: Service, autotask: Autotask) -> None:
    facade = directory.facade
    first = facade.autotask_names(ADMIN, "k1")
    assert first == {"companies": {501: "Contoso Ltd"}, "contracts": {701: "Contoso CSP"},
                     "services": {601: "Microsoft 365 E5"}}  # fmt: skip
    assert autotask.reads == 3
    autotask.companies[502] = "Fabrikam Inc"
    assert facade.autotask_names(ADMIN, "k1") == first and autotask.reads == 3  # no call per page view
    # A page showing an id without a name reads them again, once; one Autotask lacks is not re-read.
    shown = facade.autotask_names(ADMIN, "k1", wanted={"company": [502, 999]})
    assert shown["companies"] == {501: "Contoso Ltd", 502: "Fabrikam Inc"} and autotask.reads == 6
    assert facade.autotask_names(ADMIN, "k1", wanted={"company": [502, 999]}) == shown
    assert autotask.reads == 6
    # Refreshing (mapping, reconciliation) replaces them: a renamed company, a deleted service.
    autotask.companies[501], autotask.services = "Contoso AG", {}
    autotask_names.refresh_quietly(facade.context, ADMIN, "k1")
    assert facade.autotask_names(ADMIN, "k1")["companies"][501] == "Contoso AG"
    assert facade.autotask_names(ADMIN, "k1")["services"] == {}
    # Autotask down: the stored names stay; another reseller's connection is not found.
    autotask.down = True
    autotask_names.refresh_quietly(facade.context, ADMIN, "k1")
    assert facade.autotask_names(ADMIN, "k1", refresh=True)["companies"][501] == "Contoso AG"
    with pytest.raises(NotFound):
        facade.autotask_names(R2, "k1")


def test_with_autotask_down_and_nothing_stored_a_page_shows_ids_alone(
    directory: Service, autotask: Autotask
) -> None:
    autotask.down = True
    assert directory.facade.autotask_names(ADMIN, "k1") == {"companies": {}, "contracts": {}, "services": {}}
    assert directory.data.autotask_names == {}
