"""Idempotency keys on SQLite and PostgreSQL: an operation sent again under its key is answered
from the first time and changes nothing; the same key with another operation is refused."""

from __future__ import annotations

import pytest

from contractsync.service.actor import ADMIN, Actor
from contractsync.service.errors import Conflict
from tests.integration.service.conftest import World, map_s1


def quantity(n: int, key: str | None = "webhook-42") -> dict[str, object]:
    body: dict[str, object] = {"type": "update_quantity", "quantity": n}
    if key is not None:
        body["idempotency_key"] = key
    return body


def test_an_operation_sent_again_under_its_key_is_applied_once(world: World) -> None:
    map_s1(world)
    world.deliver()
    [first] = world.service.apply_operation(ADMIN, "s1", quantity(12))
    version = world.service.get_subscription(ADMIN, "s1")["version"]
    log = world.service.list_operations(ADMIN)["total"]
    [again] = world.service.apply_operation(ADMIN, "s1", quantity(12))
    assert again["id"] == first["id"]
    assert world.service.get_subscription(ADMIN, "s1")["version"] == version
    assert world.service.list_operations(ADMIN)["total"] == log
    world.deliver()
    world.service.apply_operation(ADMIN, "s1", quantity(12))  # after delivery too
    world.deliver()
    assert [change for _, _, change, _, _ in world.autotask.adjustments(1000)] == [10, 2]
    # The replay answers the record as it is now: sent.
    [now] = world.service.apply_operation(ADMIN, "s1", quantity(12))
    assert now["status"] == "succeeded"


def test_a_key_reused_for_another_operation_is_refused_and_changes_nothing(world: World) -> None:
    map_s1(world)
    world.service.apply_operation(ADMIN, "s1", quantity(12))
    with pytest.raises(Conflict, match="already used for a different operation"):
        world.service.apply_operation(ADMIN, "s1", quantity(13))
    assert world.service.get_subscription(ADMIN, "s1")["quantity"] == 12


def test_keys_belong_to_their_reseller(world: World) -> None:
    map_s1(world)
    world.service.create_subscription(ADMIN, {
        "id": "s2", "customer_id": "c-r2", "offer_id": "CFQ7TTC0LF8S:0001", "offer_name": "Microsoft 365 E5",
        "kind": "nce", "quantity": 5, "term": "P1Y", "billing_cycle": "monthly", "start_date": "2024-01-15",
        "end_date": "2025-01-14", "auto_renew": True, "list_price": "10.00",
    })  # fmt: skip
    world.service.apply_operation(Actor("r1"), "s1", quantity(12, "same"))
    world.service.apply_operation(Actor("r2"), "s2", quantity(7, "same"))
    assert world.service.get_subscription(ADMIN, "s2")["quantity"] == 7


def test_a_batch_replays_a_repeated_key_and_refuses_a_reused_one(world: World) -> None:
    map_s1(world)
    answer = world.service.apply_operations(ADMIN, {"operations": [
        {"subscription_id": "s1", **quantity(12, "a")},
        {"subscription_id": "s1", **quantity(12, "a")},
        {"subscription_id": "s1", **quantity(14, "a")},
    ]})  # fmt: skip
    first, repeat, reused = answer["results"]
    assert (first["status"], first["replayed"]) == ("applied", False)
    assert (repeat["status"], repeat["replayed"]) == ("applied", True)
    assert [r["id"] for r in repeat["records"]] == [r["id"] for r in first["records"]]
    assert reused["status"] == "refused" and reused["error"]["code"] == "conflict"
    again = world.service.apply_operations(
        ADMIN, {"operations": [{"subscription_id": "s1", **quantity(12, "a")}]}
    )
    assert again["results"][0]["replayed"] is True
    assert world.service.get_subscription(ADMIN, "s1")["quantity"] == 12


@pytest.mark.parametrize("key", ["", "x" * 201, 5, "tab\there"])
def test_a_malformed_key_is_refused(world: World, key: object) -> None:
    map_s1(world)
    with pytest.raises(Exception, match="idempotency_key must be text"):
        world.service.apply_operation(
            ADMIN, "s1", {"type": "update_quantity", "quantity": 3, "idempotency_key": key}
        )
    assert world.service.get_subscription(ADMIN, "s1")["quantity"] == 10
