"""JSON on the wire: Decimal inside, JSON numbers outside; dates as the vendor writes them."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from starlette.responses import Response

from contractsync.sandbox.entities import EntitySpec, FieldKind
from contractsync.sandbox.errors import SandboxError

#: Autotask keeps 4 decimal places of money.
_FOUR_PLACES = Decimal("0.0001")

Record = dict[str, Any]


def parse_json(raw: bytes) -> Any:
    """Parse a request body keeping every number exact (floats become Decimal)."""
    try:
        return json.loads(raw or b"null", parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SandboxError(f"The request body is not valid JSON: {exc}", status=400) from exc


def parse_date(value: object, field: str) -> date:
    """A date, or a datetime at midnight (with or without a zone suffix)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip().removesuffix("Z")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as exc:
            raise SandboxError(f"{field}: '{value}' is not a valid date.") from exc
    else:
        raise SandboxError(f"{field}: '{value}' is not a valid date.")
    if moment.time() != datetime.min.time():
        raise SandboxError(f"{field}: '{value}' must be a date (time 00:00:00).")
    return moment.date()


def parse_datetime(value: object, field: str) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, str):
        text = value.strip().removesuffix("Z")
        try:
            return datetime.fromisoformat(text).replace(tzinfo=None)
        except ValueError as exc:
            raise SandboxError(f"{field}: '{value}' is not a valid date/time.") from exc
    raise SandboxError(f"{field}: '{value}' is not a valid date/time.")


def parse_value(kind: FieldKind, value: object, field: str) -> Any:
    """Turn one incoming JSON value into the Python value the sandbox keeps (None stays None)."""
    if value is None:
        return None
    if kind == "int":
        if isinstance(value, bool):
            raise SandboxError(f"{field}: '{value}' is not a valid integer.")
        if isinstance(value, int):
            return value
        if isinstance(value, Decimal) and value == value.to_integral_value():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise SandboxError(f"{field}: '{value}' is not a valid integer.")
    if kind == "decimal":
        if isinstance(value, bool):
            raise SandboxError(f"{field}: '{value}' is not a valid number.")
        # Autotask stores 4 decimal places (SQL Server rounds half away from zero).
        if isinstance(value, int | Decimal):
            return Decimal(value).quantize(_FOUR_PLACES, ROUND_HALF_UP)
        if isinstance(value, str):
            try:
                return Decimal(value.strip()).quantize(_FOUR_PLACES, ROUND_HALF_UP)
            except InvalidOperation:
                pass
        raise SandboxError(f"{field}: '{value}' is not a valid number.")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise SandboxError(f"{field}: '{value}' is not a valid boolean.")
    if kind == "date":
        return parse_date(value, field)
    if kind == "datetime":
        return parse_datetime(value, field)
    if isinstance(value, str):
        return value
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    raise SandboxError(f"{field}: '{value}' is not a valid string.")


def parse_record(spec: EntitySpec, body: object) -> Record:
    """A create body → a record of known fields (canonical names). Unknown fields are ignored,
    as the vendor's model binder does."""
    if not isinstance(body, dict):
        raise SandboxError(f"The {spec.name} entity must be sent as a JSON object.", status=400)
    record: Record = {}
    for key, value in body.items():
        field = spec.canonical_field(str(key))
        if field is None or field == "id":
            continue
        record[field] = parse_value(spec.fields[field], value, field)
    return record


def render_value(value: Any, kind: FieldKind | None = None) -> Any:
    if isinstance(value, Decimal):
        # The vendor's doubles: a JSON number with at most 4 decimals.
        quantized = value.quantize(_FOUR_PLACES)
        return int(quantized) if quantized == quantized.to_integral_value() else float(quantized)
    if isinstance(value, datetime):
        if kind == "date":
            return value.strftime("%Y-%m-%dT00:00:00")
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.strftime("%Y-%m-%dT00:00:00")
    return value


def render_record(spec: EntitySpec, record: Record, include: list[str] | None = None) -> Record:
    """A stored record as the vendor returns it: every field of the entity, null when unset."""
    names = include if include is not None else list(spec.fields)
    rendered = {name: render_value(record.get(name), spec.fields.get(name)) for name in names}
    # Every entity of the vendor's answers carries its user-defined fields; the sandbox has none.
    rendered["userDefinedFields"] = []
    return rendered


def _render_any(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _render_any(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_render_any(item) for item in value]
    return render_value(value)


class WireResponse(Response):
    """JSON answer that renders Decimal and dates the vendor's way."""

    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return json.dumps(_render_any(content), separators=(",", ":")).encode("utf-8")


def error_response(message: str, status: int) -> WireResponse:
    """Autotask's own failures answer `{"errors": [...]}`; a route's unsupported method is
    answered by ASP.NET's routing, before Autotask's code runs, as `{"Message": "..."}`."""
    if status == 405:
        return WireResponse({"Message": message}, status_code=status)
    return WireResponse({"errors": [message]}, status_code=status)
