"""Partner Center REST client: tokens from MSAL (the app + user flow: a refresh token exchanged for
access tokens, the rotated refresh token handed back to be stored), continuation-token paging,
and Partner Center's throttling: a 429 waits its `Retry-After` and tries again; a 5xx or a broken
connection on a read backs off and tries again; every URL passes the outbound allow-list.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import msal

from contractsync.adapters.partner_center.outbound import check_outbound
from contractsync.ports.partner_center_api import PartnerCenterError
from contractsync.ports.secrets import OutboundPolicy

JSON = dict[str, Any]
SCOPE = "https://api.partnercenter.microsoft.com/user_impersonation"
MICROSOFT_AUTHORITY = "https://login.microsoftonline.com"
MICROSOFT_API = "https://api.partnercenter.microsoft.com"
MAX_RETRY_AFTER = 300.0  # seconds; a longer wait is a reason to stop this poll and resume later


@dataclass(frozen=True)
class PartnerCenterCredentials:
    tenant_id: str
    application_id: str
    secret: str
    refresh_token: str


@dataclass(frozen=True)
class PartnerCenterEndpoints:
    authority_host: str = MICROSOFT_AUTHORITY
    api_root: str = MICROSOFT_API

    @property
    def microsoft(self) -> bool:
        return self.authority_host.rstrip("/") == MICROSOFT_AUTHORITY


class PartnerCenterAuthError(PartnerCenterError):
    """Sign-in refused (a wrong secret, an expired or revoked refresh token)."""


@dataclass
class RequestCounts:
    requests: int = 0
    throttled: int = 0
    retried: int = 0
    token_requests: int = 0


class PartnerCenterClient:
    def __init__(
        self,
        credentials: PartnerCenterCredentials,
        endpoints: PartnerCenterEndpoints | None = None,
        *,
        on_refresh_token: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        outbound: OutboundPolicy | None = None,
        max_attempts: int = 8,
        timeout: float = 30.0,
    ) -> None:
        self.credentials = credentials
        self.endpoints = endpoints or PartnerCenterEndpoints()
        self.counts = RequestCounts()
        self._on_refresh_token = on_refresh_token
        self._refresh_token = credentials.refresh_token
        self._sleep = sleep
        self._outbound = outbound
        self._max_attempts = max_attempts
        self._lock = threading.Lock()
        self._access: tuple[str, float] | None = None
        ca_file = outbound.partner_center_ca_file if outbound is not None else None
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if ca_file else True
        self._http = httpx.Client(
            verify=verify,
            timeout=timeout,
            event_hooks={"request": [self._check_and_count]},
        )
        authority = f"{self.endpoints.authority_host.rstrip('/')}/{credentials.tenant_id}"
        check_outbound(authority, outbound)
        # A non-Microsoft authority (the sandbox) has no Entra instance metadata: MSAL is told not
        # to look it up, and reads the authority's own OpenID configuration instead.
        try:  # MSAL reads the authority's metadata here already
            self._msal = msal.ConfidentialClientApplication(
                credentials.application_id,
                client_credential=credentials.secret,
                authority=authority,
                validate_authority=self.endpoints.microsoft,
                instance_discovery=None if self.endpoints.microsoft else False,
                http_client=self._http,
            )
        except (httpx.HTTPError, ValueError) as error:
            self._http.close()
            raise PartnerCenterError(f"the sign-in authority {authority} cannot be used: {error}") from None

    def close(self) -> None:
        self._http.close()

    def _check_and_count(self, request: httpx.Request) -> None:
        check_outbound(str(request.url), self._outbound)
        self.counts.requests += 1

    # --- tokens ----------------------------------------------------------------------------------
    def _token(self) -> str:
        with self._lock:
            if self._access is not None and self._access[1] > time.monotonic():
                return self._access[0]
            self.counts.token_requests += 1
            try:
                result = self._msal.acquire_token_by_refresh_token(self._refresh_token, scopes=[SCOPE])
            except (httpx.HTTPError, ValueError) as error:
                raise PartnerCenterError(f"sign-in failed: {error}") from None
            if "access_token" not in result:
                reason = result.get("error_description") or result.get("error") or "no access token"
                raise PartnerCenterAuthError(f"sign-in refused: {reason}", 401)
            rotated = result.get("refresh_token")
            if isinstance(rotated, str) and rotated and rotated != self._refresh_token:
                self._refresh_token = rotated
                if self._on_refresh_token is not None:
                    self._on_refresh_token(rotated)
            lifetime = float(result.get("expires_in", 3600))
            self._access = (str(result["access_token"]), time.monotonic() + max(lifetime - 60, 1))
            return self._access[0]

    # --- requests --------------------------------------------------------------------------------
    def request(
        self, method: str, path: str, *, body: JSON | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        url = self.endpoints.api_root.rstrip("/") + path
        idempotent = method in ("GET", "PUT")
        signed_in_again = False
        attempt = 0
        while True:
            attempt += 1
            token = self._token()
            try:
                answer = self._http.request(
                    method,
                    url,
                    json=body,
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Accept": "application/json",
                        **(headers or {}),
                    },
                )
            except httpx.TransportError as error:
                if not idempotent or attempt >= self._max_attempts:
                    raise PartnerCenterError(f"{method} {path}: {error.__class__.__name__}") from None
                self._back_off(attempt)
                continue
            if answer.status_code == 429:
                self.counts.throttled += 1
                wait = _retry_after(answer)
                if wait > MAX_RETRY_AFTER or attempt >= self._max_attempts * 4:
                    raise PartnerCenterError(f"{method} {path}: throttled, retry after {wait:.0f} s", 429)
                self._sleep(wait)
                continue
            if answer.status_code == 401 and not signed_in_again:
                signed_in_again = True  # the access token expired early or was revoked: sign in again
                with self._lock:
                    self._access = None
                continue
            if answer.status_code >= 500 and idempotent and attempt < self._max_attempts:
                self._back_off(attempt)
                continue
            if answer.status_code >= 400:
                raise PartnerCenterError(
                    f"{method} {path}: HTTP {answer.status_code}: {answer.text[:300]}", answer.status_code
                )
            return answer

    def _back_off(self, attempt: int) -> None:
        self.counts.retried += 1
        self._sleep(min(0.5 * 2 ** (attempt - 1), 30.0))

    def get(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.request("GET", path, headers=headers)

    # --- resources -------------------------------------------------------------------------------
    def customers_page(self, size: int, continuation: str | None) -> tuple[list[JSON], str | None]:
        """One page of customers and the continuation token of the next (None: the last page)."""
        if continuation is None:
            answer = self.get(f"/v1/customers?size={size}")
        else:
            answer = self.get(
                f"/v1/customers?size={size}&seekOperation=Next", {"MS-ContinuationToken": continuation}
            )
        data = answer.json()
        items = data.get("items") or []
        next_link = (data.get("links") or {}).get("next") or {}
        token = next(
            (
                h.get("value")
                for h in next_link.get("headers") or []
                if str(h.get("key", "")).lower() == "ms-continuationtoken"
            ),
            None,
        )
        return list(items), token or None

    def customer(self, customer_id: str) -> JSON:
        answer: JSON = self.get(f"/v1/customers/{customer_id}").json()
        return answer

    def order(self, customer_id: str, order_id: str) -> JSON:
        answer: JSON = self.get(f"/v1/customers/{customer_id}/orders/{order_id}").json(parse_float=Decimal)
        return answer

    def subscriptions(self, customer_id: str) -> bytes:
        return self.get(f"/v1/customers/{customer_id}/subscriptions").content

    def subscription(self, customer_id: str, subscription_id: str) -> bytes:
        return self.get(f"/v1/customers/{customer_id}/subscriptions/{subscription_id}").content

    def transitions(self, customer_id: str, subscription_id: str) -> bytes:
        return self.get(f"/v1/customers/{customer_id}/subscriptions/{subscription_id}/transitions").content

    def register_webhook(self, url: str, events: list[str]) -> JSON:
        """POST registers; when a registration exists already, PUT updates it (the documented pair)."""
        body = {"WebhookUrl": url, "WebhookEvents": events}
        try:
            self.get("/webhooks/v1/registration")
            method = "PUT"
        except PartnerCenterError as error:
            if error.status != 404:
                raise
            method = "POST"
        answer: JSON = self.request(method, "/webhooks/v1/registration", body=body).json()
        return answer


def _retry_after(answer: httpx.Response) -> float:
    raw = answer.headers.get("Retry-After", "")
    try:
        return max(float(raw), 0.0)
    except ValueError:
        return 1.0
