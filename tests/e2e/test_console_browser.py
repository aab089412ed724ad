"""The console in a real browser against the real stack (SQLite, sandbox, worker)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from contractsync.service.actor import ADMIN
from tests.e2e.browser import DESKTOP, LAPTOP, PHONE
from tests.e2e.conftest import LiveConsole, screenshot, sign_in

pytestmark = pytest.mark.browser

WAIT_SECONDS = 30.0  # generous: the worker polls every 0.2 s, Autotask calls are local


HTMX_IDLE = "() => document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling') === null"


def wait_until(check: Callable[[], bool], what: str, seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def reload_until(page: Page, check: Callable[[], bool], what: str) -> None:
    def reloaded() -> bool:
        page.reload()
        return check()

    wait_until(reloaded, what)


def test_sign_in_shows_subscriptions_with_sync_badges(browser: Browser, live: LiveConsole) -> None:
    context = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    page = context.new_page()
    page.goto(f"{live.url}/operations")
    expect(page).to_have_url(re.compile(r"/signin\?next=/operations"))
    page.fill("#token", "not-a-token")
    page.click("form[action='/signin'] button[type=submit]")
    expect(page.locator(".flash-error")).to_contain_text("not valid")
    page.fill("#token", live.token)
    page.click("form[action='/signin'] button[type=submit]")
    expect(page).to_have_url(re.compile(r"/operations$"))
    expect(page.locator(".flash-ok")).to_contain_text("Signed in")
    page.goto(f"{live.url}/subscriptions")
    expect(page.locator("table.list")).to_contain_text("Microsoft 365 Business Standard")
    expect(page.locator(".badge", has_text="Unmapped").first).to_be_visible()
    screenshot(page, "subscriptions-desktop")
    page.click("header.top button:has-text('Sign out')")
    expect(page).to_have_url(re.compile(r"/signin$"))
    page.goto(f"{live.url}/subscriptions")
    expect(page).to_have_url(re.compile(r"/signin"))
    context.close()


def test_rotated_credentials_pause_deliveries_until_they_work_again(
    browser: Browser, live: LiveConsole
) -> None:
    sandbox = live.stack.sandbox
    page = sign_in(browser, live)
    subscription_id = "contoso-m365-standard"
    quantity = live.stack.service.get_subscription(ADMIN, subscription_id)["quantity"] + 2
    real_secret = sandbox.config.secret
    # Someone rotated the API user's secret in Autotask: every call is refused (401). The worker
    # pauses the connection and raises one alert; the change waits instead of failing.
    sandbox.config.secret = "rotated-by-someone-else"
    try:
        page.goto(f"{live.url}/subscriptions/{subscription_id}")
        page.fill("#quantity", str(quantity))
        page.click("button[value=apply]")
        expect(page.locator(".flash-ok")).to_contain_text(f"Quantity change to {quantity} recorded")
        page.goto(f"{live.url}/alerts")
        paused = page.locator("tr", has_text="refused the credentials")
        reload_until(page, lambda: paused.count() > 0, "the connection-paused alert")
        screenshot(page, "alerts-connection-paused")
        page.goto(f"{live.url}/operations?status=failed&subscription_id={subscription_id}")
        expect(page.locator("article.op", has_text="Quantity change")).to_have_count(0)
    finally:
        sandbox.config.secret = real_secret
    # The next probe finds the credentials working: the change is delivered and the alert goes.
    page.goto(f"{live.url}/operations?subscription_id={subscription_id}")
    card = page.locator("article.op", has_text="Quantity change").first
    reload_until(
        page, lambda: card.locator(".badge", has_text="Succeeded").count() > 0, "the change to be sent"
    )
    mapping = live.stack.service.get_subscription(ADMIN, subscription_id)["mapping"]
    timeline = httpx.get(
        f"{sandbox.base_url}/sandbox/contract-services/{mapping['contract_service_id']}/timeline"
    ).json()
    assert timeline["changes"][-1]["units"] == quantity
    page.goto(f"{live.url}/alerts")
    expect(page.locator("tr", has_text="refused the credentials")).to_have_count(0)
    page.goto(f"{live.url}/subscriptions/{subscription_id}")
    reload_until(
        page, lambda: page.locator("h1 .badge", has_text="Synced").count() > 0, "the subscription to sync"
    )
    screenshot(page, "subscription-detail")
    page.context.close()


def test_retry_refusal_is_shown_on_the_page(browser: Browser, live: LiveConsole) -> None:
    page = sign_in(browser, live)
    # A succeeded record cannot be retried: the form is not offered, so post it as a stale page would.
    operation_id = live.stack.service.list_operations(ADMIN, status="succeeded")["items"][0]["id"]
    page.goto(f"{live.url}/operations")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    response = page.request.post(
        f"{live.url}/operations/{operation_id}/retry", form={"csrf_token": token or ""}
    )
    # The refusal is a message on the page it lands on, never an error page.
    assert response.status == 200
    assert response.url.endswith("/operations")
    assert f"Operation #{operation_id} was not retried" in response.text()
    page.context.close()


def test_map_a_subscription_through_the_mappings_page(browser: Browser, live: LiveConsole) -> None:
    page = sign_in(browser, live)
    page.goto(f"{live.url}/mappings")
    page.locator("tr", has_text="fabrikam-azure").locator("a", has_text="Map").click()
    expect(page.locator("#map-panel")).to_contain_text("fabrikam-azure")
    expect(page.locator("#connection_id")).to_have_value("demo-sandbox")
    # The panel came in by an htmx swap: its select reacts only once htmx has settled it (under
    # load the change could otherwise fire before htmx listens, and nothing would follow).
    page.wait_for_function(HTMX_IDLE)
    page.locator("#contract_id").select_option(index=1)
    page.locator("#step-service").wait_for()
    page.locator("#step-service label", has_text="Azure plan").first.locator("input").check()
    screenshot(page, "mappings-picker")
    page.click("#step-service button[type=submit]")
    expect(page).to_have_url(re.compile(r"/subscriptions/fabrikam-azure$"))
    expect(page.locator(".flash-ok")).to_contain_text("is mapped to contract")
    mapping = live.stack.service.get_subscription(ADMIN, "fabrikam-azure")["mapping"]
    assert mapping is not None and mapping["connection_id"] == "demo-sandbox"
    reload_until(
        page, lambda: page.locator("h1 .badge", has_text="Synced").count() > 0, "the new mapping to sync"
    )
    page.context.close()


def test_form_post_without_csrf_token_is_refused_and_changes_nothing(
    browser: Browser, live: LiveConsole
) -> None:
    page = sign_in(browser, live)
    service = live.stack.service
    subscription_id = "contoso-m365-premium"
    before = service.get_subscription(ADMIN, subscription_id)
    operations_before = service.list_operations(ADMIN, subscription_id=subscription_id)["total"]
    # The browser's own session cookie goes along (as with a cross-site form), the token does not.
    for form in ({"quantity": "99"}, {"quantity": "99", "csrf_token": "forged"}):
        response = page.request.post(f"{live.url}/subscriptions/{subscription_id}/quantity", form=form)
        assert response.status == 403
        assert "Nothing was changed" in response.text()
    response = page.request.post(f"{live.url}/mappings/subscriptions/{subscription_id}/unmap", form={})
    assert response.status == 403
    after = service.get_subscription(ADMIN, subscription_id)
    assert after["quantity"] == before["quantity"]
    assert after["mapping"] == before["mapping"]
    assert service.list_operations(ADMIN, subscription_id=subscription_id)["total"] == operations_before
    page.context.close()


PAGES = [
    "/",
    "/subscriptions",
    "/subscriptions/contoso-e3-legacy",
    "/operations",
    "/manual-actions",
    "/alerts",
    "/mappings",
    "/mappings?subscription_id=litware-m365-premium",
    "/reconciliation",
    "/customers",
    "/connections",
    "/partner-center",
]


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP, DESKTOP], ids=["390px", "1024px", "1280px"])
def test_pages_fit_the_screen_without_horizontal_page_scroll(
    browser: Browser, live: LiveConsole, viewport: dict[str, int]
) -> None:
    page = sign_in(browser, live, viewport)
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    # Console errors include Content-Security-Policy violations (an inline script or style).
    page.on(
        "console", lambda message: script_errors.append(message.text) if message.type == "error" else None
    )
    for path in PAGES:
        response = page.goto(f"{live.url}{path}")
        assert response is not None and response.status == 200, path
        expect(page.locator("h1").first).to_be_visible()
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} overflows by {overflow}px at {viewport['width']}px"
        if viewport["width"] >= LAPTOP["width"]:
            # From 1024 px on, every table fits its box: no column hides behind a scroll bar.
            cut = page.evaluate(
                "Math.max(0, ...[...document.querySelectorAll('.scroll')].map(e => e.scrollWidth - e.clientWidth))"
            )
            assert cut <= 1, f"a table on {path} is cut by {cut}px at {viewport['width']}px"
        name = re.sub(r"[^a-z0-9]+", "-", path.strip("/")) or "home"
        screenshot(page, f"{name}-{viewport['width']}")
    assert script_errors == []
    page.context.close()


def test_console_works_without_javascript(browser: Browser, live: LiveConsole) -> None:
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)  # type: ignore[arg-type]
    page = context.new_page()
    page.goto(f"{live.url}/subscriptions")
    page.fill("#token", live.token)
    page.click("form[action='/signin'] button[type=submit]")
    page.wait_for_url(re.compile(r"^[^?]*/subscriptions$"))
    page.select_option("select[name=sync_state]", "synced")
    page.click("form.filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"sync_state=synced"))
    expect(page.locator("table.list")).not_to_contain_text("Unmapped")
    page.goto(f"{live.url}/subscriptions/contoso-e3-legacy")
    page.fill("#quantity", "30")
    page.click("button[value=preview]")
    expect(page.locator("section.preview")).to_contain_text("nothing was stored or sent")
    expect(page.locator("section.preview")).to_contain_text("+5")
    assert live.stack.service.get_subscription(ADMIN, "contoso-e3-legacy")["quantity"] == 25
    page.goto(f"{live.url}/mappings?subscription_id=contoso-e3-legacy")
    page.click("#step-contract button[type=submit]")  # "Show options" instead of htmx's on-change
    expect(page.locator("#contract_id")).to_be_visible()
    context.close()


def test_a_cookie_copied_before_sign_out_opens_nothing_afterwards(
    browser: Browser, live: LiveConsole
) -> None:
    """On the real stack: the session is on the server, so signing out ends it for every copy."""
    page = sign_in(browser, live)
    copied = page.context.cookies()
    page.click("header.top button:has-text('Sign out')")
    expect(page).to_have_url(re.compile(r"/signin$"))
    thief = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    thief.add_cookies(copied)  # type: ignore[arg-type]
    stolen = thief.new_page()
    stolen.goto(f"{live.url}/subscriptions")
    expect(stolen).to_have_url(re.compile(r"/signin\?next=/subscriptions"))
    # An unknown console page is a page, in the console's look, not JSON.
    stolen.goto(f"{live.url}/no-such-page")
    expect(stolen.locator("h1")).to_contain_text("Page not found")
    thief.close()
    page.context.close()
