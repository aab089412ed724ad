"""Server-side request forgery: a reseller chooses its connection's URL, and our server makes
requests there with the connection's credentials. Only Autotask hosts (and hosts the operator
lists) may be reached; a refused URL is a 422 and nothing leaves the process.

Each test has a real socket listening on 127.0.0.1 that must never receive a connection.
"""

from __future__ import annotations

import socket
import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import insert

from contractsync.adapters.autotask import AutotaskClient, AutotaskConnector, Credentials, OutboundPolicy
from contractsync.adapters.autotask.outbound import OutboundRefused
from contractsync.adapters.db.session import transaction
from contractsync.adapters.db.tables import connections
from contractsync.api.app import create_api
from contractsync.bootstrap import build_app_service
from contractsync.ports.psa import ErrorKind, PsaError
from contractsync.settings import Settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    from starlette.testclient import TestClient

ADMIN_TOKEN = "cs_outbound-admin-token-for-tests-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


class Listener:
    """A real TCP socket on 127.0.0.1 that counts every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    target = Listener()
    yield target
    target.close()
    assert target.accepted == 0, "a request reached the internal listener"


@pytest.fixture
def api(database_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, Any]]:
    """The real service; no CONTRACTSYNC_PSA_ALLOWED_HOSTS: only *.autotask.net may be reached."""
    settings = Settings(
        database_url=database_url,
        admin_token=ADMIN_TOKEN,
        secret_key=Fernet.generate_key().decode(),
        data_dir=tmp_path,
    )
    service = build_app_service(settings, upgrade=False)
    with TestClient(create_api(service)) as client:
        client.post(
            "/v1/resellers", json={"id": "r1", "name": "R1", "promotion_setting": "keep"}, headers=ADMIN
        ).raise_for_status()
        yield client, service


def _connection(base_url: str | None, **extra: Any) -> dict[str, Any]:
    body = {
        "id": "at1",
        "reseller_id": "r1",
        "kind": "autotask",
        "username": "api@example.com",
        "secret": "s3cret-value",
        "integration_code": "CODE",
        "timezone": "UTC",
        **extra,
    }
    if base_url is not None:
        body["base_url"] = base_url
    return body


def test_a_reseller_cannot_point_a_connection_at_an_internal_address(
    api: tuple[TestClient, Any], listener: Listener
) -> None:
    client, service = api
    token = {"Authorization": f"Bearer {service.create_token('r1')}"}
    internal = f"http://127.0.0.1:{listener.port}"
    for url in (
        f"{internal}/internal/admin/purge?confirm=yes&x=/v1.0",  # the example
        f"{internal}/atservicesrest/v1.0",  # a well-formed API root on a host nobody listed
        f"https://127.0.0.1:{listener.port}/atservicesrest/v1.0",
        "https://webservices5.autotask.net@127.0.0.1/atservicesrest/v1.0",  # user info
        "https://webservices5.autotask.net.evil.example/atservicesrest/v1.0",
        "http://webservices5.autotask.net/atservicesrest/v1.0",  # http to Autotask
        "https://webservices5.autotask.net:8443/atservicesrest/v1.0",
        "https://webservices5.autotask.net/atservicesrest/v1.0/Contracts?x=1",
        "https://webservices5.autotask.net/atservicesrest/v1.0#frag",
        "https://webservices5.autotask.net/sandbox/reset",
    ):
        response = client.post("/v1/connections", json=_connection(url), headers=token)
        assert response.status_code == 422, (url, response.text)
        assert "base_url" in response.json()["error"]["message"]
    assert client.get("/v1/connections", headers=token).json() == []


def test_a_stored_internal_url_is_refused_on_use_and_nothing_is_sent(
    api: tuple[TestClient, Any], listener: Listener
) -> None:
    """A URL stored before the allow-list existed: every use answers 422, no request is made."""
    client, service = api
    with transaction(service.context.sessions) as session:
        session.execute(
            insert(connections).values(
                id="at1",
                reseller_id="r1",
                kind="autotask",
                username="api@example.com",
                secret_encrypted=service.context.secrets.encrypt("s3cret-value"),
                integration_code="CODE",
                base_url=f"http://127.0.0.1:{listener.port}/internal/admin/purge?confirm=yes&x=/v1.0",
                timezone="UTC",
                settle_seconds=0,
                policies={},
                created_at=service.context.now(),
            )
        )
    response = client.get("/v1/contracts", params={"connection_id": "at1"}, headers=ADMIN)
    assert response.status_code == 422, response.text
    assert "127.0.0.1" in response.json()["error"]["message"]


def _mock_client(zone_answer: str, requests: list[httpx.Request]) -> AutotaskClient:
    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json={"url": zone_answer})

    return AutotaskClient(
        Credentials("api@example.com", "s3cret-value", "CODE"),
        zone_root="https://webservices2.autotask.net",
        transport=httpx.MockTransport(handler),
    )


def test_a_zone_answer_outside_autotask_is_refused(listener: Listener) -> None:
    """zoneInformation is Autotask's answer, but it decides where the credentials go next."""
    requests: list[httpx.Request] = []
    client = _mock_client(f"http://127.0.0.1:{listener.port}/atservicesrest/", requests)
    with client, pytest.raises(OutboundRefused, match="zoneInformation answered"):
        AutotaskConnector(client).threshold_information()
    assert [r.url.path for r in requests] == ["/atservicesrest/v1.0/zoneInformation"]


