"""Field access that tolerates Partner Center's spelling drift and names the field when it fails.

- keys are matched case-insensitively (`billingCycle`, `BillingCycle`, `billingcycle`): the
  documents mix camelCase and PascalCase, sometimes within one object (`Events` beside `quantity`);
- an empty string counts as absent (`renewalTermDuration: ""`, `partnerId: ""`);
- enum values compare as tokens: case, spaces, `_` and `-` ignored (`"Monthly"`, `"one_time"`,
  `"Started "` with its trailing space);
- timestamps may end in `Z`, `+00:00` or carry no offset at all (`customTermEndDate`), with up to
  7 fractional digits; a timestamp without an offset is UTC, as everything Partner Center sends is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from contractsync.domain.bounds import control_character
from contractsync.ports.partner_center_documents import PartnerCenterFormatError

#: Partner Center's "no end" for usage-based subscriptions is a date in December 9999.
SENTINEL_YEAR = 9999

_TIMESTAMP = re.compile(
    r"^(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:[T ](?P<time>[0-9]{2}:[0-9]{2}(?::[0-9]{2})?)(?P<fraction>\.[0-9]+)?(?P<offset>Z|[+-][0-9]{2}:?[0-9]{2})?)?$",
    re.IGNORECASE,
)


def token(value: str) -> str:
    """An enum value reduced to what identifies it: `"Started "` → `started`, `one_time` → `onetime`."""
    return re.sub(r"[\s_\-]", "", value).lower()


def lower_keys(value: Any, source: str, record: str, path: str = "") -> Any:
    """The same JSON with every object key lower-cased; two keys that differ only by case are refused."""
    if isinstance(value, list):
        return [lower_keys(item, source, record, f"{path}[{i}]") for i, item in enumerate(value)]
    if not isinstance(value, dict):
        return value
    result: dict[str, Any] = {}
    for key, item in value.items():
        lowered = key.lower()
        if lowered in result:
            raise PartnerCenterFormatError(
                source, record, f"{path}{key}", "appears twice with different letter case; which one counts?"
            )
        result[lowered] = lower_keys(item, source, record, f"{path}{key}.")
    return result


class Fields:
    """One JSON object (keys already lower-cased) with typed, named access to its fields."""

    def __init__(self, values: Mapping[str, Any], source: str, record: str, prefix: str = "") -> None:
        self.values = values
        self.source = source
        self.record = record
        self.prefix = prefix  # for nested objects: "scheduledNextTermInstructions.product."

    def error(self, name: str, message: str) -> PartnerCenterFormatError:
        return PartnerCenterFormatError(self.source, self.record, self.prefix + name, message)

    def has(self, name: str) -> bool:
        return self.get(name) is not None

    def get(self, name: str) -> Any:
        """The raw value, None when missing, null or an empty / blank string."""
        value = self.values.get(name.lower())
        if isinstance(value, str) and not value.strip():
            return None
        return value

    def child(self, name: str) -> Fields | None:
        value = self.get(name)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.error(name, f"must be an object; got {value!r}")
        return Fields(value, self.source, self.record, f"{self.prefix}{name}.")

    def children(self, name: str) -> list[Fields]:
        value = self.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
            raise self.error(name, "must be a list of objects")
        return [
            Fields(item, self.source, self.record, f"{self.prefix}{name}[{i}].")
            for i, item in enumerate(value)
        ]

    def text(self, name: str) -> str | None:
        value = self.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(name, f"must be a string; got {value!r}")
        found = control_character(value)
        if found is not None:  # NUL breaks PostgreSQL; line breaks break logs and exports
            raise self.error(name, f"must not contain control characters (found U+{ord(found):04X})")
        return value.strip()

    def required_text(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise self.error(name, "is missing")
        return value

    def integer(self, name: str) -> int | None:
        """An integer; integral numbers written as 3.0 or "3" are accepted, anything else refused."""
        value = self.get(name)
        if value is None:
            return None
        number = _whole(value)
        if number is None:
            raise self.error(name, f"must be a whole number; got {value!r}")
        if number < 0:
            raise self.error(name, f"must not be negative; got {number}")
        return number

    def boolean(self, name: str) -> bool | None:
        value = self.get(name)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str) and token(value) in ("true", "false"):
            return token(value) == "true"
        raise self.error(name, f"must be true or false; got {value!r}")

    def day(self, name: str) -> tuple[date | None, bool]:
        """(UTC date, is the 9999 sentinel). Missing: (None, False)."""
        value = self.get(name)
        if value is None:
            return None, False
        if not isinstance(value, str):
            raise self.error(name, f"must be a timestamp string; got {value!r}")
        return parse_day(value.strip(), lambda message: self.error(name, message))


def _whole(value: object) -> int | None:
    """An int from 3, 3.0, Decimal("3") or "3"; None for anything else (True is not a number here)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        finite = (
            value.is_finite() if isinstance(value, Decimal) else value == value and abs(value) != float("inf")
        )
        return int(value) if finite and value == int(value) else None
    if isinstance(value, str) and re.fullmatch(r"\s*[0-9]+\s*", value):
        return int(value)
    return None


def parse_day(text: str, fail: Callable[[str], Exception]) -> tuple[date | None, bool]:
    """(UTC date, is the 9999 sentinel) of an ISO date or timestamp; `fail` builds the error."""
    match = _TIMESTAMP.match(text)
    if match is None:
        raise fail(f"is not an ISO 8601 date or timestamp: {text!r}")
    try:
        day = date.fromisoformat(match["date"])
    except ValueError:
        raise fail(f"is not a valid date: {text!r}") from None
    if day.year >= SENTINEL_YEAR:
        return None, True
    if match["time"] is None:
        return day, False
    # .NET writes 7 fractional digits (ticks); a date needs none of them, Python takes at most 6.
    fraction = (match["fraction"] or "")[:7]
    offset = match["offset"] or "+00:00"
    if offset.upper() == "Z":
        offset = "+00:00"
    normalised = f"{match['date']}T{match['time']}{fraction}{offset}"
    try:
        moment = datetime.fromisoformat(normalised)
    except ValueError:
        raise fail(f"is not a valid timestamp: {text!r}") from None
    return moment.astimezone(UTC).date(), False
