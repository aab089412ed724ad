"""The hot route's fast path (`api/fast_path.py`), on the real service and both databases: a plain
`POST /v1/subscriptions/{id}/operations` skips FastAPI's routing and dependency solving and
answers exactly what FastAPI answers; every other request goes to FastAPI, with its body."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from contractsync.api import deps
from contractsync.api.fast_path import OperationFastPath
from tests.integration.api.conftest import real_client

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    from starlette.testclient import TestClient

ADMIN_TOKEN = "cs_fast-path-admin-token-for-tests-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _subscription(sid: str) -> dict[str, Any]:
    return {
        "id": sid, "customer_id": "c1", "offer_id": "CFQ7TTC0LF8S:0001", "offer_name": "Microsoft 365 E5",
        "kind": "nce", "quantity": 10, "term": "P1Y", "billing_cycle": "monthly",
        "start_date": "2026-01-15", "end_date": "2027-01-14", "auto_renew": True, "list_price": "10.00",
    }  # fmt: skip


@pytest.fixture
def fast_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The subscription ids the fast path answered (FastAPI answered the rest)."""
    calls: list[str] = []
    original = OperationFastPath._endpoint

    async def counted(self: OperationFastPath, scope: Any, receive: Any, send: Any) -> None:
        calls.append(scope["path_params"]["subscription_id"])
        await original(self, scope, receive, send)

    monkeypatch.setattr(OperationFastPath, "_endpoint", counted)
    return calls


@pytest.fixture
def app(database_url: str, tmp_path: Path, fast_calls: list[str]) -> Iterator[tuple[TestClient, Any]]:
    posts = [
        ("/v1/resellers", {"id": "r1", "name": "R1", "promotion_setting": "keep"}),
        ("/v1/customers", {"id": "c1", "reseller_id": "r1", "name": "Contoso"}),
        ("/v1/subscriptions", _subscription("s1")),
        ("/v1/subscriptions", _subscription("s2")),
    ]
    with real_client(database_url, tmp_path, ADMIN_TOKEN, NOW, posts) as (client, service):
        yield client, service


def _through_fastapi(client: TestClient, path: str, body: Any, headers: dict[str, str]) -> Any:
    """The same request with a chunked body (no Content-Length): the fast path leaves it alone."""
    chunks = iter([json.dumps(body).encode()])
    return client.post(path, content=chunks, headers={**headers, "Content-Type": "application/json"})


def _without_ids(answer: Any) -> Any:
    if isinstance(answer, list):
        return [_without_ids(item) for item in answer]
    if isinstance(answer, dict):
        return {k: _without_ids(v) for k, v in answer.items() if k not in ("id", "subscription_id")}
    return answer


def _quantities(client: TestClient) -> dict[str, int]:
    page = client.get("/v1/subscriptions", headers=ADMIN).json()
    return {s["id"]: s["quantity"] for s in page["items"]}


def test_a_plain_operation_is_answered_by_the_fast_path_as_fastapi_answers_it(
    app: tuple[TestClient, Any], fast_calls: list[str]
) -> None:
    client, _ = app
    for body in (
        {"type": "update_quantity", "quantity": 12, "preview": True},
        {"type": "update_quantity", "quantity": 12},
        {"type": "update_friendly_name", "friendly_name": "Sales"},
    ):
        fast = client.post("/v1/subscriptions/s1/operations", json=body, headers=ADMIN)
        slow = _through_fastapi(client, "/v1/subscriptions/s2/operations", body, ADMIN)
        assert fast.status_code == slow.status_code == 200, (fast.text, slow.text)
        assert fast.headers["content-type"] == slow.headers["content-type"] == "application/json"
        assert _without_ids(fast.json()) == _without_ids(slow.json())  # [] while nothing is mapped
    assert fast_calls == ["s1", "s1", "s1"]
    assert _quantities(client) == {"s1": 12, "s2": 12}
    names = {
        s["id"]: s["friendly_name"] for s in client.get("/v1/subscriptions", headers=ADMIN).json()["items"]
    }
    assert names == {"s1": "Sales", "s2": "Sales"}


