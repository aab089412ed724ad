"""Many operations in one transaction (`apply_operations`) on SQLite and PostgreSQL: the same
outcome as applying them one by one, refusals per operation, atomic batches, preview."""

from __future__ import annotations

import json
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from contractsync.cli.app import register_service_commands as register
from contractsync.service.actor import ADMIN, Actor
from contractsync.service.errors import Invalid
from tests.integration.service.conftest import World

SUBSCRIPTION = {
    "customer_id": "c-r1", "offer_id": "CFQ7TTC0LF8S:0001", "offer_name": "Microsoft 365 E5", "kind": "nce",
    "quantity": 10, "term": "P1Y", "billing_cycle": "monthly", "start_date": "2024-01-15",
    "end_date": "2025-01-14", "auto_renew": True, "list_price": "10.00",
}  # fmt: skip


def add_mapped(world: World, subscription_id: str, contract_service_id: int) -> None:
    world.service.create_subscription(ADMIN, {"id": subscription_id, **SUBSCRIPTION})
    world.service.map_subscription(ADMIN, {"subscription_id": subscription_id, "connection_id": "at-r1",
                                           "contract_id": 100, "service_id": 7,
                                           "contract_service_id": contract_service_id})  # fmt: skip


# The same story for two subscriptions: changes on one day, one on the same date twice (the later
# carries the earlier), a back-dated margin, an unmapped subscription's change, a refusal.
STORY: list[tuple[str, dict[str, Any]]] = [
    ("a", {"type": "update_quantity", "quantity": 12}),
    ("b", {"type": "update_quantity", "quantity": 7}),
    ("a", {"type": "update_quantity", "quantity": 15}),
    ("b", {"type": "update_price_margin", "margin_percent": "30", "effective_date": "2024-05-01"}),
    ("u", {"type": "update_quantity", "quantity": 3}),
    ("b", {"type": "cancel"}),
    ("b", {"type": "update_quantity", "quantity": 9}),  # refused: cancelled
]


def outcome(world: World, prefix: str, services: dict[str, int]) -> dict[str, Any]:
    """What a user sees: each subscription, and what Autotask holds for its contract service."""
    found: dict[str, Any] = {}
    for name, cs in services.items():
        view = world.service.get_subscription(ADMIN, f"{prefix}{name}")
        found[name] = (view["quantity"], view["status"], view["unit_price"], view["sync_state"],
                       [(d, change, price) for _, d, change, price, _ in world.autotask.adjustments(cs)])  # fmt: skip
    unmapped = world.service.get_subscription(ADMIN, f"{prefix}u")
    found["u"] = (unmapped["quantity"], unmapped["sync_state"])
    return found


def test_a_batch_ends_where_the_same_operations_one_by_one_end(world: World) -> None:
    one = {"a": 1001, "b": 1002}
    batch = {"a": 2001, "b": 2002}
    for name in "ab":
        add_mapped(world, f"one-{name}", one[name])
        add_mapped(world, f"batch-{name}", batch[name])
    for prefix in ("one-", "batch-"):
        world.service.create_subscription(ADMIN, {"id": f"{prefix}u", **SUBSCRIPTION})
    world.deliver()
    world.clock.advance(3600)

    statuses_one = []
    for name, body in STORY:
        try:
            world.service.apply_operation(ADMIN, f"one-{name}", body)
            statuses_one.append("applied")
        except Invalid:
            statuses_one.append("refused")
    answer = world.service.apply_operations(
        ADMIN, {"operations": [{"subscription_id": f"batch-{name}", **body} for name, body in STORY]}
    )
    assert [r["status"] for r in answer["results"]] == statuses_one
    assert (answer["applied"], answer["refused"]) == (6, 1)
    assert "canceled" in answer["results"][-1]["error"]["message"]
    world.deliver()
    world.deliver()
    assert outcome(world, "batch-", batch) == outcome(world, "one-", one)
    # The quantity reached Autotask once, as 15 (12 was carried by the later operation).
    assert [change for _, _, change, _, _ in world.autotask.adjustments(2001)][-1] == 5
    records = [r for result in answer["results"] for r in result["records"]]
    assert len({r["id"] for r in records}) == len(records)


