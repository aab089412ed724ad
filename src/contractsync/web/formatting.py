"""Jinja filters: money, percentages, timestamps, names and status badges as a billing manager reads
them.

Money is written by Babel in the console's locale with its currency ("$1,234.50", "1.234,50 €"):
two decimals on screen (half-up, like an invoice), while the four places contractsync keeps for
Autotask stay in the amount's tooltip whenever they differ from what is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, format_decimal
from jinja2 import Environment
from markupsafe import Markup, escape

from contractsync.domain.enums import Term
from contractsync.domain.labels import TERM_LABELS, offer_label, record_label

DEFAULT_LOCALE = "en_US"
DEFAULT_CURRENCY = "USD"
CENT = Decimal("0.01")
AUTOTASK_PLACES = Decimal("0.0001")

#: status → (css modifier, label). Colour is never the only signal: every badge carries its text.
BADGES: dict[str, tuple[str, str]] = {
    "synced": ("ok", "Synced"),
    "out_of_sync": ("warn", "Out of sync"),
    "unmapped": ("muted", "Unmapped"),
    "pending": ("info", "Pending"),
    "succeeded": ("ok", "Succeeded"),
    "sent": ("ok", "Sent"),
    "failed": ("bad", "Failed"),
    "skipped": ("muted", "Skipped"),
    "superseded": ("muted", "Superseded"),
    "open": ("warn", "Open"),
    "done": ("ok", "Done"),
    "active": ("ok", "Active"),
    "suspended": ("warn", "Suspended"),
    "canceled": ("muted", "Canceled"),
    "expired": ("muted", "Expired"),
}

BILLING_CYCLES = {"monthly": "monthly", "annual": "yearly", "triennial": "every 3 years"}
PERIOD_NAMES = {"monthly": "month", "annual": "year", "triennial": "3 years"}


def locale_or_default(name: str | None) -> str:
    """A locale Babel knows (`de_DE`, `en-GB`), else the default: a typo must not break every page."""
    try:
        return str(Locale.parse((name or DEFAULT_LOCALE).replace("-", "_")))
    except (ValueError, UnknownLocaleError):
        return DEFAULT_LOCALE


def decimal_or_none(value: object) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


class MoneyFormat:
    """Money in one locale, with a default currency for amounts whose connection has none."""

    def __init__(self, locale: str | None = None, currency: str | None = None) -> None:
        self.locale = locale_or_default(locale)
        self.currency = (currency or DEFAULT_CURRENCY).upper()

    def text(self, value: object, currency: str | None = None, *, signed: bool = False) -> str:
        """Two decimals, half-up, with the currency: 15.625 → '$15.63'; '—' for no amount."""
        amount = decimal_or_none(value)
        if amount is None:
            return "—" if value is None or value == "" else str(value)
        shown = amount.quantize(CENT, rounding=ROUND_HALF_UP)
        text = format_currency(
            shown, currency or self.currency, locale=self.locale, decimal_quantization=False
        )
        return f"+{text}" if signed and shown > 0 else text

    def html(self, value: object, currency: str | None = None, *, signed: bool = False) -> Markup:
        """The text, with the exact four places in a tooltip when the display rounded them."""
        text = self.text(value, currency, signed=signed)
        amount = decimal_or_none(value)
        if amount is None:
            return Markup(escape(text))
        exact = amount.quantize(AUTOTASK_PLACES, rounding=ROUND_HALF_UP)
        if exact == amount.quantize(CENT, rounding=ROUND_HALF_UP):
            return Markup('<span class="money">{}</span>').format(text)
        code = (currency or self.currency).upper()
        return Markup(
            '<span class="money" title="{} {} exactly (kept for Autotask)" data-exact="{}">{}</span>'
        ).format(exact, code, exact, text)

    def number(self, value: object) -> str:
        amount = decimal_or_none(value)
        return "—" if amount is None else format_decimal(amount, locale=self.locale)


@dataclass
class Currencies:
    default: str
    by_connection: dict[str, str] = field(default_factory=dict)

    def of(self, item: Any = None) -> str:
        """The currency of a connection id, or of a subscription / record / customer (through its
        mapping's or its own `connection_id`)."""
        connection_id: Any = item
        if isinstance(item, dict):
            mapping = item.get("mapping") or {}
            connection_id = mapping.get("connection_id") or item.get("connection_id")
        if isinstance(connection_id, str):
            return self.by_connection.get(connection_id) or self.default
        return self.default


def signed_int(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"+{value:,}" if value > 0 else f"{value:,}"
    return "—" if value is None else str(value)


def percent(value: object) -> str:
    amount = decimal_or_none(value)
    if amount is None:
        return "—"
    return f"{amount.normalize():f} %"


def timestamp(value: object) -> str:
    """RFC 3339 UTC → '2026-11-25 14:03 UTC' (the answers are UTC; say so rather than guess a zone)."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def badge_class(status: object) -> str:
    return BADGES.get(str(status), ("muted", ""))[0]


def badge_label(status: object) -> str:
    return BADGES.get(str(status), ("", str(status).replace("_", " ").capitalize()))[1]


def operation_name(record_type: object) -> Markup:
    """ "Quantity change" with the technical type in a tooltip."""
    technical = str(record_type)
    return Markup('<span class="op-name" title="{}">{}</span>').format(technical, record_label(technical))


def offer_kind(kind: object, term: object = None) -> str:
    return offer_label(str(kind), None if term in (None, "") else str(term))


def term(value: object) -> str:
    """ "1 year" for P1Y; an unknown term as it is."""
    try:
        return TERM_LABELS[Term(str(value))]
    except ValueError:
        return str(value)


def billing(cycle: object) -> str:
    return "billed " + BILLING_CYCLES.get(str(cycle), str(cycle))


def per_period(cycle: object) -> str:
    return PERIOD_NAMES.get(str(cycle), str(cycle))


def install(env: Environment, money_format: MoneyFormat | None = None) -> None:
    fmt = money_format or MoneyFormat()

    def money(value: object, currency: str | None = None) -> Markup:
        return fmt.html(value, currency)

    def signed_money(value: object, currency: str | None = None) -> Markup:
        return fmt.html(value, currency, signed=True)

    env.globals["money_format"] = fmt
    env.filters.update(
        money=money,
        money_text=fmt.text,
        signed_money=signed_money,
        number=fmt.number,
        signed_int=signed_int,
        percent=percent,
        timestamp=timestamp,
        badge_class=badge_class,
        badge_label=badge_label,
        operation_name=operation_name,
        offer_kind=offer_kind,
        billing=billing,
        term=term,
        per_period=per_period,
    )
