"""Prometheus metrics counted in the API process: its HTTP requests and its group commits.
Everything else `/metrics` shows is read from the database at scrape time
(`adapters/db/metrics_collector.py`), where the truth of every process is.

Each `Metrics` owns its own registry, so a process (or a test) can build many apps without
"Duplicated timeseries" errors from the global one. Label values are small fixed sets (methods,
route templates, statuses), never ids, so the number of series stays bounded.

Several API processes (`contractsync serve --workers N`) count into files in one directory
(prometheus_client's multiprocess mode: `PROMETHEUS_MULTIPROC_DIR`, set by `serve` before it
starts them: `settings.count_metrics_in`); every process's `/metrics` then shows the sum over all of them, so a scrape that
reaches any one process sees the whole server.
"""

from __future__ import annotations

from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import Collector

_REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# Operations per group-commit transaction: 1 alone, up to operation_batch.MAX_OPERATIONS.
_GROUP_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 500)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self, process_dir: Path | None = None) -> None:
        """`process_dir`: the directory every process of the server counts in (the process must
        have been started with PROMETHEUS_MULTIPROC_DIR naming it, so that its own metrics are
        counted there too)."""
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.http_requests = Counter(
            "contractsync_http_requests",
            "API requests by method, route template and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.http_duration = Histogram(
            "contractsync_http_request_duration_seconds",
            "API request duration by route template.",
            ["route"],
            buckets=_REQUEST_BUCKETS,
            registry=r,
        )
        self.group_commits = Histogram(
            "contractsync_group_commit_operations",
            "Single operations per group-commit transaction (_count: transactions, _sum: operations).",
            buckets=_GROUP_BUCKETS,
            registry=r,
        )
        #: what `render` shows: this registry, or every process's files and the collectors
        self.exposition = r
        if process_dir is not None:
            self.exposition = CollectorRegistry()
            multiprocess.MultiProcessCollector(self.exposition, path=str(process_dir))  # type: ignore[no-untyped-call]

    def add_collector(self, collector: Collector) -> None:
        """A collector read at scrape time (the database's gauges)."""
        self.exposition.register(collector)

    def record_request(self, method: str, route: str, status: int, duration_s: float) -> None:
        self.http_requests.labels(method=method, route=route, status=str(status)).inc()
        self.http_duration.labels(route=route).observe(duration_s)

    def record_group_commit(self, operations: int) -> None:
        self.group_commits.observe(operations)

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.exposition)
