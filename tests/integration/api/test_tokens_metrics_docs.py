"""GET/DELETE /v1/tokens, /metrics behind a token or on its own address, /docs and /openapi.json
as configured, and `Allow` naming every method of a path."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest

from contractsync.adapters.metrics import Metrics
from contractsync.api.app import create_api
from contractsync.api.metrics_server import MetricsServer, parse_bind
from contractsync.service.actor import ADMIN as ADMIN_ACTOR
from contractsync.service.facade import ContractSync
from tests.integration.api.conftest import ADMIN, TestClient, bearer
from tests.memory_service import ADMIN_TOKEN, RESELLER_TOKEN, memory_service, reseller_service

RESELLER = bearer(RESELLER_TOKEN)
METRICS_TOKEN = "a-scraper-token-of-enough-length"


def test_the_provider_lists_and_revokes_tokens(client: TestClient, service: ContractSync) -> None:
    service.create_reseller(ADMIN_ACTOR, {"id": "r1", "name": "R1", "promotion_setting": "keep"})
    reseller_token = service.create_token("r1")
    listed = client.get("/v1/tokens", headers=ADMIN)
    assert listed.status_code == 200
    mine = next(t for t in listed.json() if t["reseller_id"] == "r1")
    assert mine["kind"] == "reseller" and reseller_token not in listed.text
    assert client.get("/v1/tokens", headers=bearer(reseller_token)).status_code == 403
    assert client.delete(f"/v1/tokens/{mine['id']}", headers=bearer(reseller_token)).status_code == 403
    assert client.delete(f"/v1/tokens/{mine['id']}", headers=ADMIN).status_code == 204
    assert client.get("/v1/resellers", headers=bearer(reseller_token)).status_code == 401
    assert client.delete(f"/v1/tokens/{mine['id']}", headers=ADMIN).status_code == 404
    assert client.delete("/v1/tokens/0", headers=ADMIN).status_code == 422
    assert client.delete("/v1/tokens/1", headers={}).status_code == 401


@pytest.fixture
def metrics_client() -> Any:
    with TestClient(create_api(reseller_service(), metrics_token=METRICS_TOKEN)) as client:
        yield client


def test_metrics_need_the_admin_or_the_metrics_token(metrics_client: TestClient) -> None:
    anonymous = metrics_client.get("/metrics")
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    assert metrics_client.get("/metrics", headers=bearer("wrong-token-wrong-token-wrong")).status_code == 401
    assert metrics_client.get("/metrics", headers=RESELLER).status_code == 403
    assert metrics_client.get("/metrics", headers=ADMIN).status_code == 200
    scraped = metrics_client.get("/metrics", headers=bearer(METRICS_TOKEN))
    assert scraped.status_code == 200 and "contractsync_http_requests_total" in scraped.text
    # The metrics token opens nothing else.
    assert metrics_client.get("/v1/resellers", headers=bearer(METRICS_TOKEN)).status_code == 401


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_metrics_on_their_own_address_need_no_token_and_leave_the_api_port() -> None:
    metrics = Metrics()
    metrics.record_group_commit(7)
    with TestClient(create_api(memory_service(), metrics=metrics, serve_metrics=False)) as client:
        assert client.get("/metrics", headers=ADMIN).status_code == 404
        assert "/metrics" not in client.app.openapi()["paths"]  # type: ignore[attr-defined]
    port = _free_port()
    server = MetricsServer(metrics, f"127.0.0.1:{port}").start()
    try:
        answer = _get_when_up(f"http://127.0.0.1:{port}/metrics")
        assert answer.status_code == 200 and "contractsync_group_commit_operations_sum 7.0" in answer.text
        assert httpx.get(f"http://127.0.0.1:{port}/v1/resellers", headers=ADMIN).status_code == 404
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 404
    finally:
        server.stop()


def _get_when_up(url: str) -> httpx.Response:
    for _ in range(200):
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            import time

            time.sleep(0.025)
    raise AssertionError(f"nothing answered at {url}")


@pytest.mark.parametrize("bind", ["9100", "host:", ":9100", "host:99999", "host:9x"])
def test_a_malformed_metrics_bind_is_refused(bind: str) -> None:
    with pytest.raises(ValueError, match="host:port"):
        parse_bind(bind)


def test_parse_bind_accepts_ipv6() -> None:
    assert parse_bind("[::1]:9100") == ("::1", 9100)


def test_docs_on_auth_and_off() -> None:
    service = reseller_service()
    with TestClient(create_api(service, api_docs="on")) as client:
        assert client.get("/openapi.json").status_code == 200
        assert "swagger" in client.get("/docs").text.lower()
    with TestClient(create_api(service)) as client:  # "auth", the default
        assert client.get("/openapi.json").status_code == 401
        assert client.get("/openapi.json", headers=bearer("not-a-token-not-a-token-123")).status_code == 401
        assert client.get("/openapi.json", headers=RESELLER).json()["info"]["title"] == "contractsync"
        assert client.get("/openapi.json", headers=ADMIN).status_code == 200
        assert client.get("/docs").status_code == 401  # no console mounted to sign in with
    with TestClient(create_api(service, api_docs="off")) as client:
        assert client.get("/openapi.json", headers=ADMIN).status_code == 404
        assert client.get("/docs", headers=ADMIN).status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/v1/resellers", "GET, POST"),
        ("DELETE", "/v1/connections", "GET, POST"),
        ("PATCH", "/v1/subscriptions", "GET, POST"),
        ("GET", "/v1/operations/batch", "POST"),
        ("GET", "/v1/operations/1/retry", "POST"),
        ("DELETE", "/v1/reconciliation", "GET, POST"),
        ("POST", "/v1/tokens/1", "DELETE"),
        ("POST", "/v1/mappings/subscriptions/s1", "DELETE"),
        ("GET", "/v1/mappings/subscriptions", "POST"),
    ],
)
def test_a_wrong_method_is_405_with_every_allowed_method(
    client: TestClient, method: str, path: str, allow: str
) -> None:
    response = client.request(method, path, headers=ADMIN)
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == allow
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_admin_token_constant_is_what_the_test_service_accepts() -> None:
    assert memory_service().authenticate(ADMIN_TOKEN).is_admin


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("metrics_token", "too-short", "at least 24"),
        ("metrics_bind", "9100", "host:port"),
        ("trusted_proxies", "10.0.0.1, proxy.local", "not an IP address"),
        ("api_docs", "maybe", "on"),
    ],
)
def test_malformed_security_settings_are_refused_at_start(name: str, value: str, reason: str) -> None:
    from pydantic import ValidationError

    from contractsync.settings import Settings

    with pytest.raises(ValidationError, match=reason):
        Settings(_env_file=None, **{name: value})
