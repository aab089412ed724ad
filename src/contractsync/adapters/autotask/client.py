"""A small Autotask REST client: auth headers, zone discovery, get / query (paged) / count /
create, exact JSON, limits, bounded retries of what is safe to retry, and an audit copy of
every exchange.

Retry policy, and why:
- "Thread Threshold Exceeded" means the request was refused before it ran: retried after a
  short backoff, a bounded number of times, for every method.
- Reads (GET, query, count) are idempotent: a server error or timeout is retried a few times.
- Creates are never retried here: a create that timed out or got a 5xx may have been applied,
  and only the worker can decide, after reading what Autotask now holds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
import structlog

from contractsync.adapters.autotask.errors import classify_response, classify_transport_error, excerpt
from contractsync.adapters.autotask.filters import Filter
from contractsync.adapters.autotask.limits import (
    BudgetUsage,
    EndpointConcurrency,
    RequestBudget,
    RollingWindowBudget,
    ThreadSlots,
    endpoint_of,
)
from contractsync.adapters.autotask.outbound import OutboundPolicy
from contractsync.adapters.autotask.redaction import ExchangeRecord, Redactor, install_log_filter
from contractsync.adapters.autotask.wire import dumps, loads, to_int
from contractsync.adapters.clock import Sleeper, SystemClock, SystemSleeper
from contractsync.domain.bounds import check_credential
from contractsync.ports.errors import Invalid
from contractsync.ports.psa import ErrorKind, PsaError

log = structlog.get_logger(__name__)

API_PATH = "/atservicesrest/v1.0"
MAX_RECORDS_PER_PAGE = 500
_RETRYABLE_READ_KINDS = frozenset(
    {ErrorKind.SERVER_ERROR, ErrorKind.TIMEOUT_BEFORE_SEND, ErrorKind.TIMEOUT_AFTER_SEND}
)

ExchangeListener = Callable[[ExchangeRecord], None]
#: How a query is sent: POST with a JSON body (the default: no URL length limit) or GET `search=`.
QueryMethod = Literal["POST", "GET"]


class UnusableCredentials(Invalid):
    """Stored credentials that cannot be sent as HTTP headers (stored before they were checked)."""


@dataclass(frozen=True)
class Credentials:
    username: str = field(repr=False)
    secret: str = field(repr=False)
    integration_code: str = field(repr=False)

    def check(self) -> None:
        """Printable ASCII, bounded: what HTTP header values can carry. The value is never shown."""
        for name in ("username", "secret", "integration_code"):
            try:
                check_credential(getattr(self, name), name)
            except ValueError as error:
                raise UnusableCredentials(
                    f"the stored {error}; save new ones with PUT /v1/connections/{{id}}/credentials"
                ) from None


@dataclass(frozen=True)
class ClientSettings:
    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 30.0
    page_size: int = MAX_RECORDS_PER_PAGE
    query_method: QueryMethod = "POST"
    thread_threshold_retries: int = 5
    thread_threshold_backoff_seconds: float = 0.5
    read_retries: int = 2
    read_retry_backoff_seconds: float = 1.0
    max_backoff_seconds: float = 8.0
    #: A guard against a server that keeps answering with a next page.
    max_pages: int = 10_000


class AutotaskClient:
    """Thread-safe; one instance per Autotask connection (API user)."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        base_url: str | None = None,
        zone_root: str | None = None,
        transport: httpx.BaseTransport | None = None,
        settings: ClientSettings | None = None,
        budget: RequestBudget | None = None,
        concurrency: ThreadSlots | None = None,
        sleeper: Sleeper | None = None,
        on_exchange: ExchangeListener | None = None,
        outbound: OutboundPolicy | None = None,
    ) -> None:
        """Give either `base_url` (".../atservicesrest/v1.0") or `zone_root` (e.g.
        "https://webservices.autotask.net") to find the tenant's zone on first use.

        Every URL must pass `outbound` (Autotask hosts only, unless the operator listed others):
        a refused one raises `OutboundRefused` before anything is sent."""
        if (base_url is None) == (zone_root is None):
            raise ValueError("give exactly one of base_url and zone_root")
        self._outbound = outbound or OutboundPolicy()
        credentials.check()
        self._settings = settings or ClientSettings()
        if not 1 <= self._settings.page_size <= MAX_RECORDS_PER_PAGE:
            raise ValueError(f"page_size must be within 1..{MAX_RECORDS_PER_PAGE}")
        if self._settings.query_method not in ("POST", "GET"):
            raise ValueError("query_method must be POST or GET")
        self._credentials = credentials
        self._api_url = self._outbound.api_root(base_url) if base_url else None
        self._zone_root = self._outbound.zone_root(zone_root) if zone_root else None
        self._sleeper: Sleeper = sleeper or SystemSleeper()
        self._budget: RequestBudget = budget or RollingWindowBudget(SystemClock(), self._sleeper)
        self._concurrency: ThreadSlots = concurrency or EndpointConcurrency()
        self._on_exchange = on_exchange
        self._redactor = Redactor([credentials.secret, credentials.integration_code, credentials.username])
        self._headers = {
            "ApiIntegrationCode": credentials.integration_code,
            "UserName": credentials.username,
            "Secret": credentials.secret,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        self._http = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(
                self._settings.read_timeout_seconds, connect=self._settings.connect_timeout_seconds
            ),
            follow_redirects=False,  # a redirect would carry the credentials elsewhere
            headers=self._headers,
        )
        self._zone_lock = threading.Lock()
        install_log_filter()
        self._local = threading.local()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AutotaskClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"AutotaskClient(api_url={self._api_url!r})"

    @property
    def redactor(self) -> Redactor:
        return self._redactor

    @property
    def last_exchange(self) -> ExchangeRecord | None:
        """The last exchange made by the calling thread (for the audit log)."""
        record: ExchangeRecord | None = getattr(self._local, "last_exchange", None)
        return record

    def budget_usage(self) -> BudgetUsage:
        """How much of this connection's hourly request budget is in use."""
        return self._budget.usage()

    @property
    def api_url(self) -> str:
        """The tenant's ".../atservicesrest/v1.0", discovered from the zone root on first use."""
        with self._zone_lock:
            if self._api_url is None:
                self._api_url = self._discover_zone()
            return self._api_url

    # -- the calls -------------------------------------------------------------------------

    def get(self, entity: str, item_id: int) -> dict[str, Any] | None:
        """One entity by id; None when Autotask has no such id (it answers `{"item": null}`)."""
        payload = self._read("GET", f"{self.api_url}/{entity}/{int(item_id)}", None)
        item = _field(payload, "item", f"GET {entity}")
        if item is None:
            return None
        if not isinstance(item, dict):
            raise _malformed(f"GET {entity}", "item is not an object")
        return item

    def get_path(self, path: str) -> dict[str, Any]:
        """A GET whose answer is a bare object (e.g. ThresholdInformation)."""
        payload = self._read("GET", f"{self.api_url}/{path.lstrip('/')}", None)
        if not isinstance(payload, dict):
            raise _malformed(f"GET {path}", "answer is not an object")
        return payload

    def query(
        self, entity: str, filters: list[Filter], *, method: QueryMethod | None = None
    ) -> list[dict[str, Any]]:
        """Every row matching `filters`, following `nextPageUrl` until Autotask says there is no more.

        A POST query's next pages are fetched by POST with the same body (Autotask answers a GET
        there with 405); a GET (`search=`) query's by GET. Every page is one request against the
        budget. No conditions match nothing: Autotask answers `"filter": []` with no rows (and a
        query without `filter` with HTTP 500), so none is sent."""
        if not filters:
            return []
        method = method or self._settings.query_method
        body = {"filter": filters, "MaxRecords": self._settings.page_size}
        payload = self._query_page(method, f"{self.api_url}/{entity}/query", body)
        rows: list[dict[str, Any]] = []
        seen_pages: set[str] = set()
        while True:
            items = _field(payload, "items", f"query {entity}")
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise _malformed(f"query {entity}", "items is not a list of objects")
            rows.extend(items)
            details = payload.get("pageDetails") if isinstance(payload, dict) else None
            next_url = details.get("nextPageUrl") if isinstance(details, dict) else None
            if not next_url:
                return rows
            next_url = str(next_url)
            if next_url in seen_pages or len(seen_pages) >= self._settings.max_pages:
                raise _malformed(f"query {entity}", "paging does not end")
            seen_pages.add(next_url)
            self._check_same_origin(next_url)
            # The next page URL carries its own paging token: a POST sends the first body again,
            # a GET sends nothing more.
            payload = self._read(method, next_url, body if method == "POST" else None)

    def count(self, entity: str, filters: list[Filter], *, method: QueryMethod | None = None) -> int:
        """How many rows match `filters` (0 without conditions, as Autotask answers `"filter": []`)."""
        if not filters:
            return 0
        method = method or self._settings.query_method
        payload = self._query_page(method, f"{self.api_url}/{entity}/query/count", {"filter": filters})
        return _as_int(_field(payload, "queryCount", f"count {entity}"), f"count {entity}")

    def _query_page(self, method: QueryMethod, url: str, body: dict[str, Any]) -> Any:
        if method == "POST":
            return self._read("POST", url, body)
        # GET carries the same JSON in `search=`; the money/date encoding is the body's.
        return self._read("GET", f"{url}?{httpx.QueryParams({'search': dumps(body)})}", None)

    def create(self, path: str, body: Mapping[str, Any]) -> int:
        """POST a new entity (`path` like "ContractServiceAdjustments"); answers its id.

        Never retried on an unknown outcome: see the module docstring."""
        what = f"create {path}"
        payload = self._request("POST", f"{self.api_url}/{path.lstrip('/')}", dict(body), idempotent=False)
        return _as_int(_field(payload, "itemId", what), what)

    # -- plumbing --------------------------------------------------------------------------

    def _discover_zone(self) -> str:
        url = f"{self._zone_root}{API_PATH}/zoneInformation"
        params = httpx.QueryParams({"user": self._credentials.username})
        payload = self._request("GET", f"{url}?{params}", None, idempotent=True)
        zone = _field(payload, "url", "zoneInformation")
        if not isinstance(zone, str) or not zone.startswith(("https://", "http://")):
            raise _malformed("zoneInformation", "no zone url")
        # The zone answers ".../atservicesrest/"; the versioned API lives below it.
        return self._outbound.api_root(zone, "the zone zoneInformation answered")

    def _read(self, method: str, url: str, body: Any) -> Any:
        return self._request(method, url, body, idempotent=True)

    def _request(self, method: str, url: str, body: Any, *, idempotent: bool) -> Any:
        thread_retries = 0
        read_retries = 0
        while True:
            try:
                return self._send_once(method, url, body)
            except PsaError as error:
                if (
                    error.kind is ErrorKind.THREAD_THRESHOLD
                    and thread_retries < self._settings.thread_threshold_retries
                ):
                    delay = self._backoff(self._settings.thread_threshold_backoff_seconds, thread_retries)
                    thread_retries += 1
                elif (
                    idempotent
                    and error.kind in _RETRYABLE_READ_KINDS
                    and read_retries < self._settings.read_retries
                ):
                    delay = self._backoff(self._settings.read_retry_backoff_seconds, read_retries)
                    read_retries += 1
                else:
                    raise
                log.info(
                    "autotask.retry",
                    method=method,
                    url=self._redactor.url(url),
                    kind=error.kind.value,
                    delay_seconds=delay,
                )
                self._sleeper.sleep(delay)

    def _backoff(self, base: float, retry: int) -> float:
        return float(min(base * 2**retry, self._settings.max_backoff_seconds))

    def _send_once(self, method: str, url: str, body: Any) -> Any:
        self._outbound.check_request(url)  # raises before anything is sent
        content = None if body is None else dumps(body)
        safe_url = self._redactor.url(url)
        what = f"{method} {urlsplit(safe_url).path}"
        self._budget.acquire()
        with self._concurrency.slot(endpoint_of(url)):
            started = time.perf_counter()
            try:
                response = self._http.request(method, url, content=content)
            except httpx.TransportError as exc:
                error = classify_transport_error(exc, what=what)
                self._record(method, safe_url, content, None, None, error.message, started)
                # `from None`: the transport exception drags the request (with its headers) along.
                raise error from None
        text = self._redactor.text(response.text)
        if response.is_success:
            try:
                payload = loads(response.content)
            except ValueError:
                error = _malformed(what, f"HTTP {response.status_code} with a body that is not JSON")
                self._record(method, safe_url, content, response.status_code, text, error.message, started)
                raise error from None
            self._record(method, safe_url, content, response.status_code, text, None, started)
            return payload
        error = classify_response(response.status_code, text, what=what)
        self._record(method, safe_url, content, response.status_code, text, error.message, started)
        raise error

    def _record(
        self,
        method: str,
        safe_url: str,
        content: str | None,
        status: int | None,
        response_text: str | None,
        error: str | None,
        started: float,
    ) -> None:
        elapsed = time.perf_counter() - started
        record = ExchangeRecord(
            method=method,
            url=safe_url,
            request_headers=self._redactor.headers(self._headers),
            request_body=self._redactor.optional_text(content),
            status_code=status,
            response_body=response_text,
            error=error,
            elapsed_seconds=elapsed,
        )
        self._local.last_exchange = record
        # Failures are worth a warning; successes are routine.
        (log.warning if error else log.debug)(
            "autotask.exchange",
            method=method,
            url=safe_url,
            status=status,
            error=error,
            elapsed_ms=round(elapsed * 1000, 1),
        )
        if self._on_exchange is not None:
            self._on_exchange(record)

    def _check_same_origin(self, url: str) -> None:
        # The credentials go with every page request: never to a host we were not given.
        expected, actual = urlsplit(self.api_url), urlsplit(url)
        if (expected.scheme, expected.netloc.lower()) != (actual.scheme, actual.netloc.lower()):
            raise _malformed("query paging", f"nextPageUrl points to another host: {actual.netloc}")


def _field(payload: Any, name: str, what: str) -> Any:
    if not isinstance(payload, dict) or name not in payload:
        raise _malformed(what, f"answer has no {name!r}")
    return payload[name]


def _as_int(value: Any, what: str) -> int:
    try:
        return to_int(value)
    except ValueError:
        raise _malformed(what, f"{value!r} is not an integer") from None


def _malformed(what: str, problem: str) -> PsaError:
    # An answer we cannot read after the request reached Autotask: the outcome is unknown.
    return PsaError(ErrorKind.SERVER_ERROR, f"{what}: unexpected answer: {excerpt(problem)}")
