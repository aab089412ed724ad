"""Autotask's thread limit shared through PostgreSQL (`adapters/db/thread_slots.py`): three slots
per integration and endpoint over every process, a fourth request waits for one, and a process
that dies frees its slots at once. Each `SharedThreadSlots` on an engine of its own stands for a
process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from sqlalchemy import Engine, text

from contractsync.adapters.db.session import make_engine
from contractsync.adapters.db.thread_slots import NAMESPACE, SharedThreadSlots, slot_key

INTEGRATION = "INTEGRATION-CODE-1"
#: this module's advisory locks in this test's database (other tests may hold some elsewhere)
OURS = (
    "locktype = 'advisory' AND classid = :namespace "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


@pytest.fixture
def engines(database_url: str) -> Iterator[list[Engine]]:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's advisory locks; on SQLite the limit is each process's own")
    made = [make_engine(database_url) for _ in range(4)]
    yield made
    for engine in made:
        engine.dispose()


def _holders(engine: Engine) -> int:
    """Advisory locks of this module's namespace held right now, by anyone."""
    with engine.connect() as connection:
        return int(
            connection.execute(
                text(f"SELECT count(*) FROM pg_locks WHERE {OURS} AND granted"), {"namespace": NAMESPACE}
            ).scalar_one()
        )


def test_a_fourth_process_waits_until_one_of_three_lets_go(engines: list[Engine]) -> None:
    processes = [SharedThreadSlots(engine, INTEGRATION) for engine in engines]
    with ExitStack() as held:
        for process in processes[:3]:
            held.enter_context(process.slot("ContractServiceAdjustments"))
        assert _holders(engines[0]) == 3
        fourth_in, fourth_out = threading.Event(), threading.Event()

        def fourth() -> None:
            with processes[3].slot("contractserviceadjustments"):  # the same endpoint, any case
                fourth_in.set()
                fourth_out.wait(10)

        thread = threading.Thread(target=fourth, daemon=True)
        thread.start()
        assert not fourth_in.wait(0.5)  # all three slots taken: it waits
        with processes[3].slot("ContractServiceUnits"):  # another endpoint has slots of its own
            assert _holders(engines[0]) == 4
    assert fourth_in.wait(5)  # the three let go: the fourth goes
    fourth_out.set()
    thread.join(5)
    assert _holders(engines[0]) == 0


def test_a_process_that_dies_frees_its_slots_at_once(engines: list[Engine]) -> None:
    dying, others = SharedThreadSlots(engines[0], INTEGRATION), SharedThreadSlots(engines[1], INTEGRATION)
    with ExitStack() as held:
        for _ in range(3):
            # three threads of the dying process, each holding a slot on its own connection
            held.enter_context(dying.slot("ContractServiceAdjustments"))
        assert _holders(engines[1]) == 3
        with engines[1].connect() as admin:  # what a SIGKILL does to its connections
            admin.execute(
                text(f"SELECT pg_terminate_backend(pid) FROM pg_locks WHERE {OURS}"), {"namespace": NAMESPACE}
            )
        got = threading.Event()

        def take() -> None:
            with others.slot("ContractServiceAdjustments"):
                got.set()

        thread = threading.Thread(target=take, daemon=True)
        thread.start()
        assert got.wait(5)
        thread.join(5)
        engines[0].dispose()  # its connections are dead; letting go of them must not raise
    assert _holders(engines[1]) == 0


def test_other_integrations_and_endpoints_have_slots_of_their_own() -> None:
    keys = {
        slot_key(code, endpoint, n)
        for code in ("A", "B")
        for endpoint in ("ContractServiceAdjustments", "ContractServiceUnits")
        for n in range(3)
    }
    assert len(keys) == 12
    assert slot_key("A", "ContractServiceUnits", 0) == slot_key("A", "contractserviceunits", 0)


def test_without_the_database_a_request_goes_ahead_under_its_process_limit() -> None:
    unreachable = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    slots = SharedThreadSlots(unreachable, INTEGRATION)
    ran = []
    with slots.slot("ContractServiceAdjustments"):
        ran.append("sent")
    assert ran == ["sent"]
    unreachable.dispose()
