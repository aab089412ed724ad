"""Partner Center as the use cases see it: a client per source, the webhook signature check, the
document reader and the outbound URL check, handed in by the composition root (`bootstrap.py`)
as one `PartnerCenterKit` on the service context. The REST client, MSAL sign-in, certificate
checks and the JSON reader live in `adapters/partner_center/`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from contractsync.ports.partner_center_documents import PartnerCenterDocument

JSON = dict[str, Any]


class PartnerCenterError(Exception):
    """Partner Center could not be reached, or refused a request (`status`: its HTTP status)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class SignatureRefused(ValueError):
    """The event is not proven to come from Partner Center; the reason says why."""


class PartnerCenterApi(Protocol):
    """What polling needs of a Partner Center client. Failures raise `PartnerCenterError`."""

    @property
    def counts(self) -> Any: ...

    def customers_page(self, size: int, continuation: str | None) -> tuple[list[JSON], str | None]: ...
    def customer(self, customer_id: str) -> JSON: ...
    def subscriptions(self, customer_id: str) -> bytes: ...
    def subscription(self, customer_id: str, subscription_id: str) -> bytes: ...
    def transitions(self, customer_id: str, subscription_id: str) -> bytes: ...
    def order(self, customer_id: str, order_id: str) -> JSON: ...
    def register_webhook(self, url: str, events: list[str]) -> JSON: ...
    def close(self) -> None: ...


#: (source row, where to store a rotated refresh token) → a client for that source
ClientFactory = Callable[[Any, Callable[[str], None]], PartnerCenterApi]


class WebhookVerifier(Protocol):
    def verify(self, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
        """Return when the event is signed by Partner Center; else `SignatureRefused`."""
        ...


@dataclass(frozen=True)
class PartnerCenterKit:
    client_for: ClientFactory
    #: builds the webhook verifier (its certificates are fetched only when an event arrives)
    verifier: Callable[[], WebhookVerifier]
    #: (raw JSON, where it came from) → the document; `PartnerCenterFormatError` when unreadable
    read_document: Callable[[bytes, str], PartnerCenterDocument]
    #: the URL unchanged when it may be called; a `ValueError` naming why not
    check_url: Callable[[str], str]
    #: Microsoft's sign-in and API roots, for a source that names none
    default_authority: str
    default_api: str
