"""Authentication and the error envelope, for every kind of refusal."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from contractsync.adapters.autotask import AutotaskClient, AutotaskConnector, Credentials, OutboundPolicy
from contractsync.api.app import create_api
from contractsync.ports.psa import ErrorKind
from contractsync.service.actor import ADMIN as ADMIN_ACTOR
from contractsync.service.facade import ContractSync
from tests.integration.api.conftest import ADMIN, TestClient, bearer
from tests.memory_service import connection, memory_service, snapshot
from tests.sandbox_autotask import FAST


def assert_envelope(response_json: object, code: str) -> None:
    assert isinstance(response_json, dict)
    assert set(response_json) == {"error"}
    error = response_json["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert error["message"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer " + "x" * 5000},
    ],
)
def test_missing_or_unknown_token_is_401(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get("/v1/resellers", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert_envelope(response.json(), "unauthorized")


def test_every_v1_route_requires_a_token(
    client: TestClient, service: ContractSync, seeded: dict[str, dict[str, str]]
) -> None:
    before = snapshot(service)
    for route in client.app.routes:  # type: ignore[attr-defined]
        path = getattr(route, "path", "")
        if not path.startswith("/v1/"):
            continue
        for method in route.methods:  # type: ignore[attr-defined]
            url = path.replace("{operation_id}", "1").replace("{", "").replace("}", "")
            response = client.request(method, url, json={})
            assert response.status_code == 401, (method, path)
    assert snapshot(service) == before


def test_unknown_route_and_method_use_the_envelope(client: TestClient) -> None:
    response = client.get("/v1/nothing-here", headers=ADMIN)
    assert response.status_code == 404
    assert_envelope(response.json(), "not_found")
    response = client.delete("/v1/resellers", headers=ADMIN)
    assert response.status_code == 405
    assert_envelope(response.json(), "method_not_allowed")


def test_malformed_json_is_400(client: TestClient, service: ContractSync) -> None:
    response = client.post(
        "/v1/resellers", content=b'{"id": "r1",', headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert_envelope(response.json(), "bad_request")
    assert service.list_resellers(ADMIN_ACTOR) == []


def test_service_errors_map_to_their_status(client: TestClient, seeded: dict[str, dict[str, str]]) -> None:
    reseller = {"id": "r1", "name": "again", "promotion_setting": "keep"}
    conflict = client.post("/v1/resellers", json=reseller, headers=ADMIN)
    assert conflict.status_code == 409
    assert_envelope(conflict.json(), "conflict")
    forbidden = client.post("/v1/resellers", json={**reseller, "id": "r9"}, headers=seeded["r1"])
    assert forbidden.status_code == 403
    assert_envelope(forbidden.json(), "forbidden")
    missing = client.get("/v1/subscriptions/nope", headers=seeded["r1"])
    assert missing.status_code == 404
    assert_envelope(missing.json(), "not_found")
    operations = "/v1/subscriptions/s1/operations"
    assert client.post(operations, json={"type": "cancel"}, headers=seeded["r1"]).status_code == 200
    invalid = client.post(operations, json={"type": "update_quantity", "quantity": 3}, headers=seeded["r1"])
    assert invalid.status_code == 422
    assert_envelope(invalid.json(), "invalid")
    assert (
        invalid.json()["error"]["message"]
        == "subscription s1 is canceled; no further operations are accepted for it"
    )


def test_unimplemented_facade_answers_501_not_500() -> None:
    class Unfinished(ContractSync):
        def list_alerts(self, actor: object) -> list[object]:  # type: ignore[override]
            raise NotImplementedError

    with TestClient(create_api(Unfinished(memory_service().context))) as client:
        response = client.get("/v1/alerts", headers=ADMIN)
    assert response.status_code == 501
    assert_envelope(response.json(), "not_implemented")


def test_reseller_token_is_passed_as_its_actor(client: TestClient, service: ContractSync) -> None:
    for reseller_id in ("r1", "r2"):
        service.create_reseller(
            ADMIN_ACTOR, {"id": reseller_id, "name": reseller_id, "promotion_setting": "keep"}
        )
    token = service.create_token("r1")
    listed = client.get("/v1/resellers", headers=bearer(token))
    assert [r["id"] for r in listed.json()] == ["r1"]
    assert [r["id"] for r in client.get("/v1/resellers", headers=ADMIN).json()] == ["r1", "r2"]


#: How Autotask answers, for each kind of failure (tests/unit covers the classification).
AUTOTASK_ANSWERS: dict[ErrorKind, httpx.Response | None] = {
    ErrorKind.NOT_FOUND: httpx.Response(404, json={"errors": ["No Service entity with the id."]}),
    ErrorKind.REJECTED: httpx.Response(400, json={"errors": ["The filter is not valid."]}),
    ErrorKind.AUTH: httpx.Response(401),
    ErrorKind.THROTTLED: httpx.Response(429, json={"errors": ["Rate limit exceeded."]}),
    ErrorKind.TIMEOUT_BEFORE_SEND: None,  # the connection is refused
}


def autotask_answering(kind: ErrorKind) -> AutotaskConnector:
    """The real connector to an Autotask that answers every request with `kind`'s failure."""

    def answer(request: httpx.Request) -> httpx.Response:
        response = AUTOTASK_ANSWERS[kind]
        if response is None:
            raise httpx.ConnectError("connection refused", request=request)
        return response

    url = "https://webservices99.autotask.net/atservicesrest/v1.0"
    client = AutotaskClient(
        Credentials("api@example.com", "s3cret", "CODE"),
        base_url=url,
        outbound=OutboundPolicy.allowing(url),
        transport=httpx.MockTransport(answer),
        settings=FAST,
    )
    return AutotaskConnector(client)


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        (ErrorKind.NOT_FOUND, 404, "psa_not_found"),
        (ErrorKind.REJECTED, 422, "psa_rejected"),
        (ErrorKind.AUTH, 502, "psa_auth_failed"),
        (ErrorKind.THROTTLED, 503, "psa_throttled"),
        (ErrorKind.TIMEOUT_BEFORE_SEND, 502, "psa_unavailable"),
    ],
)
def test_autotask_failures_are_gateway_errors_not_500(
    client: TestClient, kind: ErrorKind, status: int, code: str
) -> None:
    service = memory_service(connectors=lambda row: autotask_answering(kind))
    client.app.state.service = service  # type: ignore[attr-defined]
    service.create_reseller(ADMIN_ACTOR, {"id": "r1", "name": "R1", "promotion_setting": "keep"})
    service.create_connection(ADMIN_ACTOR, connection("at1", "r1"))
    response = client.get(
        "/v1/services", params={"connection_id": "at1"}, headers=bearer(service.create_token("r1"))
    )
    assert response.status_code == status
    assert_envelope(response.json(), code)
    assert response.json()["error"]["message"].startswith("Autotask: ")


def test_a_huge_body_is_refused_before_parsing(client: TestClient, service: ContractSync) -> None:
    body = b'{"id": "r1", "name": "' + b"x" * 2_000_000 + b'", "promotion_setting": "keep"}'
    response = client.post(
        "/v1/resellers", content=body, headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert_envelope(response.json(), "payload_too_large")
    assert service.list_resellers(ADMIN_ACTOR) == []


def test_a_huge_chunked_body_is_refused(client: TestClient, service: ContractSync) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"id": "r1", "name": "'
        for _ in range(40):
            yield b"x" * 50_000
        yield b'", "promotion_setting": "keep"}'

    response = client.post(
        "/v1/resellers", content=chunks(), headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert_envelope(response.json(), "payload_too_large")
    assert service.list_resellers(ADMIN_ACTOR) == []
