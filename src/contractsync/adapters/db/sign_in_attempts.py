"""The sign-in-attempts port in SQL.

`lock` takes a transaction-level advisory lock on PostgreSQL (held until commit or rollback, so
a process that dies lets go at once). On SQLite every transaction begins with BEGIN IMMEDIATE,
which takes the database's write lock: `lock` only makes the transaction begin at once rather
than at its first statement.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from contractsync.adapters.db.session import is_postgres
from contractsync.adapters.db.sign_in_attempts_table import sign_in_attempts

#: The first key of the advisory lock (the two-key form, apart from `thread_slots`' "CSLT").
NAMESPACE = 0x43535349  # "CSSI"
ADMISSIONS = 1

_LOCK = text("SELECT pg_advisory_xact_lock(:namespace, :key)")


class SqlSignInAttempts:
    def __init__(self, session: Session) -> None:
        self.session = session

    def lock(self) -> None:
        if is_postgres(self.session):
            self.session.execute(_LOCK, {"namespace": NAMESPACE, "key": ADMISSIONS})
        else:
            self.session.connection()  # the transaction begins now (IMMEDIATE), not at its first statement

    def count_after(self, key: str, after: datetime) -> int:
        counted = select(func.count()).where(sign_in_attempts.c.key == key, sign_in_attempts.c.at > after)
        return int(self.session.execute(counted).scalar_one())

    def add(self, key: str, at: datetime) -> None:
        self.session.execute(insert(sign_in_attempts).values(key=key, at=at))

    def remove_before(self, at: datetime) -> None:
        self.session.execute(delete(sign_in_attempts).where(sign_in_attempts.c.at < at))
