"""A worker process against Autotask (the sandbox a test runs), for crash and multi-process tests.

    python -m tests.fakes.run_worker --db URL --autotask API_URL [--seed N] [--lease S]

Runs until no adjustment is pending or being sent, then exits 0. Killing it at any moment
must never make contractsync send an adjustment twice. The sandbox's default credentials are
used; faults are the test's to set on the sandbox.
"""

from __future__ import annotations

import argparse
import random
import time

from sqlalchemy import func, select

from contractsync.adapters.clock import SystemClock
from contractsync.adapters.db.outbox_rows import OPEN_STATUSES
from contractsync.adapters.db.session import make_engine, session_factory, transaction
from contractsync.adapters.db.tables import adjustments
from contractsync.bootstrap import delivery_store
from contractsync.delivery.config import WorkerConfig
from contractsync.delivery.worker import Worker
from contractsync.sandbox.state import DEFAULT_INTEGRATION_CODE, DEFAULT_SECRET, DEFAULT_USERNAME
from tests.sandbox_autotask import connector_to


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--autotask", required=True, help="the sandbox's .../atservicesrest/v1.0")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lease", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=3)
    args = parser.parse_args()

    connector = connector_to(args.autotask, DEFAULT_USERNAME, DEFAULT_SECRET, DEFAULT_INTEGRATION_CODE)
    engine = make_engine(args.db)
    factory = session_factory(engine)
    config = WorkerConfig(
        concurrency=args.concurrency,
        lease_seconds=args.lease,
        backoff_base=0.02,
        backoff_cap=0.3,
        poll_interval=0.05,
    )
    worker = Worker(
        delivery_store(factory),
        lambda _connection: connector,
        SystemClock(),
        config,
        rng=random.Random(args.seed),
    )
    while True:
        worker.run_once()
        with transaction(factory) as session:
            left = session.execute(
                select(func.count()).where(adjustments.c.status.in_(OPEN_STATUSES))
            ).scalar_one()
        if left == 0:
            break
        time.sleep(config.poll_interval)  # test harness, not worker logic
    connector.client.close()
    engine.dispose()


if __name__ == "__main__":
    main()
