"""Bounded input, on the real service and both databases: dates within 2000-01-01 .. today + 5
years, numbers in ASCII digits only, no control characters in ids and names, huge ids not found.
Each refusal is a 4xx with a reason (never a 500) and changes nothing."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_console_http import flash, signed_in
from tests.integration.api.conftest import real_client

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    from starlette.testclient import TestClient

ADMIN_TOKEN = "cs_bounds-admin-token-for-tests-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # the injected clock: today + 5 years = 2031-03-10


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, Any]]:
    subscription = {
        "id": "s1", "customer_id": "c1", "offer_id": "CFQ7TTC0LF8S:0001",
        "offer_name": "Microsoft 365 E5", "kind": "nce", "quantity": 10, "term": "P1Y",
        "billing_cycle": "monthly", "start_date": "2026-01-15", "end_date": "2027-01-14",
        "auto_renew": True, "list_price": "10.00",
    }  # fmt: skip
    posts = [
        ("/v1/resellers", {"id": "r1", "name": "R1", "promotion_setting": "keep"}),
        ("/v1/customers", {"id": "c1", "reseller_id": "r1", "name": "Contoso"}),
        ("/v1/subscriptions", subscription),
    ]
    with real_client(database_url, tmp_path, ADMIN_TOKEN, NOW, posts) as (client, service):
        yield client, service


def _refused(response: Any, status: int = 422, words: str = "") -> None:
    assert response.status_code == status, response.text
    assert words in response.json()["error"]["message"], response.text


def test_dates_outside_the_documented_bounds_are_refused(app: tuple[TestClient, Any]) -> None:
    client, _ = app
    for through in ("9999-12-31", "1999-12-31", "2031-03-11"):
        _refused(
            client.post(
                "/v1/resellers/r1/billing-approvals", json={"approved_through": through}, headers=ADMIN
            ),
            words="approved_through must be between 2000-01-01 and 2031-03-10",
        )
    for day in ("9999-12-31", "0001-01-01"):
        _refused(client.post("/v1/sweeps", json={"date": day}, headers=ADMIN), words="date must be between")
        for preview in (False, True):
            body = {"type": "update_quantity", "quantity": 3, "effective_date": day, "preview": preview}
            _refused(
                client.post("/v1/subscriptions/s1/operations", json=body, headers=ADMIN),
                words="effective_date must be between",
            )
        _refused(
            client.put(
                "/v1/customers/c1/provider-margins/microsoft",
                json={"margin_percent": "10", "effective_date": day},
                headers=ADMIN,
            ),
            words="effective_date must be between",
        )
    # The last day in bounds is taken, and later margin changes still work (the 500).
    ok = client.post(
        "/v1/resellers/r1/billing-approvals", json={"approved_through": "2031-03-10"}, headers=ADMIN
    )
    assert ok.status_code == 200, ok.text
    preview = {"type": "update_price_margin", "margin_percent": "15", "preview": True}
    assert client.post("/v1/subscriptions/s1/operations", json=preview, headers=ADMIN).status_code == 200
    assert client.get("/v1/subscriptions/s1", headers=ADMIN).json()["quantity"] == 10


def test_only_ascii_digits_are_numbers(app: tuple[TestClient, Any]) -> None:
    client, _ = app
    body = {
        "id": "s2", "customer_id": "c1", "offer_id": "X", "offer_name": "Y", "kind": "nce",
        "quantity": 1, "term": "P1Y", "billing_cycle": "monthly", "start_date": "2026-01-15",
        "end_date": "2027-01-14", "auto_renew": True, "list_price": "\u0663\u0663",
    }  # fmt: skip
    _refused(client.post("/v1/subscriptions", json=body, headers=ADMIN), words="list_price")
    margin = {"type": "update_price_margin", "margin_percent": "\u0663"}
    _refused(
        client.post("/v1/subscriptions/s1/operations", json=margin, headers=ADMIN), words="margin_percent"
    )
    date_body = {"approved_through": "\u0662\u0660\u0662\u0666-01-01"}
    _refused(client.post("/v1/resellers/r1/billing-approvals", json=date_body, headers=ADMIN))
    assert client.get("/v1/subscriptions", headers=ADMIN).json()["total"] == 1


def test_control_characters_in_ids_and_names_are_refused(app: tuple[TestClient, Any]) -> None:
    client, _ = app
    for body in (
        {"id": "c\x002", "reseller_id": "r1", "name": "Fabrikam"},
        {"id": "c2", "reseller_id": "r1", "name": "Fab\x00rikam"},
        {"id": "c2", "reseller_id": "r1", "name": "Fab\nrikam"},
        {"id": "c2", "reseller_id": "r1", "name": "Fabrikam", "tenant_id": "t\x00"},
    ):
        _refused(client.post("/v1/customers", json=body, headers=ADMIN))
    rename = {"type": "update_friendly_name", "friendly_name": "bad\x00name"}
    _refused(
        client.post("/v1/subscriptions/s1/operations", json=rename, headers=ADMIN), words="control characters"
    )
    for path in ("/v1/subscriptions/s%001", "/v1/subscriptions?customer_id=c%001", "/subscriptions/s%001"):
        _refused(client.get(path, headers=ADMIN), words="control characters")
    assert [c["id"] for c in client.get("/v1/customers", headers=ADMIN).json()] == ["c1"]


def test_huge_ids_are_not_found(app: tuple[TestClient, Any]) -> None:
    client, _ = app
    huge = "99999999999999999999999"
    _refused(client.post(f"/v1/operations/{huge}/retry", headers=ADMIN), 404, "not found")
    _refused(client.get(f"/v1/operations/{huge}", headers=ADMIN), 404, "not found")
    _refused(client.get(f"/v1/operations/{2**31}", headers=ADMIN), 404, "not found")


def test_console_numbers_and_ids_give_clear_errors(app: tuple[TestClient, Any]) -> None:
    client, _ = app
    client.headers.pop("Authorization", None)
    token = signed_in(client, ADMIN_TOKEN)
    for quantity in ("\u00b2", "\u0663\u0663", "9" * 30, "-1"):
        page = client.post("/subscriptions/s1/quantity", data={"csrf_token": token, "quantity": quantity})
        assert page.status_code == 422 and "written with the digits 0-9" in page.text, quantity
    form = {"csrf_token": token, "subscription_id": "s1", "connection_id": "at1"}
    for contract_id, target, message in (
        ("100", "svc:\u00b2", "Choose a contract service or a service before mapping."),
        ("100", "cs:\u00b2:7", "Choose a contract service or a service before mapping."),
        ("\u00b2", "svc:7", "Choose a contract before mapping."),
    ):
        page = client.post(
            "/mappings/subscriptions", data=form | {"contract_id": contract_id, "target": target}
        )
        assert page.status_code == 200 and message in flash(page.text, "error")
    company = {"csrf_token": token, "customer_id": "c1", "connection_id": "at1", "company_id": "\u00b2"}
    page = client.post("/mappings/customers", data=company)
    assert flash(page.text, "error") == [
        "Enter the Autotask company id (a whole number) to map the customer."
    ]
    retry = client.post(f"/operations/{2**40}/retry", data={"csrf_token": token})
    assert retry.status_code == 200 and "was not retried" in retry.text
    assert client.get("/v1/subscriptions/s1", headers=ADMIN).json()["quantity"] == 10


def test_the_cli_refuses_with_one_line_and_exit_2(app: tuple[TestClient, Any], tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from contractsync.cli.app import register_service_commands as register

    _, service = app
    cli = typer.Typer()

    @cli.callback()
    def _root() -> None:
        pass

    register(cli, build_service=lambda: service)
    ops = tmp_path / "ops.json"
    ops.write_text(json.dumps([{"subscription_id": "s\u00001", "type": "update_quantity", "quantity": 2}]))
    for args, words in (
        (["tokens", "create", "--reseller", "r\x001"], "--reseller must not contain control characters"),
        (["reconcile", "--connection", "at\x001"], "--connection must not contain control characters"),
        (["sweep", "--date", "9999-12-31"], "date must be between 2000-01-01 and 2031-03-10"),
        (["operations", "apply", str(ops)], "subscription_id must not contain control characters"),
    ):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, result.output
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and words in lines[0], result.stderr
