"""Mapping on the in-memory unit of work: the real façade, a PSA stub, no database.

Customers to companies, subscriptions to contract services (existing, or created through the
outbox first), unmapping, accepted suggestions, and the Autotask names a mapping stores."""

from __future__ import annotations

import pytest

from contractsync.ports.outbox import OperationStatus
from contractsync.service.actor import ADMIN, Actor
from contractsync.service.errors import Conflict, Invalid, NotFound
from contractsync.service.map_subscription import map_subscription
from tests.unit.service.autotask_stub import StubAutotask
from tests.unit.service.conftest import R1, R2, SUBSCRIPTION, Service

BOT = Actor("r1", "Billing bot")  # r1's named token
MAP_S1 = {"subscription_id": "s1", "connection_id": "k1", "contract_id": 100, "service_id": 7}


@pytest.fixture
def autotask(directory: Service) -> StubAutotask:
    stub = StubAutotask()
    directory.facade.context.connector_for = stub
    return stub


def _names(service: Service) -> set[tuple[str, str, int]]:
    return {key for key, (name, _) in service.data.autotask_names.items() if name}


def test_a_customer_is_mapped_to_a_company_autotask_has(directory: Service, autotask: StubAutotask) -> None:
    facade = directory.facade
    with pytest.raises(Invalid, match="Autotask has no customer company 999"):
        facade.map_customer_to_company(R1, {"customer_id": "c1", "connection_id": "k1", "company_id": 999})
    record = facade.map_customer_to_company(
        R1, {"customer_id": "c1", "connection_id": "k1", "company_id": 501}
    )
    assert (record["type"], record["status"], record["customer_id"]) == (
        "CreateConnectionCustomerMapping", "succeeded", "c1",
    )  # fmt: skip
    assert record["reason"] == "mapped to Autotask company 501" and record["company_name"] == "Contoso Ltd"
    assert directory.data.customer_mappings["c1", "k1"].company_id == 501
    assert ("k1", "company", 501) in _names(directory)
    with pytest.raises(Conflict, match="already mapped"):
        facade.map_customer(ADMIN, {"customer_id": "c1", "connection_id": "k1", "company_id": 502})
    with pytest.raises(NotFound):  # another reseller's customer
        facade.map_customer(R2, {"customer_id": "c1", "connection_id": "k1", "company_id": 502})


def test_a_subscription_mapped_to_a_contract_service_is_aligned(
    directory: Service, autotask: StubAutotask
) -> None:
    facade = directory.facade
    record = facade.map_subscription(R1, {**MAP_S1, "contract_service_id": 1001})
    assert (record["type"], record["status"], record["effective_date"]) == (
        "CreateConnectionSubscriptionMapping", "pending", "2026-11-25",
    )  # fmt: skip
    [row] = record["adjustments"]
    assert (row["contract_service_id"], row["target_units"], row["unit_change"]) == (1001, 10, 10)
    mapping = directory.data.subscription_mappings["s1"]
    assert (mapping.contract_id, mapping.contract_service_id, mapping.service_id) == (100, 1001, 7)
    assert directory.data.contracts[("k1", 100)].period_type.value == "monthly"
    assert facade.get_subscription(R1, "s1")["mapping"]["contract_service_id"] == 1001
    # The contract's and the service's names are stored; the contract was read once, not again.
    assert {("k1", "contract", 100), ("k1", "service", 7)} <= _names(directory)
    assert autotask.calls.count("get_contract 100") == 1
    with pytest.raises(Conflict, match="already mapped to contract service 1001"):
        facade.map_subscription(R1, {**MAP_S1, "contract_service_id": 1001})
    facade.create_subscription(ADMIN, {**SUBSCRIPTION, "id": "s2"})
    with pytest.raises(Conflict, match="contract service 1001 is already mapped to subscription s1"):
        facade.map_subscription(R1, {**MAP_S1, "subscription_id": "s2", "contract_service_id": 1001})
    assert "s2" not in directory.data.subscription_mappings


def test_the_contract_service_line_is_found_when_none_is_named(
    directory: Service, autotask: StubAutotask
) -> None:
    record = directory.facade.map_subscription(ADMIN, MAP_S1)
    assert record["adjustments"][0]["contract_service_id"] == 1001
    assert not any(call.startswith("create_contract_service") for call in autotask.calls)


def test_a_missing_contract_service_is_created_then_mapped(
    directory: Service, autotask: StubAutotask
) -> None:
    record = directory.facade.map_subscription(ADMIN, {**MAP_S1, "service_id": 8})
    assert "create_contract_service 100 8" in autotask.calls
    assert record["status"] == "pending"
    assert record["reason"] == "mapped to contract service 1002, created in Autotask"
    [row] = record["adjustments"]
    assert (row["contract_service_id"], row["target_units"]) == (1002, 10)
    assert directory.data.subscription_mappings["s1"].contract_service_id == 1002
    [creation] = directory.data.creations.values()
    assert creation.operation_id == record["id"]
    assert directory.facade.create_contract_services() == 0  # nothing due any more


