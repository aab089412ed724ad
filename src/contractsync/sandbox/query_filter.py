"""Autotask query filters: `{"op", "field", "value"}` conditions and `and`/`or` groups.

Top-level conditions are AND-ed. Field names and ops are case-insensitive, and string comparisons
ignore case, as on the vendor's SQL Server collation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from contractsync.sandbox.entities import EntitySpec
from contractsync.sandbox.errors import SandboxError
from contractsync.sandbox.wire import Record, parse_value

Predicate = Callable[[Record], bool]

_COMPARISONS = {"eq", "noteq", "gt", "gte", "lt", "lte", "beginswith", "endswith", "contains"}
_LISTS = {"in", "notin"}
_PRESENCE = {"exist", "notexist"}
#: The vendor's answer to a query without `filter` (Servosity/msp-skills issue #257).
NO_FILTER = "Value cannot be null.\r\nParameter name: filters"


@dataclass(frozen=True)
class Query:
    predicate: Predicate
    max_records: int
    include_fields: list[str] | None
    body: dict[str, Any]  # the query as received, for the paging URLs


def _key(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _compare(op: str, left: Any, right: Any) -> bool:
    if left is None:
        return op == "noteq" and right is not None
    left, right = _key(left), _key(right)
    try:
        if op == "eq":
            return bool(left == right)
        if op == "noteq":
            return bool(left != right)
        if op == "gt":
            return bool(left > right)
        if op == "gte":
            return bool(left >= right)
        if op == "lt":
            return bool(left < right)
        if op == "lte":
            return bool(left <= right)
    except TypeError:
        return False
    text, part = str(left), str(right)
    if op == "beginswith":
        return text.startswith(part)
    if op == "endswith":
        return text.endswith(part)
    return part in text  # contains


def _getter(field: str) -> Callable[[Record], Any]:
    return lambda record: record.get(field)


def _midnight_getter(field: str) -> Callable[[Record], Any]:
    def get(record: Record) -> Any:
        value = record.get(field)
        return datetime.combine(value, time()) if isinstance(value, date) else value

    return get


def compile_filter(spec: EntitySpec, item: object) -> Predicate:
    if not isinstance(item, dict):
        raise SandboxError("Each filter must be a JSON object.")
    lowered = {str(key).lower(): value for key, value in item.items()}
    op = str(lowered.get("op", "")).lower()
    if op in ("and", "or"):
        children = lowered.get("items")
        if not isinstance(children, list) or not children:
            raise SandboxError(f"The '{op}' filter needs a non-empty 'items' list.")
        predicates = [compile_filter(spec, child) for child in children]
        if op == "and":
            return lambda record: all(predicate(record) for predicate in predicates)
        return lambda record: any(predicate(record) for predicate in predicates)
    field_name = lowered.get("field")
    if not isinstance(field_name, str):
        raise SandboxError(f"Filter op '{op}' needs a field.")
    field = spec.canonical_field(field_name)
    if field is None:
        raise SandboxError(f"Unable to find {field_name} in the {spec.name} entity.")
    kind = spec.fields[field]
    get: Callable[[Record], Any] = _getter(field)
    if kind == "date":
        # Date fields compare as midnight datetimes, so a filter value with a time still works.
        kind = "datetime"
        get = _midnight_getter(field)
    if op in _PRESENCE:
        wanted = op == "exist"
        return lambda record: (get(record) is not None) == wanted
    raw = lowered.get("value")
    if op in _LISTS:
        if not isinstance(raw, list):
            raise SandboxError(f"Filter op '{op}' needs a list value.")
        values = {_key(parse_value(kind, value, field)) for value in raw}
        if op == "in":
            return lambda record: _key(get(record)) in values
        return lambda record: _key(get(record)) not in values
    if op not in _COMPARISONS:
        raise SandboxError(f"Unknown filter operation '{lowered.get('op')}'.")
    if op in ("beginswith", "endswith", "contains"):
        value: Any = str(raw)
    else:
        value = parse_value(kind, raw, field)
    return lambda record: _compare(op, get(record), value)


def parse_query(spec: EntitySpec, body: object, page_limit: int) -> Query:
    if not isinstance(body, dict):
        raise SandboxError("The query must be a JSON object.", status=400)
    lowered = {str(key).lower(): value for key, value in body.items()}
    filters = lowered.get("filter")
    if filters is None:
        # The vendor's model binder leaves the list null and the query fails (HTTP 500).
        raise SandboxError(NO_FILTER, reason="no_filter")
    if not isinstance(filters, list):
        raise SandboxError("'filter' must be a list.")
    predicates = [compile_filter(spec, item) for item in filters]
    max_records = lowered.get("maxrecords")
    if max_records is None:
        records = page_limit
    elif (
        isinstance(max_records, int) and not isinstance(max_records, bool) and 1 <= max_records <= page_limit
    ):
        records = max_records
    else:
        # The vendor's words name the parameter behind MaxRecords (README, "Behaviours and where
        # they come from").
        raise SandboxError(
            f"maxCountOfRecordsToReturn must be between 1 and {page_limit}", reason="max_records"
        )
    include: list[str] | None = None
    raw_include = lowered.get("includefields")
    if raw_include:
        if not isinstance(raw_include, list):
            raise SandboxError("IncludeFields must be a list.")
        include = ["id"]
        for name in raw_include:
            field = spec.canonical_field(str(name))
            if field is None:
                raise SandboxError(f"Unable to find {name} in the {spec.name} entity.")
            if field not in include:
                include.append(field)
    return Query(
        # No conditions match nothing: `"filter": []` answers no rows.
        predicate=lambda record: bool(predicates) and all(predicate(record) for predicate in predicates),
        max_records=records,
        include_fields=include,
        body=body,
    )


def id_hints(body: object, field: str) -> set[int] | None:
    """Ids a top-level `eq`/`in` on `field` restricts the query to (None: no restriction).

    Lets the sandbox build ContractServiceUnits rows only for the contract services asked for.
    """
    if not isinstance(body, dict):
        return None
    lowered = {str(key).lower(): value for key, value in body.items()}
    filters = lowered.get("filter")
    if not isinstance(filters, list):
        return None
    for item in filters:
        if not isinstance(item, dict):
            continue
        keys = {str(key).lower(): value for key, value in item.items()}
        if str(keys.get("field", "")).lower() != field.lower():
            continue
        op, value = str(keys.get("op", "")).lower(), keys.get("value")
        try:
            if op == "eq":
                return {int(value)}  # type: ignore[arg-type]
            if op == "in" and isinstance(value, list):
                return {int(v) for v in value}
        except (TypeError, ValueError):
            return None
    return None
