"""The console's HTTP behaviour without a browser, on an in-memory façade (fast, no sandbox)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from contractsync.web import register_console
from contractsync.web.session import COOKIE_NAME
from contractsync.web.signing import Signer
from tests.fakes.fake_service import ADMIN_TOKEN, RESELLER_TOKEN, FakeContractSync

with warnings.catch_warnings():
    # Starlette asks for httpx2; the TestClient works the same with the httpx the project pins.
    warnings.simplefilter("ignore", UserWarning)
    from starlette.testclient import TestClient

KEY = b"k" * 32


@pytest.fixture
def service() -> FakeContractSync:
    return FakeContractSync.with_sample_data()


@pytest.fixture
def client(service: FakeContractSync) -> Iterator[TestClient]:
    app = FastAPI()
    register_console(app, service, session_key=KEY)
    with TestClient(app) as client:
        yield client


def csrf(client: TestClient, path: str = "/signin") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match is not None
    return match.group(1)


def signed_in(client: TestClient, token: str = ADMIN_TOKEN) -> str:
    response = client.post("/signin", data={"token": token, "csrf_token": csrf(client)})
    assert response.status_code == 200
    return csrf(client, "/subscriptions")


def flash(html: str, kind: str) -> list[str]:
    return re.findall(rf'class="flash flash-{kind}"[^>]*>([^<]*)<', html)


def test_pages_need_sign_in_and_keep_the_destination(client: TestClient) -> None:
    response = client.get("/operations?status=failed", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=/operations%3Fstatus%3Dfailed"


def test_session_cookie_cannot_be_forged_or_altered(client: TestClient) -> None:
    signed_in(client)
    cookie = client.cookies[COOKIE_NAME]
    assert client.get("/subscriptions", follow_redirects=False).status_code == 200
    # The same payload signed with another key is not a session.
    forged = Signer(b"x" * 32, "contractsync.console.session").sign({"c": "t", "s": True, "r": None}, 3600)
    client.cookies.set(COOKIE_NAME, forged)
    assert client.get("/subscriptions", follow_redirects=False).status_code == 303
    payload, _, mac = cookie.partition(".")
    client.cookies.set(COOKIE_NAME, f"{payload}.{mac[::-1]}")
    assert client.get("/subscriptions", follow_redirects=False).status_code == 303


def test_set_cookie_flags(service: FakeContractSync) -> None:
    app = FastAPI()
    register_console(app, service, session_key=KEY, secure_cookies=True)
    with TestClient(app, base_url="https://testserver") as client:
        header = client.get("/signin").headers["set-cookie"]
    assert "HttpOnly" in header and "SameSite=lax" in header and "Secure" in header


def test_signer_rejects_expired_values() -> None:
    signer = Signer(KEY, "test")
    value = signer.sign({"a": 1}, 10, now=1000.0)
    assert signer.unsign(value, now=1005.0) == {"a": 1}
    assert signer.unsign(value, now=1011.0) is None
    assert signer.unsign("garbage", now=1005.0) is None


def test_wrong_token_is_a_readable_message(client: TestClient) -> None:
    response = client.post("/signin", data={"token": "nope", "csrf_token": csrf(client)})
    assert response.status_code == 401
    assert "not valid" in response.text


def test_sign_in_never_redirects_off_site(client: TestClient) -> None:
    response = client.post(
        "/signin",
        data={"token": ADMIN_TOKEN, "csrf_token": csrf(client), "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/subscriptions"


POSTS = [
    ("/signout", {}),
    ("/subscriptions/s1/quantity", {"quantity": "50"}),
    ("/operations/2/retry", {}),
    (
        "/mappings/subscriptions",
        {"subscription_id": "s3", "connection_id": "at1", "contract_id": "200", "target": "svc:9"},
    ),
    ("/mappings/subscriptions/s1/unmap", {}),
    ("/mappings/customers", {"customer_id": "c2", "connection_id": "at1", "company_id": "2"}),
    ("/reconciliation/fix", {"connection_id": "at1"}),
    ("/alerts/1/acknowledge", {}),
]


def state(service: FakeContractSync) -> object:
    s1 = service.subscriptions["s1"]
    return (s1["quantity"], s1["mapping"], service.customers["c2"]["mapping"], list(service.calls))


@pytest.mark.parametrize(("path", "form"), POSTS, ids=[p for p, _ in POSTS])
def test_every_form_post_without_the_csrf_token_is_refused(
    client: TestClient, service: FakeContractSync, path: str, form: dict[str, str]
) -> None:
    signed_in(client)
    before = state(service)
    for attempt in (form, form | {"csrf_token": "forged"}):
        response = client.post(path, data=attempt)
        assert response.status_code == 403
        assert "Nothing was changed" in response.text
    assert state(service) == before
    assert service.operations[2]["status"] == "failed"
    assert client.get("/subscriptions", follow_redirects=False).status_code == 200  # still signed in


def test_sign_in_itself_needs_the_csrf_token(client: TestClient) -> None:
    assert client.post("/signin", data={"token": ADMIN_TOKEN}).status_code == 403
    assert client.get("/subscriptions", follow_redirects=False).status_code == 303


def test_refusals_are_messages_not_errors(client: TestClient, service: FakeContractSync) -> None:
    token = signed_in(client)
    retry = client.post("/operations/3/retry", data={"csrf_token": token})
    assert retry.status_code == 200
    assert flash(retry.text, "error") == [
        "Operation #3 was not retried: A later adjustment for contract service 1001 was sent already (operation #1)."
    ]
    service.subscriptions["s1"]["status"] = "canceled"
    change = client.post("/subscriptions/s1/quantity", data={"csrf_token": token, "quantity": "4"})
    assert change.status_code == 422
    assert "cannot change" in change.text
    bad = client.post("/subscriptions/s1/quantity", data={"csrf_token": token, "quantity": "-1"})
    assert bad.status_code == 422 and "whole number" in bad.text
    assert client.get("/subscriptions/nope").status_code == 404
    assert client.get("/reconciliation?connection_id=zz").status_code == 200
    mapped = client.post(
        "/mappings/subscriptions",
        data={
            "csrf_token": token,
            "subscription_id": "s1",
            "connection_id": "at1",
            "contract_id": "100",
            "target": "svc:7",
        },
    )
    assert "is mapped already" in " ".join(flash(mapped.text, "error"))


def test_map_a_customer_to_an_autotask_company(client: TestClient, service: FakeContractSync) -> None:
    token = signed_in(client)
    page = client.get("/mappings?subscription_id=s3").text
    assert "is not mapped to an Autotask company yet" in page
    form = {"csrf_token": token, "customer_id": "c2", "connection_id": "at1", "subscription_id": "s3"}
    bad = client.post("/mappings/customers", data=form | {"company_id": "abc"})
    assert flash(bad.text, "error") == ["Enter the Autotask company id (a whole number) to map the customer."]
    done = client.post("/mappings/customers", data=form | {"company_id": "2"})
    assert flash(done.text, "ok") == ["Customer c2 is mapped to Autotask company 2."]
    assert service.customers["c2"]["mapping"] == {"connection_id": "at1", "company_id": 2}
    again = client.post("/mappings/customers", data=form | {"company_id": "2"})
    assert "is mapped already" in " ".join(flash(again.text, "error"))


def test_quantity_preview_stores_nothing(client: TestClient, service: FakeContractSync) -> None:
    token = signed_in(client)
    response = client.post(
        "/subscriptions/s1/quantity", data={"csrf_token": token, "quantity": "14", "action": "preview"}
    )
    assert "nothing was stored or sent" in response.text
    preview = {"type": "update_quantity", "quantity": 14, "preview": True}
    assert [args[1:] for args in service.calls_to("apply_operation")] == [("s1", preview)]
    assert service.subscriptions["s1"]["quantity"] == 10 and len(service.operations) == 3
    client.post("/subscriptions/s1/quantity", data={"csrf_token": token, "quantity": "14", "action": "apply"})
    applied = {"type": "update_quantity", "quantity": 14}
    assert [args[1:] for args in service.calls_to("apply_operation")] == [("s1", preview), ("s1", applied)]
    assert service.subscriptions["s1"]["quantity"] == 14 and len(service.operations) == 4


def test_reseller_sees_only_its_own_data(client: TestClient, service: FakeContractSync) -> None:
    service.subscriptions["s3"]["reseller_id"] = "r2"
    signed_in(client, RESELLER_TOKEN)
    page = client.get("/subscriptions").text
    assert "s1" in page and "/subscriptions/s3" not in page
    assert client.get("/subscriptions/s3").status_code == 404


def test_every_page_renders(client: TestClient) -> None:
    signed_in(client)
    for path in [
        "/subscriptions",
        "/subscriptions?customer_id=c1&sync_state=out_of_sync&page=x",
        "/subscriptions/s2",
        "/operations?status=failed&type=UpdateSubscriptionQuantityOnConnection",
        "/manual-actions",
        "/alerts",
        "/mappings",
        "/mappings?subscription_id=s3&connection_id=at1&contract_id=200&service_query=azure",
        "/reconciliation",
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-store"
        assert flash(response.text, "error") == [], path


def test_a_refused_change_flashes_an_error_and_alerts_can_be_acknowledged(
    client: TestClient, service: FakeContractSync
) -> None:
    token = signed_in(client)
    refused = {
        "id": 99,
        "status": "failed",
        "reason": "Not sent: the effective date 2028-02-01 is outside the contract",
    }
    service.apply_operation = lambda actor, subscription_id, body: [refused]  # type: ignore[method-assign]
    change = client.post(
        "/subscriptions/s1/quantity", data={"csrf_token": token, "quantity": "30", "confirmed": "1"}
    )
    assert flash(change.text, "ok") == []
    assert flash(change.text, "error") == [
        "Quantity change to 30 was refused for Autotask: #99: " + refused["reason"]
    ]
    page = client.get("/alerts")
    assert 'action="/alerts/1/acknowledge"' in page.text
    done = client.post("/alerts/1/acknowledge", data={"csrf_token": token})
    assert flash(done.text, "ok") == ["Alert #1 acknowledged; it stays listed until its cause is gone."]
    assert 'action="/alerts/1/acknowledge"' not in done.text and "Acknowledged" in done.text
    assert client.get("/alerts?state=resolved").status_code == 200


def test_the_subscription_page_shows_autotask_units_when_they_differ(
    client: TestClient, service: FakeContractSync
) -> None:
    signed_in(client)
    quantity = service.subscriptions["s1"]["quantity"]
    held = {"date": "2026-11-25", "units": quantity + 2, "unit_price": "12.0000"}
    service.autotask_today = lambda actor, subscription_id: held  # type: ignore[method-assign]
    page = client.get("/subscriptions/s1")
    assert f'data-autotask-units="{quantity + 2}"' in page.text
    assert f"Autotask: {quantity + 2} on 2026-11-25" in page.text
    held["units"] = quantity
    assert "data-autotask-units" not in client.get("/subscriptions/s1").text


def test_the_audit_log_and_its_export_show_who_made_each_record(
    client: TestClient, service: FakeContractSync
) -> None:
    token = signed_in(client, RESELLER_TOKEN)
    client.post("/subscriptions/s1/quantity", data={"csrf_token": token, "quantity": "14", "action": "apply"})
    who = f"console (token #{service._token_id(RESELLER_TOKEN)})"
    [record] = [op for op in service.operations.values() if op.get("actor")]
    assert record["actor"] == who
    for page in ("/operations", "/operations?status=pending&subscription=s1"):
        html = client.get(page).text
        assert "<dt>Who</dt>" in html and f'<dd class="op-actor">{who}</dd>' in html, page
    lines = client.get("/operations.csv?subscription=s1").text.splitlines()
    assert lines[0].split(",")[-1] == "actor"
    assert [line.split(",")[-1] for line in lines[1:]].count(who) == 1
