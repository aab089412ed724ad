"""Console pages of issue 13 over HTTP on the real façade with the console sample (`tests/
memory_service.py`): money, dashboard, guardrails, errors."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from contractsync.adapters.autotask.outbound import OutboundPolicy
from contractsync.adapters.partner_center.factory import client_for_source
from contractsync.partner_center_sandbox.server import PartnerCenterSandbox
from contractsync.partner_center_sandbox.state import Fault as PartnerCenterFault
from contractsync.partner_center_sandbox.state import SandboxConfig as PartnerCenterConfig
from contractsync.service.actor import ADMIN
from contractsync.service.errors import ServiceError
from contractsync.service.facade import ContractSync
from contractsync.service.partner_center import PartnerCenter
from contractsync.settings import Settings
from contractsync.web import register_console
from contractsync.web.overview_pages import with_customer_names
from tests.e2e.test_console_http import KEY, csrf, flash, signed_in
from tests.memory_service import TODAY, BreakableUnits, memory_service, quantity, subscription

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    from starlette.testclient import TestClient


@pytest.fixture
def service(sample_service: ContractSync) -> ContractSync:
    """The sample: connection at1 reports in EUR, the configured default below is GBP."""
    return sample_service


@pytest.fixture
def web(service: ContractSync) -> Iterator[TestClient]:
    app = FastAPI()
    settings = Settings(_env_file=None, currency="GBP", console_locale="en_GB")
    register_console(app, service, session_key=KEY, settings=settings)
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


def test_dashboard_lists_connections_and_customers_with_links(web: TestClient, service: ContractSync) -> None:
    service.reconciliation(ADMIN, "at1")  # s2's contract ended in Autotask: money at risk
    signed_in(web)
    page = web.get("/")
    assert page.status_code == 200
    text = text_of(page.text)
    # s1 10 and s2 20 seats as sent (s2's change to 25 was refused) at €15.00, cost €12.50
    assert "€450.00" in text and "€375.00" in text and "20 %" in text
    assert "Markup on cost (margin)" in text
    assert "+€100.00" in text  # money at risk from the last reconciliation
    assert 'href="/reconciliation?connection_id=at1"' in page.text
    assert 'href="/subscriptions?customer_id=c1"' in page.text
    assert 'href="/operations?status=failed"' in page.text
    trend = service.dashboard(ADMIN)["trend"]["at1"]
    assert "<svg" in page.text and page.text.count('class="bar"') == len(trend) == 13
    assert "£12.50 a month not billed in Autotask" in text


def test_signed_out_home_goes_to_sign_in(web: TestClient) -> None:
    response = web.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/signin"


def test_preview_keeps_what_was_typed_and_shows_the_money_change(
    web: TestClient, service: ContractSync
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
    assert "Preview: would be recorded" in text and "#6" not in text  # nothing stored, no id shown
    assert service.get_subscription(ADMIN, "s1")["quantity"] == 10


def test_a_big_change_asks_for_confirmation_first(web: TestClient, service: ContractSync) -> None:
    token = signed_in(web)
    page = web.post(
        "/subscriptions/s1/quantity", data={"csrf_token": token, "quantity": "100000", "action": "apply"}
    )
    assert page.status_code == 200
    assert "Confirm this big change" in page.text
    assert "+€1,499,850.00 per month" in text_of(page.text)
    assert service.get_subscription(ADMIN, "s1")["quantity"] == 10  # nothing stored yet
    confirmed = web.post(
        "/subscriptions/s1/quantity",
        data={"csrf_token": token, "quantity": "100000", "action": "apply", "confirmed": "1"},
    )
    assert flash(confirmed.text, "ok") and service.get_subscription(ADMIN, "s1")["quantity"] == 100_000
    small = web.post(
        "/subscriptions/s2/quantity", data={"csrf_token": token, "quantity": "26", "action": "apply"}
    )
    assert "Confirm" not in small.text and service.get_subscription(ADMIN, "s2")["quantity"] == 26


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


def test_errors_are_console_pages_and_the_favicon_exists(web: TestClient) -> None:
    signed_in(web)
    missing = web.get("/no-such-page")
    assert missing.status_code == 404 and "Page not found" in missing.text
    assert missing.headers["content-type"].startswith("text/html")
    wrong = web.put("/subscriptions")
    assert wrong.status_code == 405 and "Not allowed here" in wrong.text
    icon = web.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg")
    assert 'rel="icon"' in web.get("/subscriptions").text


@pytest.mark.usefixtures("quiet_crashes")
def test_a_crash_is_a_console_page() -> None:
    units = BreakableUnits()
    with console_of(memory_service(units=units)) as web:
        signed_in(web)
        assert web.get("/").status_code == 200
        units.failure = RuntimeError("database exploded: SELECT secret FROM somewhere")
        crash = web.get("/")
    assert crash.status_code == 500 and "Something went wrong" in crash.text
    assert "exploded" not in crash.text


def test_a_pending_badge_polls_until_settled(web: TestClient, service: ContractSync) -> None:
    signed_in(web)
    service.apply_operation(ADMIN, "s1", quantity(12))  # waits for the worker
    page = web.get("/subscriptions").text
    assert 'hx-get="/subscriptions/s1/sync-badge" hx-trigger="every 2s"' in page
    assert web.get("/subscriptions/s1/sync-badge").text.count("every 2s") == 1
    service.apply_operation(ADMIN, "s1", quantity(10))  # back the same day: nothing left to send
    settled = web.get("/subscriptions/s1/sync-badge").text
    assert "hx-trigger" not in settled and "Synced" in settled
    assert csrf(web, "/subscriptions")


def csv_rows(text: str) -> list[list[str]]:
    import csv
    import io

    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_audit_log_filters_and_its_csv_export(web: TestClient, service: ContractSync) -> None:
    signed_in(web)
    page = web.get("/operations?customer_id=c1&subscription=S2&status=failed&recorded_from=2026-11-01")
    assert page.status_code == 200
    assert re.findall(r">#(\d+)<", page.text) == ["5", "4"]  # s2's failed records, newest first
    assert "2 in all" in text_of(page.text)
    later = web.get("/operations?customer_id=c1&subscription=S2&status=failed&recorded_from=2026-11-26")
    assert re.findall(r">#(\d+)<", later.text) == []
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
    assert [(r[0], r[4]) for r in rows[1:]] == [("5", "s2"), ("4", "s2"), ("2", "s2")]
    assert rows[1][6:9] == ["Quantity change", "UpdateSubscriptionQuantityOnConnection", "failed"]
    assert rows[1][14:17] == ["15.0000", "12.5000", "EUR"]  # four places, its currency beside it


def test_subscription_and_reconciliation_exports(web: TestClient, service: ContractSync) -> None:
    signed_in(web)
    service.create_customer(ADMIN, {"id": "c3", "reseller_id": "r1", "name": '=HYPERLINK("http://evil")'})
    service.create_subscription(ADMIN, subscription("s4", "c3", "Microsoft 365 E5", "nce", 2))
    rows = csv_rows(web.get("/subscriptions.csv").text)
    header = rows[0]
    by_id = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert set(by_id) == {"s1", "s2", "s3", "s4"}
    assert by_id["s1"]["unit_price"] == "15.0000" and by_id["s1"]["currency"] == "EUR"
    assert by_id["s1"]["markup_on_cost_percent"] == "20.00"
    assert by_id["s3"]["currency"] == "GBP"
    assert by_id["s4"]["customer"].startswith("'=")  # no formula
    only = csv_rows(web.get("/subscriptions.csv?sync_state=failed").text)
    assert [r[0] for r in only[1:]] == ["s2"]
    recon = csv_rows(web.get("/reconciliation.csv?connection_id=at1").text)
    assert recon[0][:2] == ["kind", "subscription_id"] and [r[1] for r in recon[1:]] == ["s2", "s2"]
    # Autotask ended s2's contract on 2026-11-20: the 20 seats sent are missing from 2026-11-21.
    drift = dict(zip(recon[0], recon[1], strict=True))
    assert (drift["kind"], drift["from"], drift["expected_units"], drift["autotask_units"]) == (
        "drift",
        "2026-11-21",
        "20",
        "0",
    )
    assert drift["money_impact"] == "100.0000" and drift["currency"] == "EUR"
    assert web.get("/reconciliation.csv?connection_id=nope").status_code == 404


@pytest.fixture(scope="module")
def pc_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PartnerCenterSandbox]:
    """The Partner Center sandbox: 3 customers with 2 subscriptions each."""
    config = PartnerCenterConfig(seed="3x2", today=lambda: TODAY)
    with PartnerCenterSandbox(tmp_path_factory.mktemp("pc"), config) as pc:
        yield pc


@pytest.fixture
def partner_center(
    pc_sandbox: PartnerCenterSandbox,
) -> Iterator[tuple[ContractSync, PartnerCenter, PartnerCenterSandbox]]:
    """Reseller r1's Partner Center source pc1 without a price list, on the façade over the
    in-memory unit of work."""
    pc = pc_sandbox
    outbound = OutboundPolicy.from_setting(pc.host_port).for_partner_center(
        pc.ca_file, pc.webhook_certificate_url, pc.webhook_ca_file, pc.webhook_organization
    )
    service = memory_service(outbound=outbound)
    service.create_reseller(ADMIN, {"id": "r1", "name": "Reseller One", "promotion_setting": "keep"})
    secrets = service.context.secrets
    center = PartnerCenter(
        service,
        lambda row, store: client_for_source(row, secrets, store, outbound=outbound, sleep=lambda s: None),
    )
    center.create_source(
        ADMIN,
        {
            "id": "pc1", "reseller_id": "r1", "tenant_id": pc.config.partner_tenant,
            "application_id": pc.config.client_id, "secret": pc.config.client_secret,
            "refresh_token": pc.config.refresh_token, "authority_host": pc.base_url,
            "api_root": pc.api_root, "price_list": {},
        },
    )  # fmt: skip
    yield service, center, pc
    pc.state.faults.clear()


def console_of(service: ContractSync) -> TestClient:
    app = FastAPI()
    register_console(app, service, session_key=KEY, settings=Settings(_env_file=None, console_locale="en_GB"))
    return TestClient(app, raise_server_exceptions=False)


def test_partner_center_page_shows_progress_and_polls_while_running(
    partner_center: tuple[ContractSync, PartnerCenter, PartnerCenterSandbox],
) -> None:
    service, center, pc = partner_center
    center.polling.group_size = center.polling.page_size = 1
    second = list(pc.state.customers)[1]
    # The second customer's subscriptions fail past every retry: the poll stops after the first,
    pc.state.faults.append(PartnerCenterFault(500, 100, path_contains=f"/customers/{second}/subscriptions"))
    with pytest.raises(ServiceError, match="resumes where it stopped"):
        center.poll(ADMIN, "pc1")
    pc.state.faults.clear()
    center.polling._claim(ADMIN, "pc1")  # and another worker resumes it now
    with console_of(service) as web:
        signed_in(web)
        page = web.get("/partner-center")
        assert page.status_code == 200
        text = text_of(page.text)
        assert "Polling" in text and "2026-11-25 14:00 UTC" in text  # started, and due again
        assert "2 customers read" in text and "Partner Center requests" in text
        assert 'hx-get="/partner-center/polls" hx-trigger="every 3s"' in page.text
        service.context.clock.advance(center.polling.lease_seconds + 1)  # that worker died
        assert center.poll(ADMIN, "pc1")["poll"]["status"] == "idle"
        settled = web.get("/partner-center/polls").text
        assert "hx-trigger" not in settled and "Idle" in settled


def test_needs_price_is_listed_with_the_manual_actions(
    partner_center: tuple[ContractSync, PartnerCenter, PartnerCenterSandbox],
) -> None:
    service, center, pc = partner_center
    center.poll(ADMIN, "pc1")
    waiting = sorted(s for subscriptions in pc.state.subscriptions.values() for s in subscriptions)
    with console_of(service) as web:
        signed_in(web)
        text = text_of(web.get("/manual-actions").text)
    assert "From Partner Center polls (6)" in text
    assert text.count("Needs a list price") == 6 and "no list price is known" in text
    assert all(subscription_id in text for subscription_id in waiting)
    assert "price list" in text  # what to do


def test_autotask_names_stand_beside_their_ids(web: TestClient) -> None:
    signed_in(web)
    page = text_of(web.get("/subscriptions/s1").text)
    assert "Contoso managed services 2026 #100" in page
    assert "Microsoft 365 Business Standard #7" in page
    assert "Autotask company Contoso Ltd #1" in page
    mapped = text_of(web.get("/mappings").text)
    assert "Contoso managed services 2026 #100" in mapped


def test_alerts_name_the_customer(web: TestClient, service: ContractSync) -> None:
    names = {"c2": "Fabrikam Inc"}
    assert with_customer_names("subscription s3 of mapped customer c2 is not mapped", names) == (
        "subscription s3 of mapped customer Fabrikam Inc (c2) is not mapped"
    )  # a message stored before the service named customers
    # c2 mapped with s3 unmapped: the service names the customer; the page leaves that as it is
    # (no "Fabrikam Inc (c2) (Fabrikam Inc, …)").
    service.map_customer(ADMIN, {"customer_id": "c2", "connection_id": "at1", "company_id": 2})
    signed_in(web)
    assert (
        "subscription s3 of mapped customer c2 (Fabrikam Inc, Autotask company Fabrikam Inc #2) is not mapped"
        in web.get("/alerts").text
    )
