"""Issue 13's walkthrough in Chromium on the real stack: the dashboard, a big quantity change with
preview and confirmation, the audit log's filters and CSV export. Each page is screenshotted into
the screenshots folder (`make screenshots` copies them into docs/screenshots/)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Browser, expect

from contractsync.service.actor import ADMIN
from tests.e2e.conftest import LiveConsole, screenshot, sign_in

pytestmark = pytest.mark.browser


def test_dashboard_shows_money_states_and_the_trend(browser: Browser, live: LiveConsole) -> None:
    page = sign_in(browser, live)
    page.goto(f"{live.url}/")
    expect(page.locator("h1")).to_have_text("Dashboard")
    row = page.locator("#connections tr[data-connection=demo-sandbox]")
    expect(row).to_contain_text("$")  # MRR with its currency
    expect(row.locator(".badge", has_text="synced")).to_be_visible()
    expect(page.locator("#connections thead")).to_contain_text("Markup on cost (margin)")
    expect(page.locator("figure.chart svg.trend rect.bar").first).to_be_attached()
    expect(page.locator("#customers")).to_contain_text("Contoso Ltd")
    screenshot(page, "dashboard")
    page.locator("#customers a", has_text="Contoso Ltd").click()
    expect(page).to_have_url(re.compile(r"/subscriptions\?customer_id=contoso$"))
    page.context.close()


def test_big_quantity_change_previews_the_money_and_asks_to_confirm(
    browser: Browser, live: LiveConsole
) -> None:
    service = live.stack.service
    subscription_id = "contoso-m365-standard"
    before = service.get_subscription(ADMIN, subscription_id)["quantity"]
    wanted = before + 150
    named = service.create_token(None, name="Dana (billing)")  # the audit log's "who"
    page = sign_in(browser, live, token=named)
    page.goto(f"{live.url}/subscriptions/{subscription_id}")
    page.fill("#quantity", str(wanted))
    page.click("button[value=preview]")
    preview = page.locator("section.preview")
    expect(preview).to_contain_text("nothing was stored or sent")
    expect(preview).to_contain_text(f"{before} → {wanted} seats (+150)")
    expect(preview.locator(".change")).to_contain_text("per month")
    expect(page.locator("#quantity")).to_have_value(str(wanted))  # what was typed stays
    screenshot(page, "quantity-preview")
    page.click("button[value=apply]")
    confirm = page.locator("#confirm")
    expect(confirm).to_contain_text("Confirm this big change")
    assert service.get_subscription(ADMIN, subscription_id)["quantity"] == before  # not yet
    screenshot(page, "quantity-confirm")
    page.click("#confirm-change")
    expect(page.locator(".flash-ok")).to_contain_text(f"Quantity change to {wanted} recorded")
    assert service.get_subscription(ADMIN, subscription_id)["quantity"] == wanted
    page.goto(
        f"{live.url}/operations?subscription={subscription_id}&type=UpdateSubscriptionQuantityOnConnection"
    )
    expect(page.locator("article.op .op-actor").first).to_have_text("console (Dana (billing))")
    page.context.close()


def test_audit_log_filters_and_exports_csv(browser: Browser, live: LiveConsole) -> None:
    page = sign_in(browser, live)
    page.goto(f"{live.url}/operations")
    page.select_option("select[name=customer_id]", label="Contoso Ltd")
    page.fill("input[name=subscription]", "M365")
    page.select_option("select[name=type]", label="Subscription mapping")
    page.click("form.filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"customer_id=contoso.*subscription=M365"))
    cards = page.locator("article.op")
    expect(cards.first).to_contain_text("Subscription mapping")
    assert cards.count() >= 1
    expect(page.locator("article.op", has_text="Fabrikam")).to_have_count(0)
    screenshot(page, "audit-log-filtered")
    with page.expect_download() as download:
        page.click("#export-operations")
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and all(r["customer_id"] == "contoso" and "m365" in r["subscription_id"] for r in rows)
    assert {r["operation"] for r in rows} == {"Subscription mapping"}
    page.goto(f"{live.url}/subscriptions")
    with page.expect_download() as download:
        page.click("#export-subscriptions")
    listed = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert {"contoso-m365-standard", "fabrikam-azure"} <= {r["id"] for r in listed}
    page.context.close()


def test_partner_center_page_shows_each_sources_polls(browser: Browser, live: LiveConsole) -> None:
    page = sign_in(browser, live)
    page.goto(f"{live.url}/partner-center")
    source = page.locator("article[data-source=demo-partner-center]")
    expect(source).to_contain_text("Next poll")
    expect(source.locator("li[data-counter=customers_seen]")).to_be_visible()
    screenshot(page, "partner-center")
    page.context.close()