def test_a_refused_creation_fails_the_mapping(directory: Service, autotask: StubAutotask) -> None:
    autotask.refuse_creation = "the contract is inactive"
    record = directory.facade.map_subscription(BOT, {**MAP_S1, "service_id": 8})
    assert record["status"] == OperationStatus.FAILED.value
    assert record["reason"] == "Autotask did not create the contract service: the contract is inactive"
    assert "s1" not in directory.data.subscription_mappings
    assert directory.data.records[record["id"]].details["actor"] == "Billing bot"


def test_unmapping_a_subscription_is_recorded(directory: Service, autotask: StubAutotask) -> None:
    facade = directory.facade
    facade.map_subscription(ADMIN, {**MAP_S1, "contract_service_id": 1001})
    with pytest.raises(NotFound):
        facade.unmap_subscription(R2, "s1")
    facade.unmap_subscription(BOT, "s1")
    assert "s1" not in directory.data.subscription_mappings
    last = directory.data.records[max(directory.data.records)]
    assert last.reason == (
        "unmapped from Autotask contract service 1001; its changes are no longer sent to Autotask"
    )
    assert last.details == {"actor": "Billing bot"}
    with pytest.raises(NotFound, match="is not mapped"):
        facade.unmap_subscription(R1, "s1")
    # Mapped again, to the same contract service: it is free now, and already on its way to 10 units.
    again = facade.map_subscription(R1, {**MAP_S1, "contract_service_id": 1001})
    assert again["status"] == "skipped" and "nothing to send" in again["reason"]


def test_accepting_a_subscription_suggestion_stores_the_names(
    directory: Service, autotask: StubAutotask
) -> None:
    chosen = [{**MAP_S1, "contract_service_id": 1001}, {**MAP_S1, "subscription_id": "nope"}]
    chosen = [{k: v for k, v in item.items() if k != "connection_id"} for item in chosen]
    results = directory.facade.accept_subscription_suggestions(
        R1, {"connection_id": "k1", "subscriptions": chosen}
    )
    assert [r["status"] for r in results] == ["mapped", "refused"]
    assert {("k1", "contract", 100), ("k1", "service", 7)} <= _names(directory)
    assert directory.data.subscription_mappings["s1"].contract_service_id == 1001


def test_the_use_case_itself_stores_the_names(directory: Service, autotask: StubAutotask) -> None:
    """Not the façade: every caller of `map_subscription` (the API, the console, Partner Center's
    accepted suggestions) gets the names stored."""
    map_subscription(directory.facade.context, R1, {**MAP_S1, "contract_service_id": 1001})
    assert {("k1", "contract", 100), ("k1", "service", 7)} <= _names(directory)


def test_a_chosen_suggestion_that_cannot_be_read_is_refused_on_its_own(
    directory: Service, autotask: StubAutotask
) -> None:
    chosen = [
        {"subscription_id": "s1", "contract_id": 100, "service_id": 7, "contract_service_id": 1001},
        {"subscription_id": "s2", "contract_id": "100", "service_id": 7},
    ]
    results = directory.facade.accept_subscription_suggestions(
        R1, {"connection_id": "k1", "subscriptions": chosen}
    )
    assert results[0] == chosen[0] | {"status": "mapped", "error": None}
    assert results[1] == chosen[1] | {
        "status": "refused",
        "error": "contract_id must be an integer; got '100'",
    }
    with pytest.raises(Invalid, match=r"^choose at most 5000 suggestions at a time$"):
        directory.facade.accept_subscription_suggestions(
            R1, {"connection_id": "k1", "subscriptions": [chosen[1]] * 5001}
        )
    with pytest.raises(Invalid, match=r"^choose at most 2000 suggestions at a time$"):
        directory.facade.accept_customer_suggestions(R1, {"connection_id": "k1", "customers": "c1"})


def test_partner_center_answers_a_choice_that_cannot_be_read_by_its_index(
    directory: Service, autotask: StubAutotask
) -> None:
    answer = directory.facade.accept_partner_center_suggestions(
        R1,
        {"connection_id": "k1", "customers": [{"customer_id": "c1", "company_id": 0}, {"customer_id": "c1"}]},
    )
    assert answer == {
        "customers": [
            {"index": 0, "status": "refused", "error": "company_id must be between 1 and 2147483647; got 0"},
            {"index": 1, "status": "refused", "error": "company_id is required"},
        ],
        "subscriptions": [],
    }
    with pytest.raises(Invalid, match=r"^subscriptions must be a list of at most 5000 objects$"):
        directory.facade.accept_partner_center_suggestions(R1, {"connection_id": "k1", "subscriptions": [1]})
