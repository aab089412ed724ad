"""End to end over real HTTP: the API (uvicorn) on the real façade and database, the Autotask
sandbox, and the real worker — on SQLite and PostgreSQL. Then tenant isolation on every endpoint."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from contractsync.adapters.clock import SystemClock
from contractsync.api import answers
from contractsync.api.app import create_api
from contractsync.sandbox.server import SandboxServer
from tests.integration.api.api_server import ApiServer

ADMIN_TOKEN = "e2e-admin-token-0123456789"
TODAY = datetime.now(UTC).date()  # the service and the sandbox count days in UTC


@dataclass
class World:
    api: httpx.Client
    sandbox: SandboxServer
    service: Any
    settings: Any
    tokens: dict[str, dict[str, str]]  # reseller id (or "admin") → auth headers
    ids: dict[str, int]  # sandbox ids by name


def _iso(day: date) -> str:
    return day.isoformat()


def _seed_sandbox(sandbox: SandboxServer) -> dict[str, int]:
    # Contracts around today, so the test means the same whenever it runs.
    start, end = TODAY.replace(day=1) - timedelta(days=365), TODAY + timedelta(days=730)
    contract = {
        "contractType": 7,
        "contractPeriodType": 1,
        "status": 1,
        "startDate": f"{_iso(start)}T00:00:00",
        "endDate": f"{_iso(end)}T00:00:00",
    }
    body = {
        "companies": [
            {
                "id": 501,
                "companyName": "Contoso Ltd",
                "companyType": 1,
                "phone": "+1 555 0100",
                "ownerResourceID": 29682885,
            },
            {
                "id": 502,
                "companyName": "Fabrikam Inc",
                "companyType": 1,
                "phone": "+1 555 0101",
                "ownerResourceID": 29682885,
            },
        ],
        "services": [
            {
                "id": 601,
                "name": "Microsoft 365 E5",
                "unitCost": "10.0000",
                "unitPrice": "12.0000",
                "periodType": 1,
            }
        ],
        "contracts": [
            {"id": 701, "companyID": 501, "contractName": "Contoso CSP", **contract},
            {"id": 702, "companyID": 502, "contractName": "Fabrikam CSP", **contract},
        ],
    }
    response = httpx.post(f"{sandbox.base_url}/sandbox/seed", json=body, timeout=10)
    assert response.status_code == 200, response.text
    return {"company1": 501, "company2": 502, "service": 601, "contract1": 701, "contract2": 702}


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    from contractsync.bootstrap import build_app_service
    from contractsync.settings import Settings

    with SandboxServer() as sandbox:
        settings = Settings(
            database_url=database_url,
            admin_token=ADMIN_TOKEN,
            secret_key=Fernet.generate_key().decode(),
            data_dir=tmp_path,
            psa_allowed_hosts=sandbox.allowed_host,  # as the demo allows its own sandbox
        )
        service = build_app_service(settings, upgrade=False)
        yield from _world(settings, service, sandbox)


def _world(settings: Any, service: Any, sandbox: SandboxServer) -> Iterator[World]:
    with ApiServer(create_api(service)) as server:
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with httpx.Client(base_url=server.url, timeout=30) as api:
            ids = _seed_sandbox(sandbox)
            tokens = {"admin": admin}
            for n in ("1", "2"):
                _setup_reseller(api, admin, service, sandbox, ids, n, tokens)
            yield World(api, sandbox, service, settings, tokens, ids)


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: {response.text}"
    )
    return response.json() if response.content else None


def _setup_reseller(
    api: httpx.Client,
    admin: dict[str, str],
    service: Any,
    sandbox: SandboxServer,
    ids: dict[str, int],
    n: str,
    tokens: dict[str, dict[str, str]],
) -> None:
    reseller = f"r{n}"
    _ok(
        api.post(
            "/v1/resellers",
            json={"id": reseller, "name": f"Reseller {n}", "promotion_setting": "keep"},
            headers=admin,
        ),
        201,
    )
    headers = tokens[reseller] = {"Authorization": f"Bearer {service.create_token(reseller)}"}
    connection = _ok(
        api.post(
            "/v1/connections",
            headers=headers,
            json={
                "id": f"at{n}",
                "reseller_id": reseller,
                "kind": "autotask",
                "username": sandbox.username,
                "secret": sandbox.secret,
                "integration_code": sandbox.integration_code,
                "base_url": sandbox.base_url,
                "timezone": "UTC",
                "settle_seconds": 0,
            },
        ),
        201,
    )
    assert "secret" not in connection
    _ok(
        api.post(
            "/v1/customers",
            headers=headers,
            json={
                "id": f"c{n}",
                "reseller_id": reseller,
                "name": f"Customer {n}",
                "provider_margins": {"microsoft": "20"},
            },
        ),
        201,
    )
    _ok(
        api.post(
            "/v1/subscriptions",
            headers=headers,
            json={
                "id": f"s{n}",
                "customer_id": f"c{n}",
                "offer_id": "CFQ7TTC0LF8S:0001",
                "offer_name": "Microsoft 365 E5",
                "kind": "nce",
                "quantity": 10,
                "term": "P1Y",
                "billing_cycle": "monthly",
                "start_date": _iso(TODAY - timedelta(days=60)),
                "end_date": _iso(TODAY - timedelta(days=60) + timedelta(days=364)),
                "auto_renew": True,
                "list_price": "10.00",
            },
        ),
        201,
    )
    _ok(
        api.post(
            "/v1/mappings/customers",
            headers=headers,
            json={"customer_id": f"c{n}", "connection_id": f"at{n}", "company_id": ids[f"company{n}"]},
        ),
        201,
    )
    _ok(
        api.post(
            "/v1/mappings/subscriptions",
            headers=headers,
            json={
                "subscription_id": f"s{n}",
                "connection_id": f"at{n}",
                "contract_id": ids[f"contract{n}"],
                "service_id": ids["service"],
            },
        ),
        201,
    )


def _run_worker(world: World) -> None:
    """A separate worker, as `contractsync worker --once` would run it."""
    from contractsync.bootstrap import build_worker, connector_cache

    worker = build_worker(world.service.context.sessions, connector_cache(world.settings), SystemClock())
    worker.run_once()


def _sandbox_units(world: World, contract_service_id: int) -> list[dict[str, Any]]:
    body = {
        "filter": [{"op": "eq", "field": "contractServiceID", "value": contract_service_id}],
        "MaxRecords": 500,
    }
    response = httpx.post(
        f"{world.sandbox.api_url}/ContractServiceUnits/query",
        json=body,
        headers=world.sandbox.headers,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _units_on(rows: list[dict[str, Any]], day: date) -> int:
    (row,) = [r for r in rows if r["startDate"][:10] <= _iso(day) <= r["endDate"][:10]]
    return int(row["units"])


def test_quantity_change_reaches_autotask(world: World) -> None:
    api, r1 = world.api, world.tokens["r1"]
    # The mapping is delivered through the API's own delivery run.
    _ok(api.post("/v1/deliveries/run", headers=world.tokens["admin"]))
    subscription = _ok(api.get("/v1/subscriptions/s1", headers=r1))
    assert subscription["sync_state"] == "synced", subscription
    contract_service_id = subscription["mapping"]["contract_service_id"]
    assert _units_on(_sandbox_units(world, contract_service_id), TODAY) == 10

    records = _ok(
        api.post(
            "/v1/subscriptions/s1/operations", headers=r1, json={"type": "update_quantity", "quantity": 15}
        )
    )
    assert [r["type"] for r in records] == ["UpdateSubscriptionQuantityOnConnection"]
    assert _ok(api.get("/v1/subscriptions/s1", headers=r1))["sync_state"] == "pending"

    _run_worker(world)

    audit = _ok(api.get("/v1/operations", headers=r1, params={"subscription_id": "s1"}))
    assert audit["total"] >= 2
    # The real answers have the shapes the OpenAPI document promises.
    answers.OperationPage.model_validate(audit)
    answers.Subscription.model_validate(subscription)
    answers.SubscriptionPage.model_validate(_ok(api.get("/v1/subscriptions", headers=r1)))
    for connection in _ok(api.get("/v1/connections", headers=r1)):
        answers.Connection.model_validate(connection)
        assert "secret" not in connection
    for customer in _ok(api.get("/v1/customers", headers=r1)):
        answers.Customer.model_validate(customer)
    for contract in _ok(
        api.get("/v1/contracts", headers=r1, params={"connection_id": "at1", "company_id": 501})
    ):
        answers.Contract.model_validate(contract)
    for line in _ok(
        api.get("/v1/contract-services", headers=r1, params={"connection_id": "at1", "contract_id": 701})
    ):
        answers.ContractService.model_validate(line)
    for service in _ok(api.get("/v1/services", headers=r1, params={"connection_id": "at1"})):
        answers.Service.model_validate(service)
    answers.Reconciliation.model_validate(
        _ok(api.get("/v1/reconciliation", headers=r1, params={"connection_id": "at1"}))
    )
    latest = audit["items"][0]  # newest first
    assert latest["id"] == records[0]["id"]
    assert latest["status"] == "succeeded", latest
    (adjustment,) = latest["adjustments"]
    assert adjustment["unit_change"] == 5
    assert adjustment["status"] == "sent"
    assert _ok(api.get(f"/v1/operations/{latest['id']}", headers=r1))["status"] == "succeeded"
    assert _ok(api.get("/v1/subscriptions/s1", headers=r1))["sync_state"] == "synced"
    effective = date.fromisoformat(adjustment["effective_date"])
    assert _units_on(_sandbox_units(world, contract_service_id), effective) == 15


def test_a_batch_of_operations_reaches_autotask(world: World) -> None:
    api, r1 = world.api, world.tokens["r1"]
    _ok(api.post("/v1/deliveries/run", headers=world.tokens["admin"]))
    contract_service_id = _ok(api.get("/v1/subscriptions/s1", headers=r1))["mapping"]["contract_service_id"]
    malformed = api.post("/v1/operations/batch", headers=r1, json={"operations": [{"subscription_id": "s1"}]})
    assert malformed.status_code == 422 and "operations[0]" in malformed.json()["error"]["message"]

    batch = {"operations": [
        {"subscription_id": "s1", "type": "update_quantity", "quantity": 11},
        {"subscription_id": "s1", "type": "update_quantity", "quantity": 13},
        {"subscription_id": "no-such", "type": "cancel"},
    ]}  # fmt: skip
    answer = _ok(api.post("/v1/operations/batch", headers=r1, json=batch))
    answers.OperationBatch.model_validate(answer)
    assert [r["status"] for r in answer["results"]] == ["applied", "applied", "refused"]
    _run_worker(world)
    [record] = answer["results"][1]["records"]
    [adjustment] = record["adjustments"]  # the first change was carried by the second: 13 is sent once
    assert adjustment["unit_change"] == 3
    effective = date.fromisoformat(adjustment["effective_date"])
    assert _units_on(_sandbox_units(world, contract_service_id), effective) == 13
    last = record["id"]
    assert _ok(api.get(f"/v1/operations/{last}", headers=r1))["status"] == "succeeded"


def test_reseller_tokens_see_only_their_own(world: World) -> None:
    api, r1, r2 = world.api, world.tokens["r1"], world.tokens["r2"]
    _ok(api.post("/v1/deliveries/run", headers=world.tokens["admin"]))
    operation_id = _ok(api.get("/v1/operations", headers=r1))["items"][0]["id"]
    before = _ok(api.get("/v1/subscriptions/s1", headers=r1))

    # A reseller cannot create resellers.
    refused = api.post(
        "/v1/resellers", headers=r1, json={"id": "r9", "name": "x", "promotion_setting": "keep"}
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"

    sub = {
        "customer_id": "c1",
        "offer_id": "X:1",
        "offer_name": "X",
        "kind": "nce",
        "quantity": 1,
        "term": "P1M",
        "billing_cycle": "monthly",
        "start_date": _iso(TODAY),
        "end_date": _iso(TODAY + timedelta(days=30)),
        "auto_renew": False,
        "list_price": "1.00",
    }
    foreign: list[tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]] = [
        ("POST", "/v1/resellers/r1/billing-approvals", None, {"approved_through": _iso(TODAY)}),
        (
            "POST",
            "/v1/connections",
            None,
            {
                "id": "at9",
                "reseller_id": "r1",
                "kind": "autotask",
                "username": "u",
                "secret": "s",
                "integration_code": "c",
                "timezone": "UTC",
            },
        ),
        ("POST", "/v1/customers", None, {"id": "c9", "reseller_id": "r1", "name": "x"}),
        ("PUT", "/v1/customers/c1/provider-margins/microsoft", None, {"margin_percent": "30"}),
        ("POST", "/v1/subscriptions", None, {"id": "s9", **sub}),
        ("GET", "/v1/subscriptions/s1", None, None),
        ("POST", "/v1/subscriptions/s1/operations", None, {"type": "update_quantity", "quantity": 1}),
        ("POST", "/v1/subscriptions/s1/operations", None, {"type": "cancel", "preview": True}),
        (
            "POST",
            "/v1/subscriptions/s2/operations",
            None,
            {"type": "upgrade", "target_subscription_id": "s1", "quantity": 1},
        ),
        (
            "POST",
            "/v1/subscriptions/s2/operations",
            None,
            {"type": "change_reseller", "reseller_id": "r1", "customer_id": "c1"},
        ),
        ("GET", f"/v1/operations/{operation_id}", None, None),
        ("POST", f"/v1/operations/{operation_id}/retry", None, None),
        (
            "POST",
            "/v1/mappings/customers",
            None,
            {"customer_id": "c1", "connection_id": "at2", "company_id": 502},
        ),
        (
            "POST",
            "/v1/mappings/customers",
            None,
            {"customer_id": "c2", "connection_id": "at1", "company_id": 501},
        ),
        (
            "POST",
            "/v1/mappings/subscriptions",
            None,
            {"subscription_id": "s1", "connection_id": "at2", "contract_id": 702, "service_id": 601},
        ),
        (
            "POST",
            "/v1/mappings/subscriptions",
            None,
            {"subscription_id": "s2", "connection_id": "at1", "contract_id": 701, "service_id": 601},
        ),
        ("DELETE", "/v1/mappings/subscriptions/s1", None, None),
        ("GET", "/v1/contracts", {"connection_id": "at1"}, None),
        ("GET", "/v1/contract-services", {"connection_id": "at1", "contract_id": 701}, None),
        ("GET", "/v1/services", {"connection_id": "at1"}, None),
        ("GET", "/v1/reconciliation", {"connection_id": "at1"}, None),
        ("POST", "/v1/reconciliation", None, {"connection_id": "at1", "fix": True}),
    ]
    for method, path, params, body in foreign:
        response = api.request(method, path, params=params, json=body, headers=r2)
        assert response.status_code == 404, (method, path, response.status_code, response.text)
        assert response.json()["error"]["code"] == "not_found"

    # Lists and filters show none of the other reseller's records.
    listed = {
        "resellers": _ok(api.get("/v1/resellers", headers=r2)),
        "connections": _ok(api.get("/v1/connections", headers=r2)),
        "customers": _ok(api.get("/v1/customers", headers=r2)),
        "subscriptions": _ok(api.get("/v1/subscriptions", headers=r2))["items"],
        "operations": _ok(api.get("/v1/operations", headers=r2))["items"],
        "manual_actions": _ok(api.get("/v1/manual-actions", headers=r2)),
        "alerts": _ok(api.get("/v1/alerts", headers=r2)),
    }
    assert [r["id"] for r in listed["resellers"]] == ["r2"]
    assert [c["id"] for c in listed["connections"]] == ["at2"]
    assert [c["id"] for c in listed["customers"]] == ["c2"]
    assert [s["id"] for s in listed["subscriptions"]] == ["s2"]
    assert operation_id not in [o["id"] for o in listed["operations"]]
    for item in listed["operations"] + listed["manual_actions"] + listed["alerts"]:
        assert item.get("subscription_id") in (None, "s2"), item
    for params in ({"customer_id": "c1"}, {"subscription_id": "s1"}):
        path = "/v1/subscriptions" if "customer_id" in params else "/v1/operations"
        response = api.get(path, params=params, headers=r2)
        assert response.status_code == 404 or response.json()["items"] == [], response.text

    # Nothing the refusals touched changed.
    after = _ok(api.get("/v1/subscriptions/s1", headers=r1))
    assert after == before
    assert "s9" not in [
        s["id"] for s in _ok(api.get("/v1/subscriptions", headers=world.tokens["admin"]))["items"]
    ]


def test_operator_commands_on_the_real_service(world: World, json_logs: io.StringIO) -> None:
    # json_logs: log lines go to their own stream, as the real command's do (stderr), not stdout.
    import json

    import typer
    from typer.testing import CliRunner

    from contractsync.cli.app import register_service_commands as register

    app = typer.Typer()
    app.callback()(lambda: None)
    register(app, build_service=lambda: world.service)
    runner = CliRunner()

    token = runner.invoke(app, ["tokens", "create", "--reseller", "r1"])
    assert token.exit_code == 0, token.output
    headers = {"Authorization": f"Bearer {token.stdout.strip()}"}
    assert [r["id"] for r in _ok(world.api.get("/v1/resellers", headers=headers))] == ["r1"]
    assert runner.invoke(app, ["tokens", "create", "--reseller", "nobody"]).exit_code == 2

    delivered = runner.invoke(app, ["deliveries", "run", "--format", "json"])
    assert delivered.exit_code == 0, delivered.output
    json.loads(delivered.stdout)

    sweep = runner.invoke(app, ["sweep", "--date", _iso(TODAY), "--preview", "--format", "json"])
    assert sweep.exit_code == 0, sweep.output
    assert json.loads(sweep.stdout)["date"] == _iso(TODAY)

    drift = runner.invoke(app, ["reconcile", "--format", "json"])
    assert drift.exit_code == 0, drift.output
    assert json.loads(drift.stdout)["differences"] == []
    assert runner.invoke(app, ["reconcile", "--connection", "nope"]).exit_code == 2
