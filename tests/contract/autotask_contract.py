"""Checks every request the connector sends, and every answer it gets, against the vendor's
document (through the schemas in schemas/, derived by generate_schemas.py).

Used as an httpx transport wrapper: `ValidatingTransport(real_transport, checker)`. A violation
raises `ContractViolation` in the calling test and is also kept in `checker.violations`, so a
fixture can fail the test even if the connector swallowed the exception.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx
from jsonschema import Draft202012Validator

from .generate_schemas import OPERATIONS, SCHEMA_DIR

API_PREFIX = re.compile(r"^/atservicesrest/v1\.0/", re.IGNORECASE)

#: Operations the live API has and the vendor document lacks; see README.md.
UNDOCUMENTED = {
    # nextPageUrl: {Entity}/query/next?paging=..., by GET after a GET query, by POST with the
    # query's body again after a POST query (WYRE-AI/autotask-mcp pull request #170).
    ("GET", "/V1.0/{entity}/query/next"),
    ("POST", "/V1.0/{entity}/query/next"),
}

AUTH_HEADERS = ("ApiIntegrationCode", "UserName", "Secret")


class ContractViolation(AssertionError):
    pass


@dataclass(frozen=True)
class Route:
    method: str
    vendor_path: str  # the swagger path this request is an instance of
    request_schema: str | None
    response_schema: str


_ENTITY = r"(?P<entity>[A-Za-z]+)"
_ID = r"\d+"
#: (method, our path pattern, vendor path template, request schema, response schema)
_ROUTES: list[tuple[str, str, str, str | None, str]] = [
    ("GET", r"zoneInformation", "/V1.0/ZoneInformation", None, "response.zoneInformation.json"),
    ("GET", r"ThresholdInformation", "/V1.0/ThresholdInformation", None, "response.ThresholdInformation.json"),
    ("POST", rf"{_ENTITY}/query", "/V1.0/{entity}/query", "request.query.json", "response.query.{entity}.json"),
    # A GET query carries the same JSON in `search=`; the request schema applies to it.
    ("GET", rf"{_ENTITY}/query", "/V1.0/{entity}/query", "request.query.json", "response.query.{entity}.json"),
    ("GET", rf"{_ENTITY}/query/next", "/V1.0/{entity}/query/next", None, "response.query.{entity}.json"),
    ("POST", rf"{_ENTITY}/query/next", "/V1.0/{entity}/query/next", "request.query.json", "response.query.{entity}.json"),
    ("POST", rf"{_ENTITY}/query/count", "/V1.0/{entity}/query/count", "request.query.json", "response.count.json"),
    ("GET", rf"{_ENTITY}/query/count", "/V1.0/{entity}/query/count", "request.query.json", "response.count.json"),
    ("GET", rf"{_ENTITY}/{_ID}", "/V1.0/{entity}/{id}", None, "response.item.{entity}.json"),
    (
        "POST",
        r"ContractServiceAdjustments",
        "/V1.0/ContractServiceAdjustments",
        "request.create.ContractServiceAdjustments.json",
        "response.create.json",
    ),
    (
        "POST",
        rf"Contracts/{_ID}/ServiceAdjustments",
        "/V1.0/Contracts/{parentId}/ServiceAdjustments",
        "request.create.ContractServiceAdjustments.json",
        "response.create.json",
    ),
    (
        "POST",
        rf"Contracts/{_ID}/Services",
        "/V1.0/Contracts/{parentId}/Services",
        "request.create.ContractServices.json",
        "response.create.json",
    ),
    # Any other create: only documented ones pass (e.g. no top-level POST ContractServices).
    ("POST", _ENTITY, "/V1.0/{entity}", "request.create.{entity}.json", "response.create.json"),
]  # fmt: skip


@cache
def _validator(name: str) -> Draft202012Validator:
    path = SCHEMA_DIR / name
    if not path.exists():
        raise ContractViolation(
            f"no schema {name}: the connector used an operation the contract tests do not know"
        )
    return Draft202012Validator(json.loads(path.read_text(encoding="utf-8")))


@cache
def _vendor_operations() -> frozenset[tuple[str, str]]:
    """(METHOD, lower-cased path) of every operation in the vendor's document (generated from it
    into the schema folder by `generate_schemas.py`; `test_committed_schemas_match_the_generator`
    holds the two together when the document is at hand)."""
    listed = json.loads((SCHEMA_DIR / OPERATIONS).read_text(encoding="utf-8"))
    return frozenset((method, path) for method, path in listed)


def _documented(method: str, vendor_path: str, entity: str | None) -> bool:
    concrete = vendor_path.replace("{entity}", entity or "")
    if (method, vendor_path) in UNDOCUMENTED:
        return True
    return (method, concrete.lower()) in _vendor_operations()


class ContractChecker:
    def __init__(self) -> None:
        self.violations: list[str] = []
        self.checked_requests = 0
        self.checked_responses = 0
        self._lock = threading.Lock()

    def _fail(self, problem: str) -> ContractViolation:
        with self._lock:
            self.violations.append(problem)
        return ContractViolation(problem)

    def route(self, request: httpx.Request) -> tuple[Route, str | None]:
        path = API_PREFIX.sub("", request.url.path)
        if path == request.url.path:
            raise self._fail(f"{request.method} {request.url.path}: not under /atservicesrest/v1.0/")
        for method, pattern, vendor_path, request_schema, response_schema in _ROUTES:
            match = re.fullmatch(pattern, path, re.IGNORECASE) if method == request.method else None
            if match is None:
                continue
            entity = match.groupdict().get("entity")
            if entity is not None and f"response.query.{entity}.json" not in _schema_names():
                continue  # e.g. "Contracts/5" is the item route only for known entities
            if not _documented(method, vendor_path, entity):
                raise self._fail(f"{method} {vendor_path} (entity {entity}) is not in the vendor document")
            schema = response_schema.replace("{entity}", entity or "")
            req_schema = request_schema.replace("{entity}", entity or "") if request_schema else None
            return Route(method, vendor_path, req_schema, schema), entity
        raise self._fail(f"{request.method} {path}: an operation the contract tests do not cover")

    def check_request(self, request: httpx.Request) -> Route:
        route, _ = self.route(request)
        for name in AUTH_HEADERS:
            if not request.headers.get(name):
                raise self._fail(f"{request.method} {request.url.path}: header {name} missing")
        if route.request_schema is not None and route.method == "GET":
            if request.content:
                raise self._fail(f"{request.method} {request.url.path}: a body where none belongs")
            search = request.url.params.get("search")
            if search is None:
                raise self._fail(f"GET {request.url.path}: a query without search=")
            self._validate(
                route.request_schema, _json(search.encode()), f"search= of GET {route.vendor_path}"
            )
        elif route.request_schema is None:
            if request.content:
                raise self._fail(f"{request.method} {request.url.path}: a body where none belongs")
        else:
            if request.headers.get("Content-Type") != "application/json":
                raise self._fail(f"{request.method} {request.url.path}: Content-Type is not application/json")
            self._validate(
                route.request_schema, _json(request.content), f"request {route.method} {route.vendor_path}"
            )
        with self._lock:
            self.checked_requests += 1
        return route

    def check_response(self, route: Route, response: httpx.Response) -> None:
        where = f"answer {response.status_code} to {route.method} {route.vendor_path}"
        if response.status_code == 401:
            if response.content:
                raise self._fail(f"{where}: Autotask answers 401 with an empty body")
        elif response.is_success:
            self._validate(route.response_schema, _json(response.content), where)
        elif response.status_code == 405:
            # ASP.NET's routing answers a route's unsupported method, in its own envelope.
            self._validate("response.message.json", _json(response.content), where)
        else:
            self._validate("response.errors.json", _json(response.content), where)
        with self._lock:
            self.checked_responses += 1

    def _validate(self, schema: str, document: Any, where: str) -> None:
        errors = sorted(_validator(schema).iter_errors(document), key=lambda e: list(e.absolute_path))
        if errors:
            details = "; ".join(
                f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors[:5]
            )
            raise self._fail(f"{where} does not match {schema}: {details}")


@cache
def _schema_names() -> frozenset[str]:
    return frozenset(p.name for p in SCHEMA_DIR.glob("*.json"))


def _json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        raise ContractViolation(f"not JSON: {content[:200]!r}") from None


class ValidatingTransport(httpx.BaseTransport):
    """Wraps a transport; checks the request before it goes and the answer when it comes."""

    def __init__(self, inner: httpx.BaseTransport, checker: ContractChecker) -> None:
        self._inner = inner
        self._checker = checker

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        route = self._checker.check_request(request)
        response = self._inner.handle_request(request)
        response.read()  # transport errors while reading surface here as httpx errors, as usual
        self._checker.check_response(route, response)
        return response

    def close(self) -> None:
        self._inner.close()