def test_two_changes_of_one_subscription_in_a_batch_each_get_a_version_and_send_once(world: World) -> None:
    add_mapped(world, "x", 3001)
    world.deliver()
    version = world.service.get_subscription(ADMIN, "x")["version"]
    answer = world.service.apply_operations(ADMIN, {"operations": [
        {"subscription_id": "x", "type": "update_quantity", "quantity": 12},
        {"subscription_id": "x", "type": "update_quantity", "quantity": 14},
    ]})  # fmt: skip
    [first], [second] = (r["records"] for r in answer["results"])
    assert world.service.get_operation(ADMIN, first["id"])["status"] == "superseded"
    assert second["status"] == "pending" and second["adjustments"][0]["unit_change"] == 4
    assert world.service.get_subscription(ADMIN, "x")["version"] == version + 2
    world.deliver()
    assert [change for _, _, change, _, _ in world.autotask.adjustments(3001)][1:] == [4]


def test_unknown_and_foreign_subscriptions_are_refused_one_by_one(world: World) -> None:
    add_mapped(world, "x", 3001)
    world.service.create_customer(ADMIN, {"id": "c-other", "reseller_id": "r2", "name": "Other"})
    world.service.create_subscription(ADMIN, {"id": "theirs", **SUBSCRIPTION, "customer_id": "c-other"})
    answer = world.service.apply_operations(Actor("r1"), {"operations": [
        {"subscription_id": "nope", "type": "cancel"},
        {"subscription_id": "theirs", "type": "cancel"},
        {"subscription_id": "x", "type": "update_quantity", "quantity": 11},
    ]})  # fmt: skip
    assert [(r["status"], r["error"] and r["error"]["code"]) for r in answer["results"]] == [
        ("refused", "not_found"), ("refused", "not_found"), ("applied", None)
    ]  # fmt: skip
    assert world.service.get_subscription(ADMIN, "theirs")["status"] == "active"
    assert world.service.get_subscription(ADMIN, "x")["quantity"] == 11


def test_an_atomic_batch_with_a_refusal_changes_nothing(world: World) -> None:
    add_mapped(world, "x", 3001)
    log_before = world.service.list_operations(ADMIN)["total"]
    with pytest.raises(Invalid, match=r"operations\[1\]: .*nothing was applied") as raised:
        world.service.apply_operations(ADMIN, {"atomic": True, "operations": [
            {"subscription_id": "x", "type": "update_quantity", "quantity": 11},
            {"subscription_id": "nope", "type": "cancel"},
        ]})  # fmt: skip
    assert raised.value.details == {"refused": [{"index": 1, "message": "subscription nope not found"}]}
    assert world.service.get_subscription(ADMIN, "x")["quantity"] == 10
    assert world.service.list_operations(ADMIN)["total"] == log_before


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"operations": []}, "operations must be a list of 1 to 1000"),
        ({"operations": [{"type": "cancel"}] * 1001}, "operations must be a list of 1 to 1000"),
        ({"operations": "x"}, "operations must be a list"),
        ({"operations": [{"type": "cancel"}]}, r"operations\[0\].subscription_id is required"),
        ({"operations": [5]}, r"operations\[0\] must be a JSON object"),
        ({"operations": [{"subscription_id": "x", "type": "cancel", "preview": True}]}, "whole batch"),
        ({"operations": [{"subscription_id": "x", "type": "cancel"}], "atomic": "yes"}, "atomic must be"),
        ({"operations": [{"subscription_id": "x", "type": "cancel"}], "extra": 1}, "extra is not a known field"),
        # A malformed operation after a good one: the good one is not applied either.
        ({"operations": [{"subscription_id": "x", "type": "update_quantity", "quantity": 11},
                         {"subscription_id": "x", "type": "update_quantity", "quantity": "lots"}]},
         r"operations\[1\]: quantity"),
        ({"operations": [{"subscription_id": "x", "type": "teleport"}]}, r"operations\[0\]: type must be"),
    ],
)  # fmt: skip
def test_a_malformed_batch_is_refused_whole(world: World, body: dict[str, Any], message: str) -> None:
    add_mapped(world, "x", 3001)
    log_before = world.service.list_operations(ADMIN)["total"]
    with pytest.raises(Invalid, match=message):
        world.service.apply_operations(ADMIN, body)
    assert world.service.get_subscription(ADMIN, "x")["quantity"] == 10
    assert world.service.list_operations(ADMIN)["total"] == log_before


