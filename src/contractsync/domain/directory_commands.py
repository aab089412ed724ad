"""The directory's commands: a reseller, its billing approval, a PSA connection and its
credentials, a customer. Built by the API routes from their validated bodies and by the use cases
from the API.md JSON (console forms, the CLI, the demo, tests), by the same rules; `InvalidInput`
names the field. What needs the service (the clock, the outbound allow-list, encryption) is left
to the use case.

Names are bounded by `STORED_NAME_MAX_LENGTH` (300), as the service always did; the API's schema
takes `TEXT_MAX_LENGTH` (200).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contractsync.domain.bounds import (
    ID_MAX_LENGTH,
    MARGIN_PERCENT_RANGE,
    STORED_NAME_MAX_LENGTH,
    URL_MAX_LENGTH,
    check_credential,
)
from contractsync.domain.command_values import ABSENT, bounded_decimal, checked, enum_value, optional_text
from contractsync.domain.enums import Policy, PromotionSetting
from contractsync.domain.operations import InvalidInput, parse_date, parse_int, parse_text

TIME_ZONE_MAX_LENGTH = 64
PROVIDER_MAX_LENGTH = 50
DEFAULT_SETTLE_SECONDS = 600
MAX_SETTLE_SECONDS = 86_400
POLICY_NAMES = frozenset({"upgrade", "legacy_suspend", "reseller_change"})


@dataclass(frozen=True)
class CreateReseller:
    id: str
    name: str
    promotion_setting: PromotionSetting = PromotionSetting.PASS_THROUGH

    @classmethod
    def build(cls, *, id: object, name: object, promotion_setting: object = "pass_through") -> CreateReseller:
        return cls(
            parse_text(id, "id", ID_MAX_LENGTH),
            parse_text(name, "name", STORED_NAME_MAX_LENGTH),
            enum_value(PromotionSetting, promotion_setting, "promotion_setting"),
        )


@dataclass(frozen=True)
class ApproveBilling:
    """Periods starting on or before `approved_through` are approved (R2a); its range (today + 5
    years) is checked by the use case."""

    approved_through: date

    @classmethod
    def build(cls, *, approved_through: object) -> ApproveBilling:
        return cls(parse_date(approved_through, "approved_through"))


@dataclass(frozen=True)
class CreateConnection:
    """An Autotask connection; `base_url` is checked against the outbound allow-list, and the
    secret encrypted, by the use case."""

    id: str
    reseller_id: str
    username: str
    secret: str = field(repr=False)
    integration_code: str
    timezone: str
    base_url: str | None = None
    settle_seconds: int = DEFAULT_SETTLE_SECONDS
    policies: Mapping[str, str] = field(default_factory=dict)
    kind: str = "autotask"

    @classmethod
    def build(
        cls,
        *,
        id: object,
        reseller_id: object,
        kind: object,
        username: object,
        secret: object,
        integration_code: object,
        timezone: object,
        base_url: object = None,
        settle_seconds: object = DEFAULT_SETTLE_SECONDS,
        policies: object = None,
    ) -> CreateConnection:
        if kind != "autotask":
            raise InvalidInput("kind must be autotask")
        zone = parse_text(timezone, "timezone", TIME_ZONE_MAX_LENGTH)
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput(f"timezone is not a known IANA time zone: {zone!r}") from None
        given = policies or {}
        if not isinstance(given, Mapping) or set(given) - POLICY_NAMES:
            raise InvalidInput("policies may name upgrade, legacy_suspend and reseller_change only")
        chosen = {k: enum_value(Policy, value, f"policies.{k}").value for k, value in given.items()}
        url = optional_text(base_url, "base_url", URL_MAX_LENGTH)
        return cls(
            id=parse_text(id, "id", ID_MAX_LENGTH),
            reseller_id=parse_text(reseller_id, "reseller_id", ID_MAX_LENGTH),
            username=checked(check_credential, username, "username"),
            secret=checked(check_credential, secret, "secret"),
            integration_code=checked(check_credential, integration_code, "integration_code"),
            base_url=url,
            timezone=zone,
            settle_seconds=parse_int(settle_seconds, "settle_seconds", 0, MAX_SETTLE_SECONDS),
            policies=chosen,
        )


@dataclass(frozen=True)
class UpdateCredentials:
    """New API credentials; None: keep the stored user name / integration code."""

    secret: str = field(repr=False)
    username: str | None = None
    integration_code: str | None = None

    @classmethod
    def build(
        cls, *, secret: object, username: object = ABSENT, integration_code: object = ABSENT
    ) -> UpdateCredentials:
        """A user name or integration code given as null is refused (absent keeps the stored one)."""
        return cls(
            checked(check_credential, secret, "secret"),
            None if username is ABSENT else checked(check_credential, username, "username"),
            None
            if integration_code is ABSENT
            else checked(check_credential, integration_code, "integration_code"),
        )


@dataclass(frozen=True)
class CreateCustomer:
    id: str
    reseller_id: str
    name: str
    tenant_id: str | None = None
    provider_margins: Mapping[str, Decimal] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        *,
        id: object,
        reseller_id: object,
        name: object,
        tenant_id: object = None,
        provider_margins: object = None,
    ) -> CreateCustomer:
        margins = provider_margins or {}
        if not isinstance(margins, Mapping):
            raise InvalidInput("provider_margins must be an object of provider → percent")
        return cls(
            id=parse_text(id, "id", ID_MAX_LENGTH),
            reseller_id=parse_text(reseller_id, "reseller_id", ID_MAX_LENGTH),
            name=parse_text(name, "name", STORED_NAME_MAX_LENGTH),
            tenant_id=optional_text(tenant_id, "tenant_id", ID_MAX_LENGTH),
            provider_margins={
                parse_text(k, "provider", PROVIDER_MAX_LENGTH): bounded_decimal(
                    m, f"provider_margins.{k}", MARGIN_PERCENT_RANGE
                )
                for k, m in margins.items()
            },
        )
