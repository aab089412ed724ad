"""Group commit lanes (`CONTRACTSYNC_GROUP_COMMIT_LANES`), on SQLite and PostgreSQL: operations on
many subscriptions, sent concurrently through several lanes, end exactly as through one lane —
every subscription, its audit records, its answers and what reached Autotask — and the
operations on one subscription keep their order."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

from contractsync.service.actor import ADMIN
from contractsync.service.facade import ContractSync
from tests.integration.service.conftest import World
from tests.integration.service.test_operation_batch import add_mapped

SUBSCRIPTIONS = 12
THREADS = 4


def story(n: int, keyed: str) -> list[dict[str, Any]]:
    """What one subscription is sent, in this order: changes, a margin, an idempotency key used
    twice (the second answers the first's records), a refusal after a cancellation."""
    return [
        {"type": "update_quantity", "quantity": 11 + n},
        {"type": "update_quantity", "quantity": 20 + n, "idempotency_key": keyed},
        {"type": "update_price_margin", "margin_percent": str(25 + n % 3), "effective_date": "2024-05-01"},
        {"type": "update_quantity", "quantity": 30 + n},
        {"type": "update_quantity", "quantity": 20 + n, "idempotency_key": keyed},
        *([{"type": "cancel"}, {"type": "update_quantity", "quantity": 5}] if n % 4 == 0 else []),
        {"type": "update_quantity", "quantity": 40 + n}
        if n % 4
        else {"type": "update_quantity", "quantity": 6},
    ]


def run(service: ContractSync, prefix: str) -> dict[str, list[Any]]:
    """Every subscription's story, sent by THREADS threads at once, each owning some subscriptions:
    half submitted without waiting (as the API's event loop does), half applied from the thread."""
    answers: dict[str, list[Any]] = {}

    def client(number: int) -> None:
        mine = [n for n in range(SUBSCRIPTIONS) if n % THREADS == number]
        pending: dict[str, list[Future[list[dict[str, Any]]] | list[dict[str, Any]] | Exception]] = {}
        for step in range(max(len(story(n, "")) for n in mine)):
            for n in mine:
                bodies = story(n, f"{prefix}key-{n}")
                if step >= len(bodies):
                    continue
                sid = f"{prefix}{n}"
                if n % 2:
                    pending.setdefault(sid, []).append(service.submit_operation(ADMIN, sid, bodies[step]))
                    continue
                try:
                    pending.setdefault(sid, []).append(service.apply_operation(ADMIN, sid, bodies[step]))
                except Exception as error:  # a refusal is an answer too
                    pending.setdefault(sid, []).append(error)
        for sid, got in pending.items():
            answers[sid] = [settle(answer) for answer in got]

    threads = [threading.Thread(target=client, args=(number,)) for number in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return answers


def settle(answer: Any) -> Any:
    if isinstance(answer, Future):
        try:
            return answer.result(timeout=120)
        except Exception as error:
            return error
    return answer


def shape(answer: Any) -> Any:
    """An answer without its ids and times (and statuses, which a later change in its group can
    already have superseded): its records' types and adjustments."""
    if isinstance(answer, Exception):
        return (type(answer).__name__, str(answer).replace("lanes-", "").replace("one-", ""))
    return [
        (
            r["type"],
            r["subscription_id"].split("-")[-1],
            [(a["target_units"], a["unit_change"]) for a in r["adjustments"]],
        )
        for r in answer
    ]


def outcome(world: World, prefix: str, first_service: int) -> dict[int, Any]:
    """Each subscription as a user sees it: its row, its audit records oldest first, what Autotask holds."""
    found: dict[int, Any] = {}
    for n in range(SUBSCRIPTIONS):
        sid = f"{prefix}{n}"
        view = world.service.get_subscription(ADMIN, sid)
        records = world.service.list_operations(ADMIN, subscription_id=sid, page_size=200)["items"]
        found[n] = (
            view["quantity"], view["status"], view["unit_price"], view["sync_state"], view["version"],
            [(r["type"], r["status"]) for r in reversed(records)],
            [(d, change, price) for _, d, change, price, _ in world.autotask.adjustments(first_service + n)],
        )  # fmt: skip
    return found


def test_lanes_end_exactly_as_one_lane_and_keep_each_subscriptions_order(world: World) -> None:
    one, lanes = 5000, 5100  # their contract services
    world.autotask.contract_services({cs + n: 100 for cs in (one, lanes) for n in range(SUBSCRIPTIONS)})
    for n in range(SUBSCRIPTIONS):
        add_mapped(world, f"one-{n}", one + n)
        add_mapped(world, f"lanes-{n}", lanes + n)
    world.deliver()
    world.clock.advance(3600)
    one_lane = ContractSync(world.service.context, operation_lanes=1)
    three_lanes = ContractSync(world.service.context, operation_lanes=3)
    assert len({three_lanes._operations.lane_of(f"lanes-{n}") for n in range(SUBSCRIPTIONS)}) == 3

    answers_one = run(one_lane, "one-")
    answers_lanes = run(three_lanes, "lanes-")
    assert three_lanes._operations.operations == one_lane._operations.operations

    for n in range(SUBSCRIPTIONS):
        got = answers_lanes[f"lanes-{n}"]
        assert [shape(a) for a in got] == [shape(a) for a in answers_one[f"one-{n}"]]
        # the key's second use answers the first's records, not new ones
        assert [r["id"] for r in got[4]] == [r["id"] for r in got[1]]
        if n % 4:  # in order: the last change is what the subscription holds
            assert world.service.get_subscription(ADMIN, f"lanes-{n}")["quantity"] == 40 + n
        else:  # … and a cancelled one refuses what came after its cancellation
            assert [type(a).__name__ for a in got[-2:]] == ["Invalid", "Invalid"]
    world.deliver()
    world.deliver()
    assert outcome(world, "lanes-", lanes) == outcome(world, "one-", one)
    ids = [r["id"] for answer in answers_lanes.values() for a in answer if isinstance(a, list) for r in a]
    assert len(set(ids)) == len(ids) - SUBSCRIPTIONS  # only the replayed keys repeat a record
