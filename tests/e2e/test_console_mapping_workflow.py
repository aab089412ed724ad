"""Issue 13's mapping workflow in Chromium on the real stack: suggestions accepted in bulk, a
company that does not exist refused, unmap and remap recorded, a connection created and tested."""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from contractsync.service.actor import ADMIN
from tests.e2e.conftest import LiveConsole, screenshot, sign_in

pytestmark = pytest.mark.browser


def accept_dialogs(page: Page) -> Page:
    page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm asks before unmapping
    return page


@pytest.fixture(scope="module")
def companies(live: LiveConsole) -> dict[str, int]:
    """Two new customers of northwind, and Autotask companies that match them (one by exact name,
    one by a close name)."""
    seeded = httpx.post(
        f"{live.stack.sandbox.base_url}/sandbox/seed",
        json={"companies": [{"companyName": "Tailspin Toys Inc."}, {"companyName": "Wingtip Toys"}]},
    ).json()
    for customer_id, name in (("tailspin", "Tailspin Toys"), ("wingtip", "Wingtip Toys")):
        live.stack.service.create_customer(
            ADMIN, {"id": customer_id, "reseller_id": "northwind", "name": name, "provider_margins": {}}
        )
    tailspin, wingtip = seeded["companies"]
    return {"tailspin": tailspin, "wingtip": wingtip}


def test_suggestions_are_accepted_in_bulk(
    browser: Browser, live: LiveConsole, companies: dict[str, int]
) -> None:
    page = sign_in(browser, live)
    page.goto(f"{live.url}/customers")
    table = page.locator("#suggestions table")
    expect(table.locator("tr[data-suggestion=tailspin]")).to_contain_text("Tailspin Toys Inc.")
    expect(table.locator("tr[data-suggestion=tailspin]")).to_contain_text("name, legal form aside")
    expect(table.locator("tr[data-suggestion=wingtip]")).to_contain_text("name")
    screenshot(page, "customers-suggestions")
    page.click("#accept-selected")
    expect(page.locator(".flash-ok")).to_contain_text("2 customers mapped")
    expect(page.locator("#customer-list tr[data-customer=tailspin]")).to_contain_text(
        f"#{companies['tailspin']}"
    )
    expect(page.locator("#customer-list tr[data-customer=wingtip]")).to_contain_text("Wingtip Toys")
    expect(page.locator("#suggestions tr[data-suggestion]")).to_have_count(0)
    page.context.close()


def test_unmap_and_remap_are_recorded(browser: Browser, live: LiveConsole, companies: dict[str, int]) -> None:
    page = accept_dialogs(sign_in(browser, live))
    page.goto(f"{live.url}/customers")
    page.locator("#customer-list tr[data-customer=wingtip] button", has_text="Unmap").click()
    expect(page.locator(".flash-ok")).to_contain_text(
        f"unmapped from Autotask company {companies['wingtip']}"
    )
    expect(page.locator("#customer-list tr[data-customer=wingtip]")).to_contain_text("not mapped")
    # A company id that Autotask does not have is refused.
    page.locator("#customer-list tr[data-customer=wingtip] a", has_text="Map").click()
    page.fill("#company-search input[name=company_id]", "999999")
    page.locator("#company-search form[aria-label='Map by company id'] button").click()
    expect(page.locator(".flash-error")).to_contain_text("Autotask has no customer company 999999")
    # Remap tailspin to the company found by name.
    page.goto(f"{live.url}/customers?connection_id=demo-sandbox&customer_id=tailspin")
    page.fill("input[name=company_query]", "wingtip")
    page.click("#company-search form[aria-label='Search companies by name'] button")
    screenshot(page, "customers-remap")
    page.locator("#company-search ul.results button", has_text="Remap to Wingtip Toys").click()
    expect(page.locator(".flash-ok")).to_contain_text(
        f"remapped from Autotask company {companies['tailspin']} to {companies['wingtip']} (Wingtip Toys)"
    )
    page.goto(f"{live.url}/operations?type=CreateConnectionCustomerMapping")
    log = page.locator("article.op")
    expect(log.filter(has_text="remapped from")).to_have_count(1)
    expect(log.filter(has_text="unmapped from")).to_have_count(1)
    screenshot(page, "audit-log-customer-mappings")
    page.context.close()


