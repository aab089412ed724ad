"""Constrained input types shared by the request models.

Values stay JSON-like (the façade takes dicts exactly as API.md names them): dates and decimals
are validated here but passed on as the strings the client sent, so nothing is re-formatted or
rounded on the way in. Decimals are accepted only as strings because a JSON number has already
lost digits by the time Python sees it as a float.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
)

from contractsync.domain.bounds import (
    CREDENTIAL_MAX_LENGTH,
    ID_MAX_LENGTH,
    MARGIN_PERCENT_PLACES,
    MARGIN_PERCENT_RANGE,
    MAX_PSA_ID,
    MAX_QUANTITY,
    PRICE_PLACES,
    PRICE_RANGE,
    ROOT_URL_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    URL_MAX_LENGTH,
)
from contractsync.domain.enums import RecordStatus, RecordType


class Body(BaseModel):
    """Base of every request body: unknown fields are refused, types are not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _real_date(value: str) -> str:
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError("not a calendar date (YYYY-MM-DD)") from None
    return value


def _bounded_decimal(low: Decimal, high: Decimal) -> AfterValidator:
    def check(value: str) -> str:
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValueError("not a decimal number") from None
        if not low <= number <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value

    return AfterValidator(check)


def _known_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("unknown IANA time zone") from None
    return value


# The JSON-schema `format` keeps the OpenAPI document honest for clients and schemathesis.
IsoDate = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
    AfterValidator(_real_date),
    Field(json_schema_extra={"format": "date"}, examples=["2024-05-20"]),
]

# Percentages: -100..1000 with at most 4 decimal places, e.g. "20" or "-12.5" (the domain's bounds).
Percent = Annotated[
    str,
    StringConstraints(pattern=rf"^-?[0-9]{{1,4}}(\.[0-9]{{1,{MARGIN_PERCENT_PLACES}}})?$"),
    _bounded_decimal(*MARGIN_PERCENT_RANGE),
    Field(examples=["20"]),
]
DiscountPercent = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{1,3}(\.[0-9]{1,4})?$"),
    _bounded_decimal(Decimal(0), Decimal(100)),
    Field(examples=["15"]),
]
# Prices: 0..1,000,000 with at most 6 decimal places (Microsoft price lists go past 4).
Price = Annotated[
    str,
    StringConstraints(pattern=rf"^[0-9]{{1,7}}(\.[0-9]{{1,{PRICE_PLACES}}})?$"),
    _bounded_decimal(*PRICE_RANGE),
    Field(examples=["10.00"]),
]


def _whole_number(value: object) -> object:
    """JSON has one number type: `12.0` is the integer 12 (as JSON Schema's "integer" says);
    `12.5`, strings and booleans stay refused."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


WholeNumber = BeforeValidator(_whole_number)  # last in Annotated, so the bounds stay in the document
Quantity = Annotated[StrictInt, Field(ge=0, le=MAX_QUANTITY), WholeNumber]
PositiveQuantity = Annotated[StrictInt, Field(ge=1, le=MAX_QUANTITY), WholeNumber]
SettleSeconds = Annotated[StrictInt, Field(ge=0, le=86_400), WholeNumber]
# Autotask entity ids are positive 32-bit integers (the façade refuses larger ones too).
PsaId = Annotated[StrictInt, Field(ge=1, le=MAX_PSA_ID), WholeNumber]
Flag = StrictBool

# Our ids appear in URL paths, so they carry no slash, space or query characters.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@~-]*$"
EntityId = Annotated[str, StringConstraints(min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN)]
# Ids that come from elsewhere (offer, tenant, promotion ids) only need to be present and bounded.
# Not white space, alike in the document's regex dialect (ECMA) and the validator's (Rust): each
# counts one character as space that the other does not (U+0085, U+FEFF), so both are named.
VISIBLE = r"[^\s\u0085\ufeff]"
ExternalId = Annotated[
    str, StringConstraints(min_length=1, max_length=TEXT_MAX_LENGTH, pattern=rf"^{VISIBLE}+$")
]
# A search: the text must contain something besides white space.
Name = Annotated[str, StringConstraints(min_length=1, max_length=TEXT_MAX_LENGTH, pattern=VISIBLE)]
# PSA credentials travel as HTTP header values: printable ASCII, at least one non-space.
Credential = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=CREDENTIAL_MAX_LENGTH, pattern=r"^[\x20-\x7e]*[\x21-\x7e][\x20-\x7e]*$"
    ),
]
Provider = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]
# `\s` differs between engines (U+0085 and U+FEFF): named explicitly, as in VISIBLE.
URL_PATTERN = r"^https?://[^\s\u0085\ufeff/?#]+[^\s\u0085\ufeff]*$"
# The service's own bounds (and the columns'): a longer URL would pass the schema and be refused.
Url = Annotated[str, StringConstraints(max_length=URL_MAX_LENGTH, pattern=URL_PATTERN)]
RootUrl = Annotated[str, StringConstraints(max_length=ROOT_URL_MAX_LENGTH, pattern=URL_PATTERN)]
TimeZoneName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    AfterValidator(_known_timezone),
    Field(examples=["UTC"]),
]

PromotionSetting = Literal["pass_through", "keep"]
OfferKind = Literal["nce", "legacy", "azure_plan", "software"]
Term = Literal["P1M", "P1Y", "P3Y"]
BillingCycle = Literal["monthly", "annual", "triennial"]
Policy = Literal["manual", "auto"]
SyncBadge = Literal["synced", "pending", "out_of_sync", "failed", "unmapped"]
# The audit log's vocabularies come from the domain, so a new record type is accepted everywhere.
OperationStatus = RecordStatus
OperationTypeName = RecordType
