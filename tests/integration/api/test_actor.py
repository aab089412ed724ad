"""Who made each audit record (`actor`), over real HTTP on the real façade — SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from contractsync.service.tokens import token_name
from tests.integration.api.test_end_to_end_http import World, _ok, world

__all__ = ["world"]  # the fixture, shared with the end-to-end tests


def _name_of(world: World, reseller_id: str | None) -> str:
    tokens = _ok(world.api.get("/v1/tokens", headers=world.tokens["admin"]))
    (token,) = [t for t in tokens if t["reseller_id"] == reseller_id]
    return token_name(token["id"], (token["hint"] or "").rstrip("…"))  # the answer shows "cs_E4x9a…"


def _records(world: World, token: str, **params: Any) -> list[Any]:
    page = _ok(world.api.get("/v1/operations", headers=world.tokens[token], params=params))
    return list(page["items"])


def test_each_record_names_the_token_that_made_it(world: World) -> None:
    api, r1, admin = world.api, world.tokens["r1"], world.tokens["admin"]
    reseller_name, admin_name = _name_of(world, "r1"), _name_of(world, None)
    assert reseller_name != admin_name

    [by_reseller] = _ok(
        api.post(
            "/v1/subscriptions/s1/operations", headers=r1, json={"type": "update_quantity", "quantity": 12}
        )
    )
    assert by_reseller["actor"] == reseller_name
    [by_admin] = _ok(
        api.post(
            "/v1/subscriptions/s1/operations", headers=admin, json={"type": "update_quantity", "quantity": 13}
        )
    )
    assert by_admin["actor"] == admin_name
    batch = _ok(
        api.post(
            "/v1/operations/batch",
            headers=admin,
            json={"operations": [{"subscription_id": "s2", "type": "update_quantity", "quantity": 11}]},
        )
    )
    assert [r["actor"] for r in batch["results"][0]["records"]] == [admin_name]

    # Read back: the records, and the mappings made while setting up, keep who made them.
    stored = {r["id"]: r["actor"] for r in _records(world, "r1")}
    assert stored[by_reseller["id"]] == reseller_name
    assert stored[by_admin["id"]] == admin_name
    assert set(stored.values()) == {reseller_name, admin_name}  # the mappings: r1's token
    assert _ok(api.get(f"/v1/operations/{by_admin['id']}", headers=r1))["actor"] == admin_name


def test_unmapping_a_subscription_is_recorded_with_who_did_it(world: World) -> None:
    api, r1 = world.api, world.tokens["r1"]
    assert api.delete("/v1/mappings/subscriptions/s1", headers=r1).status_code == 204
    [record] = [r for r in _records(world, "r1", subscription_id="s1") if "unmapped" in (r["reason"] or "")]
    assert record["type"] == "CreateConnectionSubscriptionMapping" and record["status"] == "succeeded"
    assert record["reason"].startswith("unmapped from Autotask contract service ")
    assert record["actor"] == _name_of(world, "r1")
    assert api.delete("/v1/mappings/subscriptions/s1", headers=r1).status_code == 404  # nothing twice


def test_the_openapi_schema_documents_the_actor(world: World) -> None:
    schema = _ok(world.api.get("/openapi.json", headers=world.tokens["admin"]))
    assert "actor" in schema["components"]["schemas"]["OperationRecord"]["properties"]
