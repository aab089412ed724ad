"""Resellers, connections, customers and subscriptions on the in-memory unit of work."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contractsync.ports.directory import ConnectionPause, CustomerMapping
from contractsync.service.actor import ADMIN
from contractsync.service.errors import Conflict, Forbidden, Invalid, NotFound
from tests.unit.service.conftest import CONNECTION, NOW, R1, R2, SUBSCRIPTION, Service


def test_a_created_reseller_is_listed_and_only_the_admin_creates_one(service: Service) -> None:
    answer = service.facade.create_reseller(ADMIN, {"id": "r1", "name": "One"})
    assert answer == {
        "id": "r1",
        "name": "One",
        "promotion_setting": "pass_through",
        "approved_through": None,
    }
    assert service.facade.list_resellers(ADMIN) == [answer]
    with pytest.raises(Forbidden):
        service.facade.create_reseller(R1, {"id": "r9", "name": "Nine"})
    assert list(service.data.resellers) == ["r1"]


def test_a_duplicate_id_is_a_conflict_and_changes_nothing(directory: Service) -> None:
    with pytest.raises(Conflict, match="customer c1 already exists"):
        directory.facade.create_customer(ADMIN, {"id": "c1", "reseller_id": "r1", "name": "Again"})
    assert directory.data.customers["c1"].name == "Contoso"
    assert directory.units.opened[-1].commits == 0


def test_billing_approval_never_moves_back(directory: Service) -> None:
    answer = directory.facade.approve_billing(ADMIN, "r1", {"approved_through": "2026-11-30"})
    assert answer["approved_through"] == "2026-11-30"
    with pytest.raises(Invalid, match="cannot move back"):
        directory.facade.approve_billing(ADMIN, "r1", {"approved_through": "2026-10-31"})


def test_a_connection_is_answered_with_the_credentials_check_and_never_its_secret(service: Service) -> None:
    service.facade.create_reseller(ADMIN, {"id": "r1", "name": "One"})
    answer = service.facade.create_connection(ADMIN, CONNECTION)
    assert answer["credentials_check"]["ok"] is True
    assert answer["policies"] == {
        "upgrade": "manual",
        "legacy_suspend": "manual",
        "reseller_change": "manual",
    }
    assert answer["created_at"] == "2026-11-25T14:00:00Z" and answer["paused"] is None
    assert "s3cret" not in str(answer) and "s3cret" not in str(service.facade.list_connections(ADMIN))
    assert service.data.connections["k1"].secret_encrypted != "s3cret"


def test_new_credentials_raise_the_version_and_probe_a_paused_connection_at_once(directory: Service) -> None:
    directory.data.pauses["k1"] = ConnectionPause("k1", "refused", NOW, NOW + timedelta(hours=1))
    directory.clock.advance(300)
    answer = directory.facade.update_credentials(
        ADMIN, "k1", {"secret": "new", "username": "other@example.com"}
    )
    assert answer["username"] == "other@example.com"
    assert answer["paused"] == {
        "reason": "refused",
        "since": "2026-11-25T14:00:00Z",
        "next_probe_at": "2026-11-25T14:05:00Z",
    }
    assert directory.data.connections["k1"].credentials_version == 2


def test_a_subscription_answers_its_prices_badge_and_mapping(directory: Service) -> None:
    directory.data.customer_mappings["c1", "k1"] = CustomerMapping("c1", "k1", 42)
    answer = directory.facade.get_subscription(ADMIN, "s1")
    assert answer["reseller_id"] == "r1" and answer["status"] == "active" and answer["version"] == 1
    assert (answer["list_price"], answer["unit_cost"], answer["unit_price"]) == (
        "10.0000",
        "10.0000",
        "10.0000",
    )
    assert answer["sync_state"] == "unmapped" and answer["mapping"] is None
    assert answer["open_manual_actions"] == 0
    [customer] = directory.facade.list_customers(R1)
    assert customer["mapping"] == {"connection_id": "k1", "company_id": 42}


def test_subscriptions_are_paged_and_filtered_by_badge(directory: Service) -> None:
    directory.facade.create_subscription(ADMIN, {**SUBSCRIPTION, "id": "s2"})
    directory.data.sync_badges["s2"] = "failed"
    page = directory.facade.list_subscriptions(ADMIN, page=1, page_size=1)
    assert ([i["id"] for i in page["items"]], page["total"]) == (["s1"], 2)
    failed = directory.facade.list_subscriptions(ADMIN, sync_state="failed")
    assert [i["id"] for i in failed["items"]] == ["s2"]
    with pytest.raises(Invalid, match="sync_state must be one of"):
        directory.facade.list_subscriptions(ADMIN, sync_state="lost")


def test_another_resellers_ids_answer_not_found_like_unknown_ones(directory: Service) -> None:
    for call in (
        lambda: directory.facade.get_subscription(R2, "s1"),
        lambda: directory.facade.approve_billing(R2, "r1", {"approved_through": "2026-11-30"}),
        lambda: directory.facade.update_credentials(R2, "k1", {"secret": "x"}),
        lambda: directory.facade.create_customer(R2, {"id": "c9", "reseller_id": "r1", "name": "X"}),
        lambda: directory.facade.create_subscription(R2, {**SUBSCRIPTION, "id": "s9"}),
        lambda: directory.facade.get_subscription(ADMIN, "nope"),
    ):
        with pytest.raises(NotFound):
            call()
    assert [r["id"] for r in directory.facade.list_resellers(R2)] == ["r2"]
    assert [c["id"] for c in directory.facade.list_customers(R2)] == ["c2"]
    assert directory.facade.list_connections(R2) == []
    assert directory.facade.list_subscriptions(R2)["items"] == []
    assert "s9" not in directory.data.subscriptions and "c9" not in directory.data.customers


def test_an_id_with_a_control_character_is_not_found() -> None:
    from contractsync.adapters.memory.directory import MemoryDirectory
    from contractsync.adapters.memory.unit_of_work import MemoryData
    from contractsync.service.context import visible_customer

    with pytest.raises(NotFound, match=r"customer 'c\\x00' not found"):
        visible_customer(MemoryDirectory(MemoryData()), ADMIN, "c\x00")
