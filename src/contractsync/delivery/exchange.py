"""The connector's record of its last HTTP exchange, as redacted JSON for the outbox row.

Connectors may expose `last_exchange` (a property or method answering a dataclass or mapping,
per calling thread, already redacted); others are fine without it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from contractsync.adapters.secrets import redact


def last_exchange_json(connector: object) -> dict[str, Any] | None:
    record = getattr(connector, "last_exchange", None)
    if callable(record):
        record = record()
    if record is None:
        return None
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        data: Any = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    elif isinstance(record, Mapping):
        data = dict(record)
    else:
        return None
    safe = json.loads(
        json.dumps(data, default=lambda value: dict(value) if isinstance(value, Mapping) else str(value))
    )
    result: dict[str, Any] = redact(safe)
    return result
