"""Authentication and the error envelope, for every kind of refusal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from contractsync.api.app import create_api
from contractsync.ports.psa import ErrorKind, PsaError
from contractsync.service.facade import ContractSync
from tests.fakes.fake_service import FakeContractSync
from tests.integration.api.conftest import ADMIN, TestClient, bearer


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
def test_missing_or_unknown_token_is_401(
    client: TestClient, fake: FakeContractSync, headers: dict[str, str]
) -> None:
    response = client.get("/v1/resellers", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert_envelope(response.json(), "unauthorized")
    assert fake.use_case_calls() == []


def test_every_v1_route_requires_a_token(client: TestClient, fake: FakeContractSync) -> None:
    for route in client.app.routes:  # type: ignore[attr-defined]
        path = getattr(route, "path", "")
        if not path.startswith("/v1/"):
            continue
        for method in route.methods:  # type: ignore[attr-defined]
            url = path.replace("{operation_id}", "1").replace("{", "").replace("}", "")
            response = client.request(method, url, json={})
            assert response.status_code == 401, (method, path)
    assert fake.use_case_calls() == []


def test_unknown_route_and_method_use_the_envelope(client: TestClient) -> None:
    response = client.get("/v1/nothing-here", headers=ADMIN)
    assert response.status_code == 404
    assert_envelope(response.json(), "not_found")
    response = client.delete("/v1/resellers", headers=ADMIN)
    assert response.status_code == 405
    assert_envelope(response.json(), "method_not_allowed")


def test_malformed_json_is_400(client: TestClient, fake: FakeContractSync) -> None:
    response = client.post(
        "/v1/resellers", content=b'{"id": "r1",', headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert_envelope(response.json(), "bad_request")
    assert fake.use_case_calls() == []


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
    invalid = client.delete("/v1/mappings/subscriptions/s1", headers=seeded["r1"])
    assert invalid.status_code == 204
    again = client.delete("/v1/mappings/subscriptions/s1", headers=seeded["r1"])
    assert again.status_code == 422
    assert_envelope(again.json(), "invalid")


def test_unimplemented_facade_answers_501_not_500() -> None:
    class Stub(ContractSync):
        def __init__(self) -> None:
            pass  # no context: every use case but `authenticate` fails

        def list_alerts(self, actor: object) -> list[object]:  # type: ignore[override]
            raise NotImplementedError

        def authenticate(self, token: str) -> object:  # type: ignore[override]
            return FakeContractSync().authenticate(token)

    with TestClient(create_api(Stub())) as client:
        response = client.get("/v1/alerts", headers=ADMIN)
    assert response.status_code == 501
    assert_envelope(response.json(), "not_implemented")


def test_reseller_token_is_passed_as_its_actor(client: TestClient, fake: FakeContractSync) -> None:
    fake.resellers["r1"] = {"id": "r1", "name": "R1", "promotion_setting": "keep", "approved_through": None}
    token = fake.create_token("r1")
    fake.calls.clear()
    client.get("/v1/alerts", headers=bearer(token))
    ((name, (actor,)),) = fake.calls
    assert name == "list_alerts"
    assert actor.reseller_id == "r1"


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
    client: TestClient,
    fake: FakeContractSync,
    seeded: dict[str, dict[str, str]],
    kind: ErrorKind,
    status: int,
    code: str,
) -> None:
    def unreachable(actor: object, connection_id: str, name: str | None = None) -> list[object]:
        raise PsaError(kind, "GET /Services/query: ConnectError before sending")

    fake.search_services = unreachable  # type: ignore[method-assign, assignment]
    response = client.get("/v1/services", params={"connection_id": "at1"}, headers=seeded["r1"])
    assert response.status_code == status
    assert_envelope(response.json(), code)
    assert response.json()["error"]["message"].startswith("Autotask: ")


def test_a_huge_body_is_refused_before_parsing(client: TestClient, fake: FakeContractSync) -> None:
    body = b'{"id": "r1", "name": "' + b"x" * 2_000_000 + b'", "promotion_setting": "keep"}'
    response = client.post(
        "/v1/resellers", content=body, headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert_envelope(response.json(), "payload_too_large")
    assert fake.use_case_calls() == []


def test_a_huge_chunked_body_is_refused(client: TestClient, fake: FakeContractSync) -> None:
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
    assert fake.use_case_calls() == []
