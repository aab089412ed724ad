"""The bounds of every value a caller gives us, in one place (API, console, CLI, imports).

- Dates that move money (billing approvals, sweeps, effective dates, a subscription's start) lie
  within 2000-01-01 .. today + 5 years (today from the injected clock); a term's end may be
  Partner Center's open end 9999-12-30 at most. So no date arithmetic can leave the calendar
  (`date.max` is 9999-12-31).
- Numbers are ASCII digits only: Python's `int()`, `Decimal()` and `str.isdigit()` also take
  Arabic-Indic, superscript and other digits, which no user of a billing system means.
- Ids and names hold no control characters (NUL breaks PostgreSQL; a line break breaks logs
  and CSV exports) and no lone surrogates.
- PSA credentials are printable ASCII (they travel as HTTP header values).
- Ids we store are database integers: anything bigger cannot exist.

Each check raises `ValueError` naming the field; callers turn it into their own refusal.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal

EARLIEST_DATE = date(2000, 1, 1)
FUTURE_YEARS = 5
#: Partner Center's "no end" (Azure plans): the latest end date a term may have, so the day after
#: it (when an expiry takes effect) is still a date.
OPEN_END = date(9999, 12, 30)
#: The largest id a stored row can have (PostgreSQL INTEGER).
MAX_STORED_ID = 2**31 - 1
#: Licences on one subscription.
MAX_QUANTITY = 1_000_000
#: Operations in one batch (one transaction): the API's, the CLI's and the group commit's limit.
MAX_BATCH_OPERATIONS = 1000
#: The largest Autotask entity id we take: stored in INTEGER columns, as the façade checks.
MAX_PSA_ID = MAX_STORED_ID
#: Header values of the Autotask API (user name, secret, integration code).
CREDENTIAL_MAX_LENGTH = 200
#: Margins in percent: -100 .. 1000, at most 4 decimal places (e.g. "20", "-12.5").
MARGIN_PERCENT_RANGE = (Decimal("-100"), Decimal("1000"))
MARGIN_PERCENT_PLACES = 4
#: A promotion's discount in percent: 0 .. 100.
DISCOUNT_PERCENT_RANGE = (Decimal("0"), Decimal("100"))
#: Prices: 0 .. 1,000,000, at most 6 decimal places (Microsoft price lists go past 4).
PRICE_RANGE = (Decimal("0"), Decimal("1000000"))
PRICE_PLACES = 6
#: Names and ids from elsewhere (offer ids, friendly names); our own ids are shorter.
TEXT_MAX_LENGTH = 200
ID_MAX_LENGTH = 100
#: Names the use cases store when they come from elsewhere than the API (offer and friendly names
#: from an import or Partner Center); the API's schema takes TEXT_MAX_LENGTH.
STORED_NAME_MAX_LENGTH = 300
#: An operation's idempotency key: printable ASCII.
IDEMPOTENCY_KEY_MAX_LENGTH = 200

_ASCII_INTEGER = re.compile(r"-?[0-9]+")
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]+")
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs"})  # control characters, lone surrogates


def latest_date(today: date) -> date:
    """Today + 5 years (28 February when today is 29 February and that year has none)."""
    try:
        return today.replace(year=today.year + FUTURE_YEARS)
    except ValueError:
        return today.replace(year=today.year + FUTURE_YEARS, day=28)


def check_date(day: date, field: str, today: date) -> date:
    latest = latest_date(today)
    if not EARLIEST_DATE <= day <= latest:
        raise ValueError(
            f"{field} must be between {EARLIEST_DATE.isoformat()} and {latest.isoformat()} "
            f"(today + {FUTURE_YEARS} years); got {day.isoformat()}"
        )
    return day


def check_end_date(day: date, field: str) -> date:
    """A term's end: from 2000-01-01 up to Partner Center's open end (9999-12-30)."""
    if not EARLIEST_DATE <= day <= OPEN_END:
        raise ValueError(
            f"{field} must be between {EARLIEST_DATE.isoformat()} and {OPEN_END.isoformat()}; got {day.isoformat()}"
        )
    return day


def is_ascii_integer(text: str) -> bool:
    """ "12", "-3": ASCII digits with an optional minus; never "²", "٣٣" or " 1"."""
    return _ASCII_INTEGER.fullmatch(text) is not None


def ascii_integer(text: str, field: str, low: int, high: int) -> int:
    """A whole number typed into a form or a command line, within [low, high]."""
    if not is_ascii_integer(text):
        raise ValueError(f"{field} must be a whole number written with the digits 0-9; got {text!r}")
    if len(text.lstrip("-")) > len(str(max(abs(low), abs(high)))) or not low <= int(text) <= high:
        raise ValueError(f"{field} must be between {low} and {high}")
    return int(text)


def psa_id_or_none(text: str) -> int | None:
    """An Autotask id typed into a form ("123"), or None when it is not one."""
    try:
        return ascii_integer(text.strip(), "id", 1, MAX_PSA_ID)
    except ValueError:
        return None


def check_number_text(text: str, field: str) -> str:
    """A decimal written as text: only ASCII digits may stand for digits."""
    if any(ch.isdigit() and not ("0" <= ch <= "9") for ch in text):
        raise ValueError(f"{field} must be written with the digits 0-9; got {text!r}")
    return text


def control_character(text: str) -> str | None:
    """The first character that may not appear in an id or a name, or None."""
    return next((ch for ch in text if unicodedata.category(ch) in _REFUSED_CATEGORIES), None)


def check_plain_text(text: str, field: str) -> str:
    """Refuses NUL, other control characters (line breaks, tabs, escapes) and lone surrogates."""
    found = control_character(text)
    if found is not None:
        raise ValueError(f"{field} must not contain control characters (found U+{ord(found):04X})")
    return text


def check_credential(value: object, field: str) -> str:
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > CREDENTIAL_MAX_LENGTH
        or not _PRINTABLE_ASCII.fullmatch(value)
    ):
        raise ValueError(
            f"{field} must be 1 to {CREDENTIAL_MAX_LENGTH} printable ASCII characters "
            "(Autotask takes credentials as HTTP header values)"
        )
    return value


def is_stored_id(value: int) -> bool:
    """Whether a row could have this id at all (a bigger one is simply not found)."""
    return 1 <= value <= MAX_STORED_ID


#: URLs a user gives: a PSA's base URL and a webhook URL; Partner Center's authority and API root
URL_MAX_LENGTH = WEBHOOK_URL_MAX_LENGTH = 500
ROOT_URL_MAX_LENGTH = 300
