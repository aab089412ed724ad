"""The hot route's fast path (`api/fast_path.py`), on the real service and both databases: a plain
`POST /v1/subscriptions/{id}/operations` skips FastAPI's routing and dependency solving and
answers exactly what FastAPI answers; every other request goes to FastAPI, with its body."""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from contractsync.api import deps
from contractsync.service.token_authority import CACHE_SECONDS, REFRESH_AFTER
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
def app(database_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, Any]]:
    posts = [
        ("/v1/resellers", {"id": "r1", "name": "R1", "promotion_setting": "keep"}),
        ("/v1/customers", {"id": "c1", "reseller_id": "r1", "name": "Contoso"}),
        ("/v1/subscriptions", _subscription("s1")),
        ("/v1/subscriptions", _subscription("s2")),
    ]
    with real_client(database_url, tmp_path, ADMIN_TOKEN, NOW, posts) as (client, service):
        yield client, service


def answered(client: TestClient) -> int:
    """How many requests the fast path answered (FastAPI answered the rest)."""
    return int(client.app.fast_path.answered)  # type: ignore[attr-defined]


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
    app: tuple[TestClient, Any],
) -> None:
    client, _ = app
    before = answered(client)
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
    assert answered(client) - before == 3
    assert _quantities(client) == {"s1": 12, "s2": 12}
    names = {
        s["id"]: s["friendly_name"] for s in client.get("/v1/subscriptions", headers=ADMIN).json()["items"]
    }
    assert names == {"s1": "Sales", "s2": "Sales"}


def test_the_services_refusals_on_the_fast_path_are_the_apps_error_answers(
    app: tuple[TestClient, Any],
) -> None:
    client, _ = app
    before = answered(client)
    for sid, body, status in (
        ("nope", {"type": "update_quantity", "quantity": 3}, 404),
        ("s1", {"type": "reactivate"}, 422),  # an active subscription: not suspended
        ("s1", {"type": "update_quantity", "quantity": 3, "effective_date": "2099-01-01"}, 422),
    ):
        fast = client.post(f"/v1/subscriptions/{sid}/operations", json=body, headers=ADMIN)
        slow = _through_fastapi(client, f"/v1/subscriptions/{sid}/operations", body, ADMIN)
        assert (fast.status_code, fast.json()) == (slow.status_code, slow.json()), (fast.text, slow.text)
        assert fast.status_code == status and set(fast.json()) == {"error"}, fast.text
    assert answered(client) - before == 3
    assert _quantities(client) == {"s1": 10, "s2": 10}


def test_anything_but_a_plain_call_gets_fastapis_own_answer(app: tuple[TestClient, Any]) -> None:
    client, _ = app
    before = answered(client)
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
        (client.post("/v1/subscriptions/s%01/operations", json=good, headers=ADMIN), 422),  # control char
    ):
        assert response.status_code == status, response.text
        assert set(response.json()) == {"error"}, response.text
    assert answered(client) == before
    assert _quantities(client) == {"s1": 10, "s2": 10}


def test_a_token_not_yet_cached_is_checked_by_fastapi_then_taken_from_the_cache(
    app: tuple[TestClient, Any],
) -> None:
    client, service = app
    before = answered(client)
    token = service.create_token("r1")
    headers = {"Authorization": f"Bearer {token}"}
    for quantity in (4, 5):
        answer = client.post("/v1/subscriptions/s1/operations", json={"type": "update_quantity",
                                                                       "quantity": quantity}, headers=headers)  # fmt: skip
        assert answer.status_code == 200, answer.text
    assert answered(client) - before == 1  # the second
    assert _quantities(client)["s1"] == 5


def test_dependency_overrides_turn_the_fast_path_off(app: tuple[TestClient, Any]) -> None:
    client, service = app
    before = answered(client)
    client.app.dependency_overrides[deps.get_actor] = lambda: service.authenticate(ADMIN_TOKEN)  # type: ignore[attr-defined]
    answer = client.post("/v1/subscriptions/s1/operations", json={"type": "cancel"}, headers=ADMIN)
    assert answer.status_code == 200, answer.text
    assert answered(client) == before


def test_the_fast_paths_answers_are_counted_and_logged_as_every_request(
    app: tuple[TestClient, Any], json_logs: io.StringIO
) -> None:
    client, _ = app
    before = answered(client)
    for sid, quantity in (("s1", 11), ("s1", 12), ("nope", 3)):
        client.post(f"/v1/subscriptions/{sid}/operations", json={"type": "update_quantity",
                                                                  "quantity": quantity}, headers=ADMIN)  # fmt: skip
    assert answered(client) - before == 3
    logged = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    requests = [(line["route"], line["status"]) for line in logged if line.get("event") == "request"]
    route = "/v1/subscriptions/{subscription_id}/operations"
    assert requests == [(route, 200), (route, 200), (route, 404)]
    metrics = client.get("/metrics", headers=ADMIN).text
    assert f'contractsync_http_requests_total{{method="POST",route="{route}",status="200"}} 2.0' in metrics
    assert f'contractsync_http_requests_total{{method="POST",route="{route}",status="404"}} 1.0' in metrics


def test_a_token_due_to_be_read_again_sends_one_request_through_fastapi(app: tuple[TestClient, Any]) -> None:
    """Under load every request in flight would miss the cache at once when its entry ends;
    instead the first request after `REFRESH_AFTER` of its life reads the token again."""
    client, service = app
    clock = service.context.clock

    def post(quantity: int) -> int:
        body = {"type": "update_quantity", "quantity": quantity}
        return int(client.post("/v1/subscriptions/s1/operations", json=body, headers=ADMIN).status_code)

    assert post(4) == 200  # cached (the fixture's requests read it)
    clock.advance(CACHE_SECONDS * REFRESH_AFTER)
    before = answered(client)
    assert [post(q) for q in (5, 6, 7)] == [200] * 3
    assert answered(client) - before == 2  # the first went through FastAPI, which read it again
    clock.advance(CACHE_SECONDS * (1 - REFRESH_AFTER))  # the old entry's end: the new one holds
    before = answered(client)
    assert post(8) == 200
    assert answered(client) - before == 1
    assert _quantities(client)["s1"] == 8
