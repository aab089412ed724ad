"""Money on console pages: Babel, the currency, two decimals shown, four kept in the tooltip."""

from __future__ import annotations

from decimal import Decimal

from contractsync.web.chart import trend_svg
from contractsync.web.formatting import Currencies, MoneyFormat, offer_kind, operation_name, percent


def test_two_decimals_half_up_with_the_currency() -> None:
    money = MoneyFormat("en_US", "USD")
    assert money.text("15.625") == "$15.63"
    assert money.text("1234.5", "EUR") == "€1,234.50"
    assert money.text(Decimal("-75"), signed=True) == "-$75.00"
    assert money.text("3", signed=True) == "+$3.00"
    assert money.text(None) == "—"


def test_the_locale_writes_the_number() -> None:
    assert MoneyFormat("de_DE", "EUR").text("1234.5") == "1.234,50\xa0€"
    assert MoneyFormat("xx_YY", "USD").text("1") == "$1.00"


def test_the_four_places_for_autotask_stay_in_the_tooltip() -> None:
    money = MoneyFormat("en_US", "EUR")
    rounded = str(money.html("15.625"))
    assert "€15.63" in rounded and 'title="15.6250 EUR exactly (kept for Autotask)"' in rounded
    assert "title" not in str(money.html("15.6000"))


def test_currency_of_a_connection_or_a_mapped_subscription() -> None:
    currencies = Currencies("USD", {"at-eu": "EUR"})
    assert currencies.of("at-eu") == "EUR"
    assert currencies.of({"mapping": {"connection_id": "at-eu"}}) == "EUR"
    assert currencies.of({"connection_id": "other"}) == "USD"
    assert currencies.of(None) == "USD"


def test_names_and_percentages_read_plainly() -> None:
    assert "Quantity change" in operation_name("UpdateSubscriptionQuantityOnConnection")
    assert 'title="UpdateSubscriptionQuantityOnConnection"' in operation_name(
        "UpdateSubscriptionQuantityOnConnection"
    )
    assert offer_kind("nce", "P1Y") == "New commerce, 1 year"
    assert percent("25.00") == "25 %"


def test_trend_chart_is_plain_svg_with_figures_in_tooltips() -> None:
    points = [
        {"date": "2026-10-01", "mrr": "100.0000", "cost": "80.0000", "seats": 10},
        {"date": "2026-11-01", "mrr": "150.0000", "cost": "120.0000", "seats": 15},
    ]
    svg = str(trend_svg(points, MoneyFormat(), "USD", "MRR"))
    assert svg.startswith("<svg") and svg.count("<rect") == 2
    assert "revenue $150.00 a month, cost $120.00, 15 seats" in svg
    assert "style=" not in svg and "<script" not in svg
