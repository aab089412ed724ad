"""One operation alone costs at most eight SQL statements (issue 12 item 9; it was 19): the
subscription lock, one joined read of everything around it, one read of the service's open
outbox rows and ledger, and five writes. Counted by SQLAlchemy's `before_cursor_execute`, as
`benchmarks/bench_operations.py` does (SQLite's BEGIN IMMEDIATE among them; COMMIT is not a
statement)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from contractsync.service.actor import ADMIN
from tests.integration.service.conftest import World, map_s1

MAX_STATEMENTS = 8


@contextmanager
def counted(world: World) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = world.service.context.sessions.kw["bind"]

    def count(conn: object, cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_one_quantity_change_takes_at_most_eight_statements(world: World) -> None:
    map_s1(world)
    world.deliver()  # the mapping's own adjustment is sent: nothing pending to re-plan
    with counted(world) as statements:
        records = world.service.apply_operation(ADMIN, "s1", {"type": "update_quantity", "quantity": 12})
    assert records[0]["status"] == "pending"
    assert [a["target_units"] for a in records[0]["adjustments"]] == [12]
    assert len(statements) <= MAX_STATEMENTS, "\n".join(s.split("\n")[0][:120] for s in statements)


def test_the_answer_is_what_was_stored(world: World) -> None:
    """The records answered are built from what was written, not read back: they match the log."""
    map_s1(world)
    world.deliver()
    [answered] = world.service.apply_operation(ADMIN, "s1", {"type": "update_quantity", "quantity": 13})
    assert world.service.get_operation(ADMIN, answered["id"]) == answered
