"""The console's sessions and errors over HTTP (the façade over the in-memory unit of work): a cookie is worth nothing after
sign-out or revocation, sign-in is rate-limited, cookies are Secure behind https, errors are pages."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from contractsync.api.app import create_api
from contractsync.service.actor import ADMIN
from contractsync.service.facade import ContractSync
from contractsync.settings import Settings
from contractsync.web import register_console
from contractsync.web.session import COOKIE_NAME
from tests.e2e.test_console_http import KEY, csrf, signed_in
from tests.memory_service import ADMIN_TOKEN, RESELLER_TOKEN, BreakableUnits, reseller_service

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    from starlette.testclient import TestClient

PROXY = ("10.0.0.5", 40000)


def console(
    service: ContractSync, client: tuple[str, int] = ("127.0.0.1", 50000), **settings: Any
) -> TestClient:
    """API + console, as `serve` mounts them, with the given settings."""
    app = create_api(service)
    register_console(app, service, session_key=KEY, settings=Settings(_env_file=None, **settings))
    return TestClient(app, client=client, raise_server_exceptions=False)


@pytest.fixture
def units() -> BreakableUnits:
    return BreakableUnits()


@pytest.fixture
def service(units: BreakableUnits) -> ContractSync:
    """Reseller r1 with its token `RESELLER_TOKEN`."""
    return reseller_service(units)


@pytest.fixture
def client(service: ContractSync) -> Iterator[TestClient]:
    with console(service) as client:
        yield client


def test_a_copied_cookie_is_worthless_after_sign_out(client: TestClient) -> None:
    token = signed_in(client)
    copied = client.cookies[COOKIE_NAME]
    assert client.post("/signout", data={"csrf_token": token}).status_code == 200
    client.cookies.set(COOKIE_NAME, copied)  # an attacker replays the cookie from before
    response = client.get("/subscriptions", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/signin")


def test_revoking_the_token_ends_its_console_sessions(client: TestClient, service: ContractSync) -> None:
    signed_in(client, RESELLER_TOKEN)
    assert client.get("/subscriptions", follow_redirects=False).status_code == 200
    token_id = next(t["id"] for t in service.list_tokens(ADMIN) if t["reseller_id"] == "r1")
    service.revoke_token(ADMIN, token_id)
    assert client.get("/subscriptions", follow_redirects=False).status_code == 303


def test_sign_in_attempts_are_limited_per_address_with_a_clear_page(service: ContractSync) -> None:
    with console(service, signin_rate_limit="3/minute") as client:
        for _ in range(3):
            assert (
                client.post("/signin", data={"token": "wrong", "csrf_token": csrf(client)}).status_code == 401
            )
        # The fourth attempt is refused before the token is looked at, even the right one.
        refused = client.post("/signin", data={"token": ADMIN_TOKEN, "csrf_token": csrf(client)})
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "60"
        assert "text/html" in refused.headers["content-type"]
        assert "Too many sign-in attempts" in refused.text
        assert client.get("/subscriptions", follow_redirects=False).status_code == 303
    with console(service, signin_rate_limit="3/minute", client=("127.0.0.2", 50000)) as other:
        signed_in(other)  # another address is not held back


def test_the_overall_limit_holds_across_addresses_and_apps(service: ContractSync) -> None:
    # Every app on the same façade (the same database) counts the same attempts.
    statuses = []
    for n in range(3):
        with console(service, signin_rate_limit_total="2/minute", client=(f"127.0.0.{n + 1}", 1)) as client:
            statuses.append(
                client.post("/signin", data={"token": "wrong", "csrf_token": csrf(client)}).status_code
            )
    assert statuses == [401, 401, 429]


def test_behind_a_trusted_proxy_the_limit_counts_the_forwarded_address(service: ContractSync) -> None:
    with console(service, signin_rate_limit="1/minute", trusted_proxies="10.0.0.5", client=PROXY) as client:
        first = {"X-Forwarded-For": "198.51.100.1"}
        data = {"token": "wrong", "csrf_token": csrf(client)}
        assert client.post("/signin", data=data, headers=first).status_code == 401
        assert client.post("/signin", data=data, headers=first).status_code == 429
        # The proxy appends the address it saw; what the client wrote before it is not believed.
        spoofed = {"X-Forwarded-For": "203.0.113.9, 198.51.100.1"}
        assert client.post("/signin", data=data, headers=spoofed).status_code == 429
        assert (
            client.post("/signin", data=data, headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 401
        )


def _cookie_header(client: TestClient, headers: dict[str, str] | None = None) -> str:
    return client.get("/signin", headers=headers or {}).headers["set-cookie"]


def test_cookies_are_secure_when_the_public_url_is_https(service: ContractSync) -> None:
    with console(service, public_url="https://billing.example.com") as client:
        assert "Secure" in _cookie_header(client)
    with console(service) as client:
        assert "Secure" not in _cookie_header(client)


def test_x_forwarded_proto_is_believed_only_from_a_trusted_proxy(service: ContractSync) -> None:
    https = {"X-Forwarded-Proto": "https"}
    with console(service, trusted_proxies="10.0.0.5, ::1", client=PROXY) as client:
        assert "Secure" in _cookie_header(client, https)
        assert "Secure" not in _cookie_header(client, {"X-Forwarded-Proto": "http"})
    with console(service, trusted_proxies="10.0.0.5", client=("10.0.0.6", 1)) as client:
        assert "Secure" not in _cookie_header(client, https)


def test_a_malformed_trusted_proxy_is_a_configuration_error(service: ContractSync) -> None:
    with pytest.raises(ValueError, match="not an IP address"):
        console(service, trusted_proxies="10.0.0.5, proxy.example.com")


@pytest.mark.usefixtures("quiet_crashes")
def test_console_errors_are_pages_and_the_api_keeps_json(client: TestClient, units: BreakableUnits) -> None:
    signed_in(client)
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    assert "Page not found" in missing.text and "Sign out" in missing.text  # the console's own look
    wrong_method = client.put("/subscriptions")
    assert wrong_method.status_code == 405 and "text/html" in wrong_method.headers["content-type"]
    assert wrong_method.headers["allow"] == "GET"
    invalid = client.post("/operations/x/retry", data={"csrf_token": csrf(client, "/subscriptions")})
    assert invalid.status_code == 422 and "text/html" in invalid.headers["content-type"]

    api = client.get("/v1/no-such-route", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    api_method = client.put("/v1/resellers", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert api_method.status_code == 405 and api_method.json()["error"]["code"] == "method_not_allowed"

    units.failure = RuntimeError("database exploded: SELECT secret FROM somewhere")
    crash = client.get("/subscriptions")
    assert crash.status_code == 500 and "text/html" in crash.headers["content-type"]
    assert "Something went wrong" in crash.text and "exploded" not in crash.text


def test_docs_in_auth_mode_open_to_a_console_session(service: ContractSync) -> None:
    with console(service) as client:
        to_sign_in = client.get("/docs", follow_redirects=False)
        assert to_sign_in.status_code == 303 and to_sign_in.headers["location"] == "/signin?next=/docs"
        assert client.get("/openapi.json").status_code == 401
        signed_in(client)
        assert "swagger" in client.get("/docs").text.lower()
        assert client.get("/openapi.json").json()["info"]["title"] == "contractsync"


def test_a_bare_console_app_still_answers_pages(service: ContractSync) -> None:
    app = FastAPI()
    register_console(app, service, session_key=KEY)
    with TestClient(app) as client:
        response = client.get("/nowhere")
    assert response.status_code == 404 and "text/html" in response.headers["content-type"]