def test_a_connection_is_created_and_tested(browser: Browser, live: LiveConsole) -> None:
    sandbox = live.stack.sandbox
    page = sign_in(browser, live)
    page.goto(f"{live.url}/connections")
    form = page.locator("#create-connection")
    form.locator("input[name=id]").fill("sandbox-eu")
    form.locator("select[name=reseller_id]").select_option("adatum")
    form.locator("input[name=username]").fill(sandbox.username)
    form.locator("input[name=secret]").fill(sandbox.secret)
    form.locator("input[name=integration_code]").fill(sandbox.integration_code)
    form.locator("input[name=base_url]").fill(sandbox.api_url)
    form.locator("input[name=timezone]").fill("Europe/Berlin")
    form.locator("select[name=currency]").select_option("EUR")
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash-ok")).to_contain_text(
        "Connection sandbox-eu created; Autotask accepted the credentials"
    )
    row = page.locator("#connection-list tr[data-connection=sandbox-eu]")
    expect(row.locator("select[name=currency]")).to_have_value("EUR")
    row.locator("button", has_text="Test").click()
    expect(page.locator(".flash-ok")).to_contain_text("sandbox-eu: Autotask accepted the credentials")
    screenshot(page, "connections")
    stored = next(c for c in live.stack.service.list_connections(ADMIN) if c["id"] == "sandbox-eu")
    assert not {"secret", "secret_encrypted"} & set(stored)  # the secret is write-only
    # Litware (adatum's customer) can now be mapped: its reseller has a connection.
    page.goto(f"{live.url}/customers?connection_id=sandbox-eu")
    expect(page.locator("#customer-list")).to_contain_text("Litware")
    page.goto(f"{live.url}/")
    expect(page.locator("#connections tr[data-connection=sandbox-eu]")).to_contain_text("EUR")
    expect(page).to_have_url(re.compile(r"/$"))
    page.context.close()


def test_a_subscription_suggested_by_sku_is_accepted_on_its_own(browser: Browser, live: LiveConsole) -> None:
    seeded = httpx.post(
        f"{live.stack.sandbox.base_url}/sandbox/seed",
        json={
            "services": [
                {
                    "name": "Enterprise suite (CSP)",
                    "sku": "CFQ7TTC0LF8S:0001",
                    "unitCost": "30.0000",
                    "unitPrice": "36.0000",
                    "periodType": 1,
                }
            ]
        },
    ).json()
    [service_id] = seeded["services"]
    today = date.today()
    start = today.replace(day=1)
    live.stack.service.create_subscription(ADMIN, {
        "id": "fabrikam-e5", "customer_id": "fabrikam", "offer_id": "CFQ7TTC0LF8S:0001:P1Y",
        "offer_name": "Microsoft 365 E5", "kind": "nce", "quantity": 4, "term": "P1Y",
        "billing_cycle": "monthly", "start_date": start.isoformat(),
        "end_date": (start.replace(year=start.year + 1) - timedelta(days=1)).isoformat(),
        "auto_renew": True, "list_price": "38.00",
    })  # fmt: skip
    page = sign_in(browser, live)
    page.goto(f"{live.url}/mappings")
    panel = page.locator("#subscription-suggestions-demo-sandbox")
    row = panel.locator("[data-suggestion=fabrikam-e5]")
    expect(row).to_contain_text("Enterprise suite (CSP)")
    expect(row).to_contain_text("by SKU (new service line)")
    expect(panel.locator("[data-suggestion=fabrikam-azure]")).to_be_visible()
    screenshot(page, "mappings-suggestions")
    row.locator("button", has_text="Accept").click()
    expect(page.locator(".flash-ok")).to_contain_text("1 subscription mapped to contract services")
    mapping = live.stack.service.get_subscription(ADMIN, "fabrikam-e5")["mapping"]
    assert mapping is not None and mapping["service_id"] == service_id
    # Only the one accepted: the other suggestion waits, and the mapped one is suggested no more.
    assert live.stack.service.get_subscription(ADMIN, "fabrikam-azure")["mapping"] is None
    expect(panel.locator("[data-suggestion=fabrikam-e5]")).to_have_count(0)
    expect(panel.locator("[data-suggestion=fabrikam-azure]")).to_be_visible()
    page.context.close()


def test_subscription_suggestions_are_accepted(browser: Browser, live: LiveConsole) -> None:
    page = sign_in(browser, live)
    page.goto(f"{live.url}/mappings")
    panel = page.locator("#subscription-suggestions-demo-sandbox")
    expect(panel.locator("[data-suggestion=fabrikam-azure]")).to_contain_text("Azure plan")
    panel.locator("button", has_text="Accept selected").click()
    expect(page.locator(".flash-ok")).to_contain_text("1 subscription mapped to contract services")
    mapping = live.stack.service.get_subscription(ADMIN, "fabrikam-azure")["mapping"]
    assert mapping is not None and mapping["connection_id"] == "demo-sandbox"
    page.context.close()
