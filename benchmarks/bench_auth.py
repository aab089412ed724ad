"""Authentication cost per API request: the token cache against a database read per request.

    .venv/bin/python benchmarks/bench_auth.py [--calls 20000]
    CONTRACTSYNC_BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres … (PostgreSQL too)

Prints p50/p99 of `authenticate(token)` with the 5-second in-process cache (the default) and with
the cache off (one SELECT per call, the baseline), and of a whole `GET /v1/tokens` through the
ASGI app (in-process, no network) with the cache on.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import structlog
from temp_database import temporary_postgres

from contractsync.adapters.db import migrate
from contractsync.bootstrap import build_app_service
from contractsync.service.token_authority import TokenAuthority
from contractsync.settings import Settings

ADMIN_TOKEN = "bench-admin-token-0123456789abcdef"


def timed(fn: Callable[[], object], calls: int) -> tuple[float, float]:
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1e6)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def run(label: str, url: str, data_dir: Path, calls: int) -> None:
    migrate.upgrade(url)
    service = build_app_service(
        Settings(database_url=url, data_dir=data_dir, admin_token=ADMIN_TOKEN), upgrade=False
    )
    cached = service._tokens  # the façade's own authority, as every request uses it
    uncached = TokenAuthority(service.context, cache_seconds=0)
    cached.authenticate(ADMIN_TOKEN)
    uncached.authenticate(ADMIN_TOKEN)
    p50_c, p99_c = timed(lambda: cached.authenticate(ADMIN_TOKEN), calls)
    p50_u, p99_u = timed(lambda: uncached.authenticate(ADMIN_TOKEN), max(calls // 10, 100))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

        from contractsync.api.app import create_api

        client = TestClient(create_api(service))
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        client.get("/v1/tokens", headers=headers)
        p50_h, p99_h = timed(lambda: client.get("/v1/tokens", headers=headers), max(calls // 20, 100))
    print(
        f"{label:10} authenticate, cached: p50 {p50_c:7.1f} µs  p99 {p99_c:7.1f} µs | "
        f"no cache (SELECT each time): p50 {p50_u:7.1f} µs  p99 {p99_u:7.1f} µs | "
        f"GET /v1/tokens in-process: p50 {p50_h / 1000:5.2f} ms  p99 {p99_h / 1000:5.2f} ms"
    )
    service.context.sessions.kw["bind"].dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20000)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", Path(tmp), args.calls)
        base = os.environ.get("CONTRACTSYNC_BENCH_POSTGRES_URL")
        if base:
            with temporary_postgres(base) as url:
                run("PostgreSQL", url, Path(tmp), args.calls)


if __name__ == "__main__":
    main()
