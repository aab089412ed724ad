"""End to end through the REST API (uvicorn, the real façade and database, the Autotask sandbox,
the real worker), on SQLite and PostgreSQL: a same-day double change, a refused change and drift
injected in Autotask, as the reconciliation report, the fix, the stored runs, sync_state and the
alerts show them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from contractsync.api import answers
from tests.integration.api.test_end_to_end_http import (  # noqa: F401 (the `world` fixture)
    TODAY,
    World,
    _ok,
    _run_worker,
    _sandbox_units,
    _units_on,
    world,
)


def _report(w: World, headers: dict[str, str], connection: str = "at1") -> Any:
    report = _ok(w.api.get("/v1/reconciliation", headers=headers, params={"connection_id": connection}))
    answers.Reconciliation.model_validate(report)
    return report


def _kinds(report: Any, subscription: str = "s1") -> list[tuple[str, str, str]]:
    return [
        (d["kind"], d["date"], d["period_end"])
        for d in report["differences"]
        if d["subscription_id"] == subscription
    ]


def _change(w: World, headers: dict[str, str], subscription: str, body: dict[str, Any]) -> Any:
    return _ok(w.api.post(f"/v1/subscriptions/{subscription}/operations", headers=headers, json=body))


def test_double_change_refusal_and_drift_through_the_api(world: World) -> None:  # noqa: F811
    api, r1, r2, admin = world.api, world.tokens["r1"], world.tokens["r2"], world.tokens["admin"]
    _ok(api.post("/v1/deliveries/run", headers=admin))  # the mappings: 10 units from today
    service = _ok(api.get("/v1/subscriptions/s1", headers=r1))["mapping"]["contract_service_id"]
    assert _report(world, r1)["differences"] == []

    # Two changes on the same day, before anything is sent: the last wins, planned for tomorrow
    # because today already holds the mapping's adjustment.
    [first] = _change(world, r1, "s1", {"type": "update_quantity", "quantity": 15})
    [second] = _change(world, r1, "s1", {"type": "update_quantity", "quantity": 17})
    assert _ok(api.get(f"/v1/operations/{first['id']}", headers=r1))["status"] == "superseded"
    pending = _report(world, r1)
    assert pending["totals"]["pending"]["count"] >= 1 and pending["totals"]["drift"]["count"] == 0
    assert {d["record_id"] for d in pending["differences"] if d["kind"] == "pending"} == {second["id"]}
    assert _ok(api.get("/v1/subscriptions", headers=r1, params={"sync_state": "pending"}))["total"] == 1
    _run_worker(world)
    tomorrow = TODAY + timedelta(days=1)
    rows = _sandbox_units(world, service)
    assert (_units_on(rows, TODAY), _units_on(rows, tomorrow)) == (10, 17)
    after = _report(world, r1)
    assert _kinds(after) == [("inexact", TODAY.isoformat(), TODAY.isoformat())]
    [inexact] = after["differences"]
    assert inexact["record_id"] == second["id"] and inexact["exact_from"] == tomorrow.isoformat()
    assert _ok(api.get("/v1/subscriptions/s1", headers=r1))["sync_state"] == "synced"

    # A change outside the contract (it ends in two years) is refused: failed, never synced.
    outside = (TODAY + timedelta(days=800)).isoformat()
    [refused] = _change(
        world, r2, "s2", {"type": "update_quantity", "quantity": 30, "effective_date": outside}
    )
    assert refused["status"] == "failed"
    assert _ok(api.get("/v1/subscriptions/s2", headers=r2))["sync_state"] == "failed"
    assert [
        s["id"]
        for s in _ok(api.get("/v1/subscriptions", headers=r2, params={"sync_state": "failed"}))["items"]
    ] == ["s2"]
    [failed] = [d for d in _report(world, r2, "at2")["differences"] if d["kind"] == "failed"]
    assert failed["record_id"] == refused["id"] and "outside the contract" in failed["reason"]

    # Someone adds 4 units by hand in Autotask from day 10: drift, found and corrected.
    day = TODAY + timedelta(days=10)
    body = {"contractID": 701, "contractServiceID": service, "effectiveDate": day.isoformat(), "unitChange": 4,
            "adjustedUnitPrice": "12.0000", "adjustedUnitCost": "10.0000"}  # fmt: skip
    made = httpx.post(
        f"{world.sandbox.api_url}/ContractServiceAdjustments", json=body, headers=world.sandbox.headers
    )
    assert made.status_code == 200, made.text
    drift = _report(world, r1)
    [found] = [d for d in drift["differences"] if d["kind"] == "drift"]
    assert (found["date"], found["expected_units"], found["autotask_units"]) == (day.isoformat(), 17, 21)
    assert drift["totals"]["drift"]["count"] == 1 and drift["currency"] == "USD"
    assert drift["totals_by_customer"][0]["customer_id"] == "c1"
    fixed = _ok(api.post("/v1/reconciliation", headers=r1, json={"connection_id": "at1", "fix": True}))
    assert [(q["subscription_id"], q["from"]) for q in fixed["queued"]] == [("s1", day.isoformat())]
    assert fixed["not_queued"] == [] and fixed["fixed"] == 1
    _run_worker(world)
    final = _report(world, r1)
    assert final["totals"]["drift"]["count"] == 0 and final["totals"]["pending"]["count"] == 0
    assert _units_on(_sandbox_units(world, service), day + timedelta(days=1)) == 17
    runs = _ok(api.get("/v1/reconciliation/runs", headers=r1, params={"connection_id": "at1"}))
    assert [r["differences"]["drift"] for r in runs["items"][:3]] == [0, 1, 1]  # newest first
    assert all(a["kind"] != "reconciliation_drift" for a in _ok(api.get("/v1/alerts", headers=r1)))
    resolved = _ok(api.get("/v1/alerts", headers=r1, params={"state": "resolved"}))
    assert any(a["kind"] == "reconciliation_drift" and a["resolved_at"] for a in resolved)
    # Another reseller sees none of it.
    assert _ok(api.get("/v1/reconciliation/runs", headers=r2, params={"connection_id": "at2"}))["items"]
    assert api.get("/v1/reconciliation/runs", headers=r2, params={"connection_id": "at1"}).status_code == 404