def test_a_previewed_batch_answers_the_records_and_stores_nothing(world: World) -> None:
    add_mapped(world, "x", 3001)
    world.deliver()
    world.clock.advance(86_400)
    answer = world.service.apply_operations(ADMIN, {"preview": True, "operations": [
        {"subscription_id": "x", "type": "update_quantity", "quantity": 13},
    ]})  # fmt: skip
    [result] = answer["results"]
    assert result["status"] == "previewed" and answer["preview"] is True
    assert [(a["effective_date"], a["unit_change"]) for a in result["records"][0]["adjustments"]] == [
        ("2024-05-21", 3)
    ]
    world.deliver()
    assert world.service.get_subscription(ADMIN, "x")["quantity"] == 10
    assert world.autotask.units_on(3001, date(2024, 6, 1)) == 10


def cli_for(world: World) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        pass

    register(app, build_service=lambda: world.service)
    return app


def test_operations_apply_command_applies_a_file_and_exits_1_on_a_refusal(
    world: World, tmp_path: Path
) -> None:
    add_mapped(world, "x", 3001)
    file = tmp_path / "ops.json"
    file.write_text(json.dumps([
        {"subscription_id": "x", "type": "update_quantity", "quantity": 16},
        {"subscription_id": "gone", "type": "cancel"},
    ]))  # fmt: skip
    result = CliRunner().invoke(cli_for(world), ["operations", "apply", str(file), "--format", "json"])
    assert result.exit_code == 1, result.output
    answer = json.loads(result.stdout)
    assert (answer["applied"], answer["refused"]) == (1, 1)
    assert world.service.get_subscription(ADMIN, "x")["quantity"] == 16

    file.write_text(
        json.dumps({"operations": [{"subscription_id": "x", "type": "update_quantity", "quantity": 17}]})
    )
    table = CliRunner().invoke(cli_for(world), ["operations", "apply", str(file)])
    assert table.exit_code == 0, table.output
    assert "applied 1 of 1 operations" in table.stdout
    assert world.service.get_subscription(ADMIN, "x")["quantity"] == 17


@pytest.mark.parametrize(
    ("content", "message"),
    [("not json", "Expecting value"), ("[]", "non-empty list"), ('[{"type": "cancel"}]', "subscription_id")],
)
def test_operations_apply_command_refuses_a_bad_file_with_one_line(
    world: World, tmp_path: Path, content: str, message: str
) -> None:
    file = tmp_path / "ops.json"
    file.write_text(content)
    result = CliRunner().invoke(cli_for(world), ["operations", "apply", str(file)])
    assert result.exit_code == 2
    [line] = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith("error:") and message in line


def test_single_operations_that_arrive_together_share_one_transaction(world: World) -> None:
    for n in range(5):
        add_mapped(world, f"x{n}", 4000 + n)
    add_mapped(world, "dead", 4999)
    world.service.apply_operation(ADMIN, "dead", {"type": "cancel"})
    group_commit = world.service._operations
    before = (group_commit.groups, group_commit.operations)
    answers: dict[str, object] = {}

    def call(subscription_id: str, quantity: int) -> None:
        try:
            answers[subscription_id] = world.service.apply_operation(
                ADMIN, subscription_id, {"type": "update_quantity", "quantity": quantity}
            )
        except Invalid as error:
            answers[subscription_id] = error

    # Six requests arrive while a group's transaction is (pretended to be) running.
    with group_commit._changed:
        group_commit._busy = True
    threads = [threading.Thread(target=call, args=(f"x{n}", 20 + n)) for n in range(5)]
    threads.append(threading.Thread(target=call, args=("dead", 3)))
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while group_commit.waiting() < 6 and time.monotonic() < deadline:
        time.sleep(0.01)
    with group_commit._changed:
        group_commit._busy = False
        group_commit._changed.notify_all()
    for thread in threads:
        thread.join(30)
    assert (group_commit.groups - before[0], group_commit.operations - before[1]) == (1, 6)
    assert isinstance(answers["dead"], Invalid) and "canceled" in answers["dead"].message
    for n in range(5):
        [record] = answers[f"x{n}"]  # type: ignore[misc]
        assert record["subscription_id"] == f"x{n}" and record["adjustments"][0]["target_units"] == 20 + n
    world.deliver()
    assert [world.autotask.units_on(4000 + n, date(2024, 6, 1)) for n in range(5)] == [20, 21, 22, 23, 24]
