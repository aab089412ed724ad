"""The console's HTTP behaviour without a browser, on the real façade with the console sample
(`tests/memory_service.py`: made through the façade, its Autotask the sandbox)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import FastAPI

from contractsync.domain.operations import OperationCommand
from contractsync.service.actor import ADMIN
from contractsync.service.facade import ContractSync
from contractsync.web import register_console
from contractsync.web.session import COOKIE_NAME
from contractsync.web.signing import Signer
from tests.memory_service import ADMIN_TOKEN, RESELLER_TOKEN, Sample, subscription
from tests.sandbox_autotask import SandboxAutotask

with warnings.catch_warnings():
    # Starlette asks for httpx2; the TestClient works the same with the httpx the project pins.
    warnings.simplefilter("ignore", UserWarning)
    from starlette.testclient import TestClient

KEY = b"k" * 32


@pytest.fixture
def service(sample_service: ContractSync) -> ContractSync:
    return sample_service


@pytest.fixture
def client(service: ContractSync) -> Iterator[TestClient]:
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


def test_set_cookie_flags(service: ContractSync) -> None:
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
    ("/operations/5/retry", {}),
    (
        "/mappings/subscriptions",
        {"subscription_id": "s3", "connection_id": "at1", "contract_id": "100", "target": "svc:9"},
    ),
    ("/mappings/subscriptions/s1/unmap", {}),
    ("/mappings/customers", {"customer_id": "c2", "connection_id": "at1", "company_id": "2"}),
    ("/reconciliation/fix", {"connection_id": "at1"}),
    ("/alerts/1/acknowledge", {}),
]


def state(service: ContractSync) -> object:
    """What a user would see change: subscriptions, customers, the audit log, the alerts."""
    return (
        service.list_subscriptions(ADMIN),
        service.list_customers(ADMIN),
        service.list_operations(ADMIN),
        service.list_alerts(ADMIN, "all"),
    )


@pytest.mark.parametrize(("path", "form"), POSTS, ids=[p for p, _ in POSTS])
def test_every_form_post_without_the_csrf_token_is_refused(
    client: TestClient, service: ContractSync, path: str, form: dict[str, str]
) -> None:
    signed_in(client)
    before = state(service)
    for attempt in (form, form | {"csrf_token": "forged"}):
        response = client.post(path, data=attempt)
        assert response.status_code == 403
        assert "Nothing was changed" in response.text
    assert state(service) == before
    assert service.get_operation(ADMIN, 5)["status"] == "failed"
    assert client.get("/subscriptions", follow_redirects=False).status_code == 200  # still signed in


def test_sign_in_itself_needs_the_csrf_token(client: TestClient) -> None:
    assert client.post("/signin", data={"token": ADMIN_TOKEN}).status_code == 403
    assert client.get("/subscriptions", follow_redirects=False).status_code == 303


def test_refusals_are_messages_not_errors(client: TestClient, service: ContractSync) -> None:
    token = signed_in(client)
    retry = client.post("/operations/4/retry", data={"csrf_token": token})
    assert retry.status_code == 200
    assert flash(retry.text, "error") == [
        "Operation #4 was not retried: operation 4 has no adjustment to retry (nothing was planned for Autotask)"
    ]
    service.apply_operation(ADMIN, "s1", OperationCommand.build("cancel"))
    change = client.post("/subscriptions/s1/quantity", data={"csrf_token": token, "quantity": "4"})
    assert change.status_code == 422
    assert flash(change.text, "error") == [
        "subscription s1 is canceled; no further operations are accepted for it"
    ]
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
    assert "is already mapped" in " ".join(flash(mapped.text, "error"))


def test_map_a_customer_to_an_autotask_company(client: TestClient, service: ContractSync) -> None:
    token = signed_in(client)
    page = client.get("/mappings?subscription_id=s3").text
    assert "is not mapped to an Autotask company yet" in page
    form = {"csrf_token": token, "customer_id": "c2", "connection_id": "at1", "subscription_id": "s3"}
    bad = client.post("/mappings/customers", data=form | {"company_id": "abc"})
    assert flash(bad.text, "error") == ["Enter the Autotask company id (a whole number) to map the customer."]
    done = client.post("/mappings/customers", data=form | {"company_id": "2"})
    assert flash(done.text, "ok") == ["Customer c2 is mapped to Autotask company 2."]
    [c2] = [c for c in service.list_customers(ADMIN) if c["id"] == "c2"]
    assert c2["mapping"] == {"connection_id": "at1", "company_id": 2}
    again = client.post("/mappings/customers", data=form | {"company_id": "2"})
    assert "already mapped" in " ".join(flash(again.text, "error"))


def test_quantity_preview_stores_nothing(client: TestClient, service: ContractSync) -> None:
    token = signed_in(client)
    response = client.post(
        "/subscriptions/s1/quantity", data={"csrf_token": token, "quantity": "14", "action": "preview"}
    )
    assert "nothing was stored or sent" in response.text
    assert service.get_subscription(ADMIN, "s1")["quantity"] == 10
    assert service.list_operations(ADMIN)["total"] == 5
    client.post("/subscriptions/s1/quantity", data={"csrf_token": token, "quantity": "14", "action": "apply"})
    assert service.get_subscription(ADMIN, "s1")["quantity"] == 14
    newest = service.list_operations(ADMIN)["items"][0]
    assert newest["id"] == 6 and newest["type"] == "UpdateSubscriptionQuantityOnConnection"
    assert [a["target_units"] for a in newest["adjustments"]] == [14]


def test_reseller_sees_only_its_own_data(client: TestClient, service: ContractSync) -> None:
    service.create_reseller(ADMIN, {"id": "r2", "name": "Reseller Two", "promotion_setting": "keep"})
    service.create_customer(ADMIN, {"id": "c9", "reseller_id": "r2", "name": "Litware Inc"})
    service.create_subscription(ADMIN, subscription("s9", "c9", "Microsoft 365 E5", "nce", 3))
    signed_in(client, RESELLER_TOKEN)
    page = client.get("/subscriptions").text
    assert "/subscriptions/s1" in page and "/subscriptions/s9" not in page
    assert client.get("/subscriptions/s9").status_code == 404


def test_every_page_renders(client: TestClient) -> None:
    signed_in(client)
    for path in [
        "/subscriptions",
        "/subscriptions?customer_id=c1&sync_state=failed&page=x",
        "/subscriptions/s2",
        "/operations?status=failed&type=UpdateSubscriptionQuantityOnConnection",
        "/manual-actions",
        "/alerts",
        "/mappings",
        "/mappings?subscription_id=s3&connection_id=at1&contract_id=100&service_query=azure",
        "/reconciliation",
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-store"
        assert flash(response.text, "error") == [], path


def test_a_refused_change_flashes_an_error_and_alerts_can_be_acknowledged(
    client: TestClient, service: ContractSync
) -> None:
    token = signed_in(client)
    change = client.post(
        "/subscriptions/s1/quantity",
        data={"csrf_token": token, "quantity": "30", "effective_date": "2028-02-01", "confirmed": "1"},
    )
    assert flash(change.text, "ok") == []
    assert flash(change.text, "error") == [
        "Quantity change to 30 was refused for Autotask: #6: Not sent: the effective date 2028-02-01 is "
        "outside the contract (2024-01-01 to 2027-12-31)"
    ]
    page = client.get("/alerts")
    assert 'action="/alerts/1/acknowledge"' in page.text and "sent to the webhook" not in page.text
    sent: list[dict[str, object]] = []
    service.notify_alerts(
        SimpleNamespace(notify=lambda alert, event: sent.append(alert))
    )  # as a worker would
    assert 1 in [alert["id"] for alert in sent]
    assert "sent to the webhook" in client.get("/alerts").text
    done = client.post("/alerts/1/acknowledge", data={"csrf_token": token})
    assert flash(done.text, "ok") == ["Alert #1 acknowledged; it stays listed until its cause is gone."]
    assert 'action="/alerts/1/acknowledge"' not in done.text and "Acknowledged" in done.text
    assert client.get("/alerts?state=resolved").status_code == 200


def test_the_subscription_page_shows_autotask_units_when_they_differ(
    tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path
) -> None:
    # Someone changes the units in Autotask: this test's own sandbox, the module's stays as it was.
    with SandboxAutotask() as autotask:
        own = Sample.build(autotask, _sqlite_template, tmp_path_factory.mktemp("own-sample"))
        service = own.service(tmp_path_factory.mktemp("own-service"))
        app = FastAPI()
        register_console(app, service, session_key=KEY)
        with TestClient(app) as client:
            signed_in(client)
            assert "data-autotask-units" not in client.get("/subscriptions/s1").text
            autotask.seed({"adjustments": [by_hand(2, "2026-11-24")]})
            page = client.get("/subscriptions/s1")
            assert 'data-autotask-units="12"' in page.text
            assert "Autotask: 12 on 2026-11-25" in page.text
            autotask.seed({"adjustments": [by_hand(-2, "2026-11-25")]})
            assert "data-autotask-units" not in client.get("/subscriptions/s1").text
        service.context.sessions.kw["bind"].dispose()


def by_hand(unit_change: int, day: str) -> dict[str, object]:
    """An adjustment of s1's contract service entered in Autotask by hand."""
    return {"contractID": 100, "contractServiceID": 1001, "effectiveDate": f"{day}T00:00:00",
            "unitChange": unit_change}  # fmt: skip


def test_the_audit_log_and_its_export_show_who_made_each_record(
    client: TestClient, service: ContractSync
) -> None:
    token = signed_in(client, RESELLER_TOKEN)
    client.post("/subscriptions/s1/quantity", data={"csrf_token": token, "quantity": "14", "action": "apply"})
    [record] = [op for op in service.list_operations(ADMIN)["items"] if op.get("actor")]
    who = record["actor"]
    assert who.startswith("console (token #")
    for page in ("/operations", "/operations?status=pending&subscription=s1"):
        html = client.get(page).text
        assert "<dt>Who</dt>" in html and f'<dd class="op-actor">{who}</dd>' in html, page
    lines = client.get("/operations.csv?subscription=s1").text.splitlines()
    assert lines[0].split(",")[-1] == "actor"
    assert [line.split(",")[-1] for line in lines[1:]].count(who) == 1
