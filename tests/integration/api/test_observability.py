"""/healthz, /metrics, the request middleware and JSON logging."""

from __future__ import annotations

import io
import json
import logging

import structlog

from contractsync.adapters.logging import bound
from contractsync.adapters.metrics import Metrics
from contractsync.api.app import create_api
from contractsync.service.facade import ContractSync
from tests.integration.api.conftest import ADMIN, TestClient
from tests.memory_service import ADMIN_TOKEN, BreakableUnits, memory_service


def log_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_healthz_needs_no_token(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_is_503_when_the_database_is_unreachable(client: TestClient) -> None:
    units = BreakableUnits()
    service = memory_service(units=units)
    client.app.state.service, client.app.state.health = service, service.health  # type: ignore[attr-defined]
    assert client.get("/healthz").status_code == 200
    units.failure = ConnectionError("could not connect to server")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"


def test_healthz_is_503_when_the_check_raises() -> None:
    def check() -> bool:
        raise ConnectionError("could not connect to server")

    with TestClient(create_api(memory_service(), health=check)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert "could not connect" not in response.text


def test_metrics_count_requests_by_route_template(client: TestClient, metrics: Metrics) -> None:
    client.get("/v1/subscriptions/abc", headers=ADMIN)  # 404
    client.get("/v1/subscriptions/def", headers=ADMIN)
    client.get("/v1/alerts")  # 401
    metrics.record_group_commit(12)
    response = client.get("/metrics", headers=ADMIN)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert (
        'contractsync_http_requests_total{method="GET",route="/v1/subscriptions/{subscription_id}",status="404"} 2.0'
        in text
    )
    assert 'contractsync_http_requests_total{method="GET",route="/v1/alerts",status="401"} 1.0' in text
    assert "abc" not in text
    assert "contractsync_group_commit_operations_count 1.0" in text
    assert "contractsync_group_commit_operations_sum 12.0" in text
    # Only what this process really counts: nothing here claims deliveries or an outbox depth
    # (those are read from the database at scrape time, by the collectors `serve` adds).
    assert "contractsync_outbox_depth" not in text and "contractsync_deliveries" not in text


def test_each_app_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.record_request("GET", "/v1/only-the-first", 200, 0.01)
    assert b"/v1/only-the-first" in first.render()
    assert b"/v1/only-the-first" not in second.render()


def test_logs_are_json_lines_without_secrets(json_logs: io.StringIO) -> None:
    log = structlog.get_logger("test")
    with bound(operation_id=42):
        log.info("sent", secret="hunter2", headers={"Authorization": "Bearer t0k3n", "Accept": "*/*"})
    logging.getLogger("stdlib").warning("from the standard library")
    sent, stdlib = log_lines(json_logs)
    assert sent["event"] == "sent"
    assert sent["level"] == "info"
    assert sent["operation_id"] == 42
    assert "timestamp" in sent
    assert sent["secret"] == "***"
    assert sent["headers"] == {"Authorization": "***", "Accept": "*/*"}
    assert stdlib["event"] == "from the standard library"
    assert stdlib["level"] == "warning"


def test_request_log_has_no_authorization_header(client: TestClient, json_logs: io.StringIO) -> None:
    client.get("/v1/alerts", headers=ADMIN)
    lines = log_lines(json_logs)
    assert any(line["event"] == "request" and line["route"] == "/v1/alerts" for line in lines)
    assert ADMIN_TOKEN not in json.dumps(lines)


def test_unexpected_failure_is_logged_not_answered(json_logs: io.StringIO) -> None:
    units = BreakableUnits()
    service: ContractSync = memory_service(units=units)
    with TestClient(create_api(service), raise_server_exceptions=False) as client:
        assert client.get("/v1/alerts", headers=ADMIN).status_code == 200  # the token is known now
        units.failure = RuntimeError("SELECT secret FROM connections")
        response = client.get("/v1/alerts", headers=ADMIN)
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal"
    assert "SELECT" not in response.text
    (failure,) = [line for line in log_lines(json_logs) if line["event"] == "unhandled_error"]
    assert "RuntimeError" in str(failure["exception"])
