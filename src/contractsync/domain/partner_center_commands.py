"""The Partner Center sources' commands: a new source and its changes. Built by the API routes
from their validated bodies and by the use case from the API.md JSON (the demo, tests), by the
same rules; `InvalidInput` names the field. Endpoints are checked against the allow-list, and
the credentials encrypted, by the use case."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from contractsync.domain.bounds import ID_MAX_LENGTH, PRICE_RANGE, ROOT_URL_MAX_LENGTH, WEBHOOK_URL_MAX_LENGTH
from contractsync.domain.command_values import ABSENT, bounded_decimal, optional_text
from contractsync.domain.money import format_money
from contractsync.domain.operations import InvalidInput, parse_int, parse_text

DEFAULT_POLL_MINUTES = 15
MAX_POLL_MINUTES = 1440
SECRET_MAX_LENGTH = 2000
REFRESH_TOKEN_MAX_LENGTH = 10_000
MAX_PRICE_LIST_OFFERS = 10_000
OFFER_KEY_MAX_LENGTH = 200


def read_price_list(raw: object) -> dict[str, str]:
    """`{"offerId or productId:skuId": "list price"}`; keys upper-cased, prices decimals ≥ 0 kept
    as text."""
    if not isinstance(raw, Mapping):
        raise InvalidInput("price_list must be an object of offer id → list price")
    if len(raw) > MAX_PRICE_LIST_OFFERS:
        raise InvalidInput(f"price_list holds at most {MAX_PRICE_LIST_OFFERS} offers")
    return {
        parse_text(key, "price_list key", OFFER_KEY_MAX_LENGTH).upper(): format_money(
            bounded_decimal(value, f"price_list.{key}", PRICE_RANGE)
        )
        for key, value in raw.items()
    }


def _poll_minutes(value: object) -> int:
    return parse_int(value, "poll_minutes", 1, MAX_POLL_MINUTES)


def _secret(value: object) -> str:
    return parse_text(value, "secret", SECRET_MAX_LENGTH)


def _refresh_token(value: object) -> str:
    return parse_text(value, "refresh_token", REFRESH_TOKEN_MAX_LENGTH)


@dataclass(frozen=True)
class CreatePartnerCenterSource:
    """A reseller's CSP partner tenant. `authority_host` / `api_root` None: the kit's defaults
    (Microsoft's)."""

    id: str
    reseller_id: str
    tenant_id: str
    application_id: str
    secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    authority_host: str | None = None
    api_root: str | None = None
    poll_minutes: int = DEFAULT_POLL_MINUTES
    price_list: Mapping[str, str] = field(default_factory=dict)
    webhook_url: str | None = None

    @classmethod
    def build(
        cls,
        *,
        id: object,
        reseller_id: object,
        tenant_id: object,
        application_id: object,
        secret: object,
        refresh_token: object,
        authority_host: object = None,
        api_root: object = None,
        poll_minutes: object = DEFAULT_POLL_MINUTES,
        price_list: object = None,
        webhook_url: object = None,
    ) -> CreatePartnerCenterSource:
        return cls(
            id=parse_text(id, "id", ID_MAX_LENGTH),
            reseller_id=parse_text(reseller_id, "reseller_id", ID_MAX_LENGTH),
            tenant_id=parse_text(tenant_id, "tenant_id", ID_MAX_LENGTH),
            application_id=parse_text(application_id, "application_id", ID_MAX_LENGTH),
            secret=_secret(secret),
            refresh_token=_refresh_token(refresh_token),
            authority_host=optional_text(authority_host or None, "authority_host", ROOT_URL_MAX_LENGTH),
            api_root=optional_text(api_root or None, "api_root", ROOT_URL_MAX_LENGTH),
            poll_minutes=_poll_minutes(poll_minutes),
            price_list=read_price_list(price_list or {}),
            webhook_url=optional_text(webhook_url, "webhook_url", WEBHOOK_URL_MAX_LENGTH),
        )


@dataclass(frozen=True)
class UpdatePartnerCenterSource:
    """Changes of a source: only the fields in `changes` change (`webhook_url` None there: no
    webhook URL any more)."""

    changes: frozenset[str]
    secret: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    poll_minutes: int | None = None
    price_list: Mapping[str, str] | None = None
    webhook_url: str | None = None

    @classmethod
    def build(
        cls,
        *,
        secret: object = ABSENT,
        refresh_token: object = ABSENT,
        poll_minutes: object = ABSENT,
        price_list: object = ABSENT,
        webhook_url: object = ABSENT,
    ) -> UpdatePartnerCenterSource:
        given = {
            "secret": secret,
            "refresh_token": refresh_token,
            "poll_minutes": poll_minutes,
            "price_list": price_list,
            "webhook_url": webhook_url,
        }
        return cls(
            changes=frozenset(name for name, value in given.items() if value is not ABSENT),
            secret=None if secret is ABSENT else _secret(secret),
            refresh_token=None if refresh_token is ABSENT else _refresh_token(refresh_token),
            poll_minutes=None if poll_minutes is ABSENT else _poll_minutes(poll_minutes),
            price_list=None if price_list is ABSENT else read_price_list(price_list),
            webhook_url=None
            if webhook_url is ABSENT
            else optional_text(webhook_url, "webhook_url", WEBHOOK_URL_MAX_LENGTH),
        )