def test_the_services_refusals_on_the_fast_path_are_the_apps_error_answers(
    app: tuple[TestClient, Any], fast_calls: list[str]
) -> None:
    client, _ = app
    for sid, body, status in (
        ("nope", {"type": "update_quantity", "quantity": 3}, 404),
        ("s1", {"type": "reactivate"}, 422),  # an active subscription: not suspended
        ("s1", {"type": "update_quantity", "quantity": 3, "effective_date": "2099-01-01"}, 422),
    ):
        fast = client.post(f"/v1/subscriptions/{sid}/operations", json=body, headers=ADMIN)
        slow = _through_fastapi(client, f"/v1/subscriptions/{sid}/operations", body, ADMIN)
        assert (fast.status_code, fast.json()) == (slow.status_code, slow.json()), (fast.text, slow.text)
        assert fast.status_code == status and set(fast.json()) == {"error"}, fast.text
    assert fast_calls == ["nope", "s1", "s1"]
    assert _quantities(client) == {"s1": 10, "s2": 10}


def test_anything_but_a_plain_call_gets_fastapis_own_answer(
    app: tuple[TestClient, Any], fast_calls: list[str]
) -> None:
    client, _ = app
    ops = "/v1/subscriptions/s1/operations"
    good = {"type": "update_quantity", "quantity": 3}
    for response, status in (
        (client.post(ops + "?dry_run=1", json=good, headers=ADMIN), 422),  # unknown query parameter
        (client.post(ops, json={"type": "update_quantity", "quantity": -1}, headers=ADMIN), 422),
        (client.post(ops, json={"type": "nonsense"}, headers=ADMIN), 422),
        (client.post(ops, json=[good], headers=ADMIN), 422),
        (client.post(ops, content=b"{not json", headers={**ADMIN, "Content-Type": "application/json"}), 400),
        (client.post(ops, content=b"", headers={**ADMIN, "Content-Type": "application/json"}), 422),
        (client.post(ops, json=good), 401),  # no token
        (client.post(ops, json=good, headers={"Authorization": "Bearer unknown-token-0123456789"}), 401),
        (client.post(ops, json=good, headers={"Authorization": f"Basic {ADMIN_TOKEN}"}), 401),
        (client.post(f"/v1/subscriptions/{'s' * 101}/operations", json=good, headers=ADMIN), 422),
        (client.put(ops, json=good, headers=ADMIN), 405),
    ):
        assert response.status_code == status, response.text
        assert set(response.json()) == {"error"}, response.text
    assert fast_calls == []
    assert _quantities(client) == {"s1": 10, "s2": 10}


def test_a_token_not_yet_cached_is_checked_by_fastapi_then_taken_from_the_cache(
    app: tuple[TestClient, Any], fast_calls: list[str]
) -> None:
    client, service = app
    token = service.create_token("r1")
    headers = {"Authorization": f"Bearer {token}"}
    for quantity in (4, 5):
        answer = client.post("/v1/subscriptions/s1/operations", json={"type": "update_quantity",
                                                                       "quantity": quantity}, headers=headers)  # fmt: skip
        assert answer.status_code == 200, answer.text
    assert fast_calls == ["s1"]  # the second
    assert _quantities(client)["s1"] == 5


def test_dependency_overrides_turn_the_fast_path_off(
    app: tuple[TestClient, Any], fast_calls: list[str]
) -> None:
    client, service = app
    client.app.dependency_overrides[deps.get_actor] = lambda: service.authenticate(ADMIN_TOKEN)  # type: ignore[attr-defined]
    answer = client.post("/v1/subscriptions/s1/operations", json={"type": "cancel"}, headers=ADMIN)
    assert answer.status_code == 200, answer.text
    assert fast_calls == []
