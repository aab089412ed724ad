"""The console's audit-log search on SQLite and PostgreSQL, through the façade (on the audit-records
port): each filter, their combination, a reseller's own records only, paging, the export, and
refusals of bad filters."""

from __future__ import annotations

import pytest

from contractsync.service.actor import ADMIN, Actor
from contractsync.service.errors import Invalid
from tests.integration.service.conftest import World, map_s1

QUANTITY = "UpdateSubscriptionQuantityOnConnection"
MAPPING = "CreateConnectionSubscriptionMapping"


def _ids(answer: dict[str, object]) -> list[int]:
    items = answer["items"]
    assert isinstance(items, list)
    return [item["id"] for item in items]


def test_each_filter_narrows_the_log(world: World) -> None:
    mapped = map_s1(world)
    world.clock.advance(86400)  # recorded the next day
    [changed] = world.service.apply_operation(ADMIN, "s1", {"type": "update_quantity", "quantity": 12})
    search = world.service.search_operations

    assert _ids(search(ADMIN, {})) == [changed["id"], mapped["id"]]
    assert _ids(search(ADMIN, {"subscription": "S"})) == [changed["id"], mapped["id"]]  # any case
    assert _ids(search(ADMIN, {"subscription": "s2"})) == []
    assert _ids(search(ADMIN, {"subscription": "%"})) == []  # taken literally
    assert _ids(search(ADMIN, {"type": QUANTITY})) == [changed["id"]]
    assert _ids(search(ADMIN, {"status": "pending"})) == [changed["id"], mapped["id"]]
    assert _ids(search(ADMIN, {"customer_id": "c-r1"})) == [changed["id"], mapped["id"]]
    assert _ids(search(ADMIN, {"customer_id": "c-r2"})) == []
    assert _ids(search(ADMIN, {"recorded_from": "2024-05-21"})) == [changed["id"]]
    assert _ids(search(ADMIN, {"recorded_to": "2024-05-20"})) == [mapped["id"]]
    both = {"recorded_from": "2024-05-20", "recorded_to": "2024-05-21", "type": MAPPING, "subscription": "1"}
    assert _ids(search(ADMIN, both)) == [mapped["id"]]
    assert _ids(search(ADMIN, {"type": "", "status": "", "recorded_from": ""})) == [
        changed["id"],
        mapped["id"],
    ]

    page = search(ADMIN, {}, page=2, page_size=1)
    assert (_ids(page), page["total"], page["page"]) == ([mapped["id"]], 2, 2)
    assert page["items"][0]["adjustments"][0]["contract_service_id"] == 1000
    assert [r["id"] for r in world.service.export_operations(ADMIN, {"type": QUANTITY})] == [changed["id"]]


def test_a_reseller_finds_only_its_own_records(world: World) -> None:
    mapped = map_s1(world)
    assert _ids(world.service.search_operations(Actor("r1"), {})) == [mapped["id"]]
    assert world.service.search_operations(Actor("r2"), {})["total"] == 0
    assert world.service.export_operations(Actor("r2"), {"subscription": "s1"}) == []


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"colour": "red"}, "unknown filter 'colour'"),
        ({"status": "done"}, "status must be one of"),
        ({"type": "Teleport"}, "type must be a connection operation type"),
        ({"recorded_from": "2024-05-21", "recorded_to": "2024-05-20"}, "is before recorded_from"),
        ({"recorded_from": "yesterday"}, "recorded_from"),
    ],
)
def test_bad_filters_are_refused(world: World, filters: dict[str, str], message: str) -> None:
    with pytest.raises(Invalid, match=message):
        world.service.search_operations(ADMIN, filters)
    with pytest.raises(Invalid, match=message):
        world.service.export_operations(ADMIN, filters)
    with pytest.raises(Invalid, match="page must be 1 or more"):
        world.service.search_operations(ADMIN, {}, page=0)
