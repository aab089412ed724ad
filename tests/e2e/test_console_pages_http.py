"""Console pages of issue 13 over HTTP on the in-memory façade: money, dashboard, guardrails, errors."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from contractsync.settings import Settings
from contractsync.web import register_console
from tests.e2e.test_console_http import KEY, csrf, flash, signed_in
from tests.fakes.fake_service import FakeContractSync

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    from starlette.testclient import TestClient


@pytest.fixture
def fake() -> FakeContractSync:
    fake = FakeContractSync.with_sample_data()
    fake.currencies["at1"] = "EUR"
    return fake


@pytest.fixture
def web(fake: FakeContractSync) -> Iterator[TestClient]:
    app = FastAPI()
    settings = Settings(_env_file=None, currency="GBP", console_locale="en_GB")
    register_console(app, fake, session_key=KEY, settings=settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_money_has_its_connections_currency_and_two_decimals(web: TestClient) -> None:
    signed_in(web)
    listing = text_of(web.get("/subscriptions").text)
    assert "€15.00" in listing  # s1 and s2: mapped on at1, whose currency is EUR
    assert "£12.50" in listing  # s3: unmapped, the configured default (GBP, en_GB)
    page = web.get("/subscriptions/s1").text
    assert "Custom markup on cost" in page and "(margin)" in page
    assert "1 year , billed monthly" in text_of(page) and "New commerce, 1 year" in listing


def test_operation_names_are_plain_with_the_technical_type_in_a_tooltip(web: TestClient) -> None:
    signed_in(web)
    page = web.get("/operations").text
    assert 'title="UpdateSubscriptionQuantityOnConnection">Quantity change<' in page


def test_dashboard_lists_connections_and_customers_with_links(
    web: TestClient, fake: FakeContractSync
) -> None:
    fake.dashboard_answer = {
        "today": "2026-11-25",
        "connections": [
            {"id": "at1", "reseller_id": "r1", "currency": "EUR", "mrr": "375.0000", "cost": "312.5000",
             "markup_percent": "20.00", "subscriptions": {"synced": 1, "out_of_sync": 1}, "failed_records": 2,
             "last_delivery": "2026-11-25T10:00:00Z", "open_alerts": 1, "open_manual_actions": 1,
             "last_reconciliation": {"finished_at": "2026-11-25T09:00:00Z", "money_impact": "-75.0000",
                                     "currency": "EUR", "error": None}},
        ],
        "customers": [
            {"id": "c1", "name": "Contoso Ltd", "connection_id": "at1", "mrr": "375.0000", "cost": "312.5000",
             "markup_percent": "20.00", "seats": 35, "subscriptions": {"synced": 1}, "failed_records": 2,
             "open_manual_actions": 1, "company_id": 1, "unmapped_mrr": "0.0000"},
        ],
        "unmapped": {"subscriptions": {"unmapped": 1}, "unmapped_mrr": "12.5000"},
        "trend": {"at1": [{"date": "2026-10-01", "mrr": "300.0000", "cost": "250.0000", "seats": 28},
                          {"date": "2026-11-01", "mrr": "375.0000", "cost": "312.5000", "seats": 35}]},
        "open_alerts": 1,
        "open_manual_actions": 1,
    }  # fmt: skip
    signed_in(web)
    page = web.get("/")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "€375.00" in text and "€312.50" in text and "20 %" in text
    assert "Markup on cost (margin)" in text
    assert "-€75.00" in text  # money at risk from the last reconciliation
    assert 'href="/reconciliation?connection_id=at1"' in page.text
    assert 'href="/subscriptions?customer_id=c1"' in page.text
    assert 'href="/operations?status=failed"' in page.text
    assert "<svg" in page.text and page.text.count('class="bar"') == 2
    assert "£12.50 a month not billed in Autotask" in text


def test_signed_out_home_goes_to_sign_in(web: TestClient) -> None:
    response = web.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/signin"


def test_preview_keeps_what_was_typed_and_shows_the_money_change(
    web: TestClient, fake: FakeContractSync
) -> None:
    token = signed_in(web)
    page = web.post(
        "/subscriptions/s1/quantity", data={"csrf_token": token, "quantity": "12", "action": "preview"}
    )
    assert page.status_code == 200
    assert (
        'id="quantity" name="quantity" type="number" min="0" step="1" inputmode="numeric" value="12"'
        in page.text
    )
    text = text_of(page.text)
    assert "10 → 12 seats (+2)" in text and "+€30.00 per month" in text
    assert "Preview: would be recorded" in text and "#4" not in text  # nothing stored, no id shown
    assert fake.subscriptions["s1"]["quantity"] == 10


def test_a_big_change_asks_for_confirmation_first(web: TestClient, fake: FakeContractSync) -> None:
    token = signed_in(web)
    page = web.post(
        "/subscriptions/s1/quantity", data={"csrf_token": token, "quantity": "100000", "action": "apply"}
    )
    assert page.status_code == 200
    assert "Confirm this big change" in page.text
    assert "+€1,499,850.00 per month" in text_of(page.text)
    assert fake.subscriptions["s1"]["quantity"] == 10  # nothing stored yet
    confirmed = web.post(
        "/subscriptions/s1/quantity",
        data={"csrf_token": token, "quantity": "100000", "action": "apply", "confirmed": "1"},
    )
    assert flash(confirmed.text, "ok") and fake.subscriptions["s1"]["quantity"] == 100_000
    small = web.post(
        "/subscriptions/s2/quantity", data={"csrf_token": token, "quantity": "26", "action": "apply"}
    )
    assert "Confirm" not in small.text and fake.subscriptions["s2"]["quantity"] == 26


def test_bounds_are_explained_in_plain_words(web: TestClient) -> None:
    token = signed_in(web)
    for typed in ("-1", "99999999999", "1e3"):
        page = web.post(
            "/subscriptions/s1/quantity", data={"csrf_token": token, "quantity": typed, "action": "apply"}
        )
        assert page.status_code == 422
        message = " ".join(flash(page.text, "error"))
        assert "from 0 to 1,000,000" in message and "None" not in message
        assert f'value="{typed}"' in page.text  # what was typed stays in the field


def test_errors_are_console_pages_and_the_favicon_exists(web: TestClient, fake: FakeContractSync) -> None:
    signed_in(web)
    missing = web.get("/no-such-page")
    assert missing.status_code == 404 and "Page not found" in missing.text
    assert missing.headers["content-type"].startswith("text/html")
    wrong = web.put("/subscriptions")
    assert wrong.status_code == 405 and "Not allowed here" in wrong.text
    fake.dashboard = None  # type: ignore[assignment,method-assign]  # the home page crashes
    crash = web.get("/")
    assert crash.status_code == 500 and "Something went wrong" in crash.text
    icon = web.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg")
    assert 'rel="icon"' in web.get("/subscriptions").text


def test_a_pending_badge_polls_until_settled(web: TestClient, fake: FakeContractSync) -> None:
    signed_in(web)
    fake.subscriptions["s1"]["sync_state"] = "pending"
    page = web.get("/subscriptions").text
    assert 'hx-get="/subscriptions/s1/sync-badge" hx-trigger="every 2s"' in page
    assert web.get("/subscriptions/s1/sync-badge").text.count("every 2s") == 1
    fake.subscriptions["s1"]["sync_state"] = "synced"
    settled = web.get("/subscriptions/s1/sync-badge").text
    assert "hx-trigger" not in settled and "Synced" in settled
    assert csrf(web, "/subscriptions")


def csv_rows(text: str) -> list[list[str]]:
    import csv
    import io

    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_audit_log_filters_and_its_csv_export(web: TestClient, fake: FakeContractSync) -> None:
    signed_in(web)
    page = web.get("/operations?customer_id=c1&subscription=S2&status=failed&recorded_from=2026-11-01")
    assert page.status_code == 200
    assert fake.calls_to("search_operations")[-1][1] == {
        "customer_id": "c1", "subscription": "S2", "status": "failed", "recorded_from": "2026-11-01"
    }  # fmt: skip
    assert (
        'href="/operations.csv?customer_id=c1&amp;subscription=S2&amp;status=failed&amp;recorded_from=2026-11-01"'
        in page.text
    )
    assert "Contoso Ltd" in page.text  # the customer's name on each record
    export = web.get("/operations.csv?subscription=s2")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert "filename*=UTF-8''audit-log.csv" in export.headers["content-disposition"]
    rows = csv_rows(export.text)
    assert rows[0][:9] == ["id", "recorded_at", "customer_id", "customer", "subscription_id", "connection_id",
                           "operation", "type", "status"]  # fmt: skip
    assert [r[4] for r in rows[1:]] == ["s2"]
    assert rows[1][6:9] == ["Quantity change", "UpdateSubscriptionQuantityOnConnection", "failed"]
    assert rows[1][14:17] == ["15.0000", "12.5000", "EUR"]  # four places, its currency beside it


def test_subscription_and_reconciliation_exports(web: TestClient, fake: FakeContractSync) -> None:
    signed_in(web)
    fake.customers["c2"]["name"] = '=HYPERLINK("http://evil")'
    rows = csv_rows(web.get("/subscriptions.csv").text)
    header = rows[0]
    by_id = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert set(by_id) == {"s1", "s2", "s3"}
    assert by_id["s1"]["unit_price"] == "15.0000" and by_id["s1"]["currency"] == "EUR"
    assert by_id["s1"]["markup_on_cost_percent"] == "20.00"
    assert by_id["s3"]["currency"] == "GBP" and by_id["s3"]["customer"].startswith("'=")  # no formula
    only = csv_rows(web.get("/subscriptions.csv?sync_state=out_of_sync").text)
    assert [r[0] for r in only[1:]] == ["s2"]
    recon = csv_rows(web.get("/reconciliation.csv?connection_id=at1").text)
    assert recon[0][:2] == ["kind", "subscription_id"] and recon[1][1] == "s2"
    assert recon[1][recon[0].index("money_impact")] == "-75.0000"
    assert web.get("/reconciliation.csv?connection_id=nope").status_code == 404


def polling_source(status: str) -> dict[str, object]:
    return {
        "id": "pc1", "reseller_id": "r1", "tenant_id": "partner-tenant", "poll_minutes": 15, "webhook_url": None,
        "poll": {"status": status, "started_at": "2026-11-25T13:58:00Z", "last_poll_at": "2026-11-25T13:45:00Z",
                 "next_poll_at": "2026-11-25T14:00:00Z", "resumes_at_page": False, "last_error": None,
                 "progress": {"customers_seen": 120, "subscriptions_seen": 600, "requests": 1234},
                 "manual_actions": [{"kind": "needs_price", "subscription_id": "pc-sub-9", "tenant_id": "t9",
                                     "reason": "not created: no list price is known"}]},
    }  # fmt: skip


def test_partner_center_page_shows_progress_and_polls_while_running(
    web: TestClient, fake: FakeContractSync
) -> None:
    fake.pc_sources = [polling_source("running")]
    signed_in(web)
    page = web.get("/partner-center")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Polling" in text and "2026-11-25 13:45 UTC" in text and "2026-11-25 14:00 UTC" in text
    assert "120 customers read" in text and "1,234 Partner Center requests" in text
    assert 'hx-get="/partner-center/polls" hx-trigger="every 3s"' in page.text
    fake.pc_sources[0]["poll"]["status"] = "idle"  # type: ignore[index]
    settled = web.get("/partner-center/polls").text
    assert "hx-trigger" not in settled and "Idle" in settled


def test_needs_price_is_listed_with_the_manual_actions(web: TestClient, fake: FakeContractSync) -> None:
    fake.pc_sources = [polling_source("idle")]
    signed_in(web)
    page = web.get("/manual-actions")
    text = text_of(page.text)
    assert "From Partner Center polls (1)" in text
    assert "Needs a list price" in text and "pc-sub-9" in text and "no list price is known" in text
    assert "price list" in text  # what to do


def test_autotask_names_stand_beside_their_ids(web: TestClient) -> None:
    signed_in(web)
    page = text_of(web.get("/subscriptions/s1").text)
    assert "Contoso managed services 2026 #100" in page
    assert "Microsoft 365 Business Standard #7" in page
    assert "Autotask company Contoso Ltd #1" in page
    mapped = text_of(web.get("/mappings").text)
    assert "Contoso managed services 2026 #100" in mapped


def test_alerts_name_the_customer(web: TestClient, fake: FakeContractSync) -> None:
    fake.alerts[0]["message"] = "subscription s3 of mapped customer c2 is not mapped"
    signed_in(web)
    assert "of mapped customer Fabrikam Inc (c2) is not mapped" in web.get("/alerts").text
    # A message the service named already is left as it is (no "Fabrikam Inc (c2) (Fabrikam Inc, …)").
    fake.alerts[0]["message"] = (
        "subscription s3 of mapped customer c2 (Fabrikam Inc, Autotask company #2) is not mapped"
    )
    assert (
        "of mapped customer c2 (Fabrikam Inc, Autotask company #2) is not mapped" in web.get("/alerts").text
    )
