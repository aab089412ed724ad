"""Jinja filters: money, percentages, timestamps and status badges as a billing manager reads them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from jinja2 import Environment

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


def money(value: object) -> str:
    """'12.3400' → '12.34'; keeps the 3rd and 4th places when they matter ('12.3456')."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.0001"))
    except InvalidOperation:
        return str(value)
    head, _, tail = f"{amount:,.4f}".partition(".")
    return f"{head}.{tail.rstrip('0').ljust(2, '0')}"


def signed_money(value: object) -> str:
    """A money difference with its sign always shown ('+3.00', '-1.50')."""
    text = money(value)
    try:
        positive = Decimal(str(value)) > 0
    except (InvalidOperation, ValueError):
        return text
    return f"+{text}" if positive else text


def signed_int(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"+{value}" if value > 0 else str(value)
    return "—" if value is None else str(value)


def percent(value: object) -> str:
    return "—" if value is None or value == "" else f"{value} %"


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


def install(env: Environment) -> None:
    env.filters.update(
        money=money,
        signed_money=signed_money,
        signed_int=signed_int,
        percent=percent,
        timestamp=timestamp,
        badge_class=badge_class,
        badge_label=badge_label,
    )
