"""Prometheus metrics. Each `Metrics` owns its own registry, so a process (or a test) can build
many apps without "Duplicated timeseries" errors from the global one.

The lead's use cases and the worker call the `record_*`/`set_*` methods; the API's middleware
calls `record_request`. Label values are small fixed sets (types, outcomes, route templates),
never ids, so the number of series stays bounded.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

# Delivery latency: from due to done, seconds to minutes (settle time and backoff included).
_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
_REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.operations = Counter(
            "contractsync_operations",
            "Connection operation records by type and status.",
            ["type", "status"],
            registry=r,
        )
        self.deliveries = Counter(
            "contractsync_deliveries", "Adjustment deliveries by outcome.", ["outcome"], registry=r
        )
        self.delivery_latency = Histogram(
            "contractsync_delivery_latency_seconds",
            "Time from an adjustment being due to its delivery outcome.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.autotask_calls = Counter(
            "contractsync_autotask_calls", "Autotask API calls by kind.", ["kind"], registry=r
        )
        self.autotask_errors = Counter(
            "contractsync_autotask_errors", "Autotask API errors by kind.", ["kind"], registry=r
        )
        self.budget_used = Gauge(
            "contractsync_autotask_budget_used_ratio",
            "Share of the hourly Autotask request budget in use (0..1).",
            registry=r,
        )
        self.outbox_depth = Gauge(
            "contractsync_outbox_depth", "Adjustments waiting for delivery.", registry=r
        )
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

    def record_operation(self, type: str, status: str) -> None:
        self.operations.labels(type=type, status=status).inc()

    def record_delivery(self, outcome: str, latency_s: float | None = None) -> None:
        self.deliveries.labels(outcome=outcome).inc()
        if latency_s is not None:
            self.delivery_latency.observe(max(latency_s, 0.0))

    def record_autotask_call(self, kind: str) -> None:
        self.autotask_calls.labels(kind=kind).inc()

    def record_autotask_error(self, kind: str) -> None:
        self.autotask_errors.labels(kind=kind).inc()

    def set_outbox_depth(self, n: int) -> None:
        self.outbox_depth.set(n)

    def set_budget_used(self, fraction: float) -> None:
        self.budget_used.set(fraction)

    def record_request(self, method: str, route: str, status: int, duration_s: float) -> None:
        self.http_requests.labels(method=method, route=route, status=str(status)).inc()
        self.http_duration.labels(route=route).observe(duration_s)

    def render(self) -> bytes:
        """The Prometheus text exposition of this registry."""
        return generate_latest(self.registry)
