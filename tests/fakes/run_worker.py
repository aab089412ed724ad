"""A worker process against the fake Autotask, for crash and multi-process tests.

    python -m tests.fakes.run_worker --db URL --fake FILE [--seed N] [--faults JSON] [--lease S]

Runs until no adjustment is pending or being sent, then exits 0. Killing it at any moment
must never make contractsync send an adjustment twice.
"""

from __future__ import annotations

import argparse
import json
import random
import time

from sqlalchemy import func, select

from contractsync.adapters.clock import SystemClock
from contractsync.adapters.db.outbox_rows import OPEN_STATUSES
from contractsync.adapters.db.session import make_engine, session_factory, transaction
from contractsync.adapters.db.tables import adjustments
from contractsync.delivery.config import WorkerConfig
from contractsync.delivery.worker import Worker
from tests.fakes.fake_autotask import FakeAutotask, Faults


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--fake", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--faults", default="{}")
    parser.add_argument("--lease", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=3)
    args = parser.parse_args()

    fake = FakeAutotask(args.fake, Faults(**json.loads(args.faults)), seed=args.seed)
    engine = make_engine(args.db)
    factory = session_factory(engine)
    config = WorkerConfig(
        concurrency=args.concurrency,
        lease_seconds=args.lease,
        backoff_base=0.02,
        backoff_cap=0.3,
        poll_interval=0.05,
    )
    worker = Worker(factory, lambda _connection: fake, SystemClock(), config, rng=random.Random(args.seed))
    while True:
        worker.run_once()
        with transaction(factory) as session:
            left = session.execute(
                select(func.count()).where(adjustments.c.status.in_(OPEN_STATUSES))
            ).scalar_one()
        if left == 0:
            break
        time.sleep(config.poll_interval)  # test harness, not worker logic
    engine.dispose()


if __name__ == "__main__":
    main()