def test_the_zone_discovery_url_itself_is_checked(listener: Listener) -> None:
    with pytest.raises(OutboundRefused):
        AutotaskClient(
            Credentials("api@example.com", "s3cret-value", "CODE"),
            zone_root=f"http://127.0.0.1:{listener.port}",
        )


class _Redirecting(BaseHTTPRequestHandler):
    target = ""

    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", self.target)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_redirects_are_not_followed(listener: Listener) -> None:
    """An allowed host that answers a redirect: the credentials do not follow it."""
    handler = type("Handler", (_Redirecting,), {"target": f"http://127.0.0.1:{listener.port}/"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        origin = f"http://127.0.0.1:{server.server_address[1]}"
        client = AutotaskClient(
            Credentials("api@example.com", "s3cret-value", "CODE"),
            base_url=origin,
            outbound=OutboundPolicy.allowing(origin),
        )
        with client, pytest.raises(PsaError) as raised:
            AutotaskConnector(client).threshold_information()
        assert raised.value.kind is ErrorKind.SERVER_ERROR
        assert "redirect, not followed" in raised.value.message
    finally:
        server.shutdown()
        server.server_close()


def test_operator_listed_hosts() -> None:
    policy = OutboundPolicy.from_setting(" 127.0.0.1:8765 , psa.internal ")
    assert policy.api_root("http://127.0.0.1:8765") == "http://127.0.0.1:8765/atservicesrest/v1.0"
    assert (
        policy.api_root("https://psa.internal/atservicesrest/") == "https://psa.internal/atservicesrest/v1.0"
    )
    # The demo's own sandbox is listed, but only its Autotask API: not its /sandbox/ admin routes.
    for path in ("/sandbox/reset", "/atservicesrestX/v1.0", "/"):
        with pytest.raises(OutboundRefused):
            policy.check_request(f"http://127.0.0.1:8765{path}")
    with pytest.raises(OutboundRefused):
        policy.api_root("http://127.0.0.1:8765/sandbox/reset")
    for refused in ("http://127.0.0.1:8766", "http://psa.internal:8080", "http://127.0.0.2:8765"):
        with pytest.raises(OutboundRefused):
            policy.api_root(refused)
    for bad in ("http://x", "host:99999", "a b", "host:²"):
        with pytest.raises(ValueError, match="CONTRACTSYNC_PSA_ALLOWED_HOSTS"):
            OutboundPolicy.from_setting(bad)
    # Without the setting, only Autotask.
    assert OutboundPolicy().api_root("https://webservices14.autotask.net/atservicesrest/v1.0/") == (
        "https://webservices14.autotask.net/atservicesrest/v1.0"
    )


def test_psa_answer_bodies_are_cut_to_a_short_single_line_in_errors() -> None:
    from tests.integration.autotask.mock_autotask import Harness, answer

    long_text = "Unable to save:\n" + "internal detail line\r\n" * 200 + "\x00end"
    harness = Harness(lambda request: answer(500, {"errors": [long_text, "second"]}))
    with pytest.raises(PsaError) as raised:
        harness.connector.find_contracts(1)
    message = raised.value.message
    assert "\n" not in message and "\r" not in message and "\x00" not in message
    assert message.startswith("Unable to save: internal detail line internal detail line")
    assert len(message) <= 300 and message.endswith("…")
