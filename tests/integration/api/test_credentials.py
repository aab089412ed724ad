"""PSA credentials: checked when saved (shape, then with Autotask), and used by every process
from its next call after a change — the API and a separate worker process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from tests.integration.api.test_end_to_end_http import World, _ok, _sandbox_units, _units_on
from tests.integration.api.test_end_to_end_http import world as world

WAIT_SECONDS = 90  # an upper bound for a slow machine, not a speed target


def _connection(world: World, **changes: Any) -> dict[str, Any]:
    sandbox = world.sandbox
    return {
        "id": "at9",
        "reseller_id": "r1",
        "kind": "autotask",
        "username": sandbox.username,
        "secret": sandbox.secret,
        "integration_code": sandbox.integration_code,
        "base_url": sandbox.base_url,
        "timezone": "UTC",
        **changes,
    }


@pytest.fixture
def sandbox_world(world: World) -> World:
    return world


def test_credentials_are_validated_then_checked_with_autotask(sandbox_world: World) -> None:
    world = sandbox_world
    api, r1 = world.api, world.tokens["r1"]
    for bad in (
        {"secret": "pässwört"},
        {"secret": "x" * 201},
        {"secret": "   "},
        {"username": "api\x00@example.com"},
        {"integration_code": "CODE\n"},
    ):
        response = api.post("/v1/connections", headers=r1, json=_connection(world, **bad))
        assert response.status_code == 422, (bad, response.text)
        response = api.put("/v1/connections/at1/credentials", headers=r1, json={"secret": "ok-secret", **bad})
        assert response.status_code == 422, (bad, response.text)
    assert [c["id"] for c in _ok(api.get("/v1/connections", headers=r1))] == ["at1"]

    created = _ok(api.post("/v1/connections", headers=r1, json=_connection(world)), 201)
    assert created["credentials_check"]["ok"] is True, created
    assert "Autotask accepted the credentials" in created["credentials_check"]["message"]

    refused = _ok(api.put("/v1/connections/at9/credentials", headers=r1, json={"secret": "wrong-secret"}))
    assert refused["credentials_check"]["ok"] is False
    assert refused["credentials_check"]["kind"] == "auth"
    assert "wrong-secret" not in str(refused)

    fixed = _ok(api.put("/v1/connections/at9/credentials", headers=r1, json={"secret": world.sandbox.secret}))
    assert fixed["credentials_check"]["ok"] is True
    # The API's own connector follows at once: the contract search works again.
    assert _ok(api.get("/v1/contracts", headers=r1, params={"connection_id": "at9"}))


def _wait_for(what: str, condition: Callable[[], bool], worker: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert worker.poll() is None, f"the worker process exited ({worker.returncode})"
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


def _operation_status(world: World, operation_id: int) -> str:
    operation = _ok(world.api.get(f"/v1/operations/{operation_id}", headers=world.tokens["r1"]))
    return str(operation["status"])


def _paused(world: World) -> bool:
    (connection,) = _ok(world.api.get("/v1/connections", headers=world.tokens["r1"]))
    return connection["paused"] is not None


def test_a_worker_process_uses_rotated_credentials_from_its_next_call(sandbox_world: World) -> None:
    world = sandbox_world
    api, r1, settings = world.api, world.tokens["r1"], world.settings
    _ok(api.post("/v1/deliveries/run", headers=world.tokens["admin"]))  # the mapping's adjustment
    subscription = _ok(api.get("/v1/subscriptions/s1", headers=r1))
    contract_service_id = subscription["mapping"]["contract_service_id"]
    env = {
        **os.environ,
        "CONTRACTSYNC_DATABASE_URL": settings.database_url,
        "CONTRACTSYNC_SECRET_KEY": settings.secret_key,
        "CONTRACTSYNC_DATA_DIR": str(settings.data_dir),
        "CONTRACTSYNC_PSA_ALLOWED_HOSTS": settings.psa_allowed_hosts,
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "contractsync", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def change(quantity: int) -> int:
            body = {"type": "update_quantity", "quantity": quantity}
            (record,) = _ok(api.post("/v1/subscriptions/s1/operations", headers=r1, json=body))
            return int(record["id"])

        first = change(12)
        _wait_for("the first change", lambda: _operation_status(world, first) == "succeeded", worker)

        # A wrong secret saved: the worker's next call uses it, Autotask refuses, the connection pauses.
        rotated = api.put("/v1/connections/at1/credentials", headers=r1, json={"secret": "rotated-wrong"})
        assert _ok(rotated)["credentials_check"]["kind"] == "auth"
        second = change(13)
        _wait_for("the pause", lambda: _paused(world), worker)
        assert _operation_status(world, second) == "pending"

        # The right secret saved: the worker probes at once with it and delivers.
        fixed = api.put("/v1/connections/at1/credentials", headers=r1, json={"secret": world.sandbox.secret})
        assert _ok(fixed)["credentials_check"]["ok"] is True
        _wait_for("the second change", lambda: _operation_status(world, second) == "succeeded", worker)
        assert not _paused(world)
        (adjustment,) = _ok(api.get(f"/v1/operations/{second}", headers=r1))["adjustments"]
        effective = date.fromisoformat(adjustment["effective_date"])
        assert _units_on(_sandbox_units(world, contract_service_id), effective) == 13
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def test_stored_credentials_that_cannot_be_sent_fail_clearly(sandbox_world: World) -> None:
    """Credentials stored before they were checked (the issue's "pässwört"): no 500 anywhere,
    and the worker fails the row with the reason and an alert instead of holding it silently."""
    from sqlalchemy import update

    from contractsync.adapters.db.session import transaction
    from contractsync.adapters.db.tables import connections
    from tests.integration.api.test_end_to_end_http import _run_worker

    world = sandbox_world
    api, r1 = world.api, world.tokens["r1"]
    _ok(api.post("/v1/deliveries/run", headers=world.tokens["admin"]))
    context = world.service.context
    with transaction(context.sessions) as session:
        session.execute(
            update(connections)
            .where(connections.c.id == "at1")
            .values(
                secret_encrypted=context.secrets.encrypt("pässwört"),
                credentials_version=connections.c.credentials_version + 1,
            )
        )
    for path, params in (
        ("/v1/contracts", {"connection_id": "at1"}),
        ("/v1/reconciliation", {"connection_id": "at1"}),
    ):
        response = api.get(path, headers=r1, params=params)
        assert response.status_code == 422, response.text
        assert "printable ASCII" in response.json()["error"]["message"]
        assert "pässwört" not in response.text
    (record,) = _ok(
        api.post(
            "/v1/subscriptions/s1/operations", headers=r1, json={"type": "update_quantity", "quantity": 14}
        )
    )
    _run_worker(world)
    operation = _ok(api.get(f"/v1/operations/{record['id']}", headers=r1))
    assert operation["status"] == "failed"
    assert "printable ASCII" in operation["reason"] and "pässwört" not in operation["reason"]
    alerts = _ok(api.get("/v1/alerts", headers=r1))
    assert any(a["kind"] == "out_of_sync" and a["subscription_id"] == "s1" for a in alerts)
