"""Where the sandbox keeps its entities: in memory, optionally written through to SQLite.

Records are plain dicts of Python values (int, Decimal, str, bool, date, datetime). With a data
file every change is written in the same call, so a restarted sandbox answers exactly as before.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from contractsync.sandbox.wire import Record

#: First id per entity: distinct ranges make a contract service id passed as a service id (and
#: the like) fail loudly instead of hitting some other record.
ID_BASES = {
    "Companies": 100_000,
    "Contracts": 200_000,
    "Services": 300_000,
    "ContractServices": 400_000,
    "ContractServiceAdjustments": 500_000,
    "BillingItems": 600_000,
    "PostedPeriods": 1,
}


def _encode(value: Any) -> Any:
    # Tagged so that a reload gives back the exact type (SQLite would round numbers).
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    raise TypeError(f"cannot store {type(value).__name__}")


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        ((tag, text),) = obj.items()
        if tag == "$decimal":
            return Decimal(text)
        if tag == "$datetime":
            return datetime.fromisoformat(text)
        if tag == "$date":
            return date.fromisoformat(text)
    return obj


class Store:
    def __init__(self, data_file: Path | None = None) -> None:
        self.lock = threading.RLock()
        self._records: dict[str, dict[int, Record]] = {name: {} for name in ID_BASES}
        self._next: dict[str, int] = dict(ID_BASES)
        self._db: sqlite3.Connection | None = None
        self._batch_depth = 0
        # Secondary indexes (entity, field) -> value -> ids; indexed fields never change after insert.
        self._indexes: dict[tuple[str, str], dict[Any, list[int]]] = {}
        if data_file is not None:
            self._db = sqlite3.connect(str(data_file), check_same_thread=False)
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS records "
                "(entity TEXT NOT NULL, id INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (entity, id))"
            )
            self._db.commit()
            for entity, item_id, body in self._db.execute("SELECT entity, id, body FROM records"):
                self._remember(entity, json.loads(body, object_hook=_decode) | {"id": item_id})

    def _remember(self, entity: str, record: Record) -> None:
        table = self._records.setdefault(entity, {})
        is_new = record["id"] not in table
        table[record["id"]] = record
        if is_new:
            for (indexed_entity, field), index in self._indexes.items():
                if indexed_entity == entity:
                    index.setdefault(record.get(field), []).append(record["id"])
        self._next[entity] = max(self._next.get(entity, 1), record["id"] + 1)

    def all(self, entity: str) -> list[Record]:
        """Records ordered by id (the vendor's query order)."""
        with self.lock:
            table = self._records.get(entity, {})
            return [table[key] for key in sorted(table)]

    def get(self, entity: str, item_id: int) -> Record | None:
        with self.lock:
            return self._records.get(entity, {}).get(item_id)

    def find(self, entity: str, field: str, value: Any) -> list[Record]:
        """Records whose `field` equals `value`, ordered by id (through an index built on first use)."""
        with self.lock:
            table = self._records.get(entity, {})
            index = self._indexes.get((entity, field))
            if index is None:
                index = {}
                for key in sorted(table):
                    index.setdefault(table[key].get(field), []).append(key)
                self._indexes[(entity, field)] = index
            return [table[key] for key in index.get(value, [])]

    def insert(self, entity: str, record: Record) -> int:
        """Store a new record; it keeps its `id` when it has one (seeding), else gets the next."""
        with self.lock:
            item_id = record.get("id") or self._next.get(entity, 1)
            if item_id in self._records.get(entity, {}):
                raise ValueError(f"{entity} {item_id} already exists")
            record = record | {"id": item_id}
            self._remember(entity, record)
            self._write(entity, record)
            return int(item_id)

    def update(self, entity: str, record: Record) -> None:
        with self.lock:
            self._remember(entity, record)
            self._write(entity, record)

    def _write(self, entity: str, record: Record) -> None:
        if self._db is None:
            return
        body = json.dumps({k: v for k, v in record.items() if k != "id"}, default=_encode)
        self._db.execute(
            "INSERT OR REPLACE INTO records (entity, id, body) VALUES (?, ?, ?)", (entity, record["id"], body)
        )
        if self._batch_depth == 0:
            self._db.commit()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One SQLite transaction for many writes (seeding thousands of records)."""
        with self.lock:
            self._batch_depth += 1
            try:
                yield
            finally:
                self._batch_depth -= 1
                if self._batch_depth == 0 and self._db is not None:
                    self._db.commit()

    def clear(self) -> None:
        with self.lock:
            self._records = {name: {} for name in ID_BASES}
            self._next = dict(ID_BASES)
            self._indexes = {}
            if self._db is not None:
                self._db.execute("DELETE FROM records")
                self._db.commit()

    def close(self) -> None:
        with self.lock:
            if self._db is not None:
                self._db.close()
                self._db = None
