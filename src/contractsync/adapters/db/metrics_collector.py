"""Prometheus gauges read from the database at scrape time.

The API and the workers are separate processes; the audit log and the outbox are where the truth
about operations and deliveries is, so `/metrics` reads them there instead of counting in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.db import ledger_check
from contractsync.adapters.db.pause_table import connection_pauses
from contractsync.adapters.db.tables import adjustments, alerts, connection_operations, connections

RECENT = 1000  # deliveries the latency quantiles are taken over


class DatabaseCollector(Collector):
    def __init__(self, sessions: sessionmaker[Session], budget_used: Callable[[], dict[str, float]]) -> None:
        self._sessions = sessions
        self._budget_used = budget_used

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._sessions() as session:
            operations = GaugeMetricFamily(
                "contractsync_operation_records",
                "Connection operation records by type and status.",
                labels=["type", "status"],
            )
            for type_name, status, count in session.execute(
                select(connection_operations.c.type, connection_operations.c.status, func.count()).group_by(
                    connection_operations.c.type, connection_operations.c.status
                )
            ):
                operations.add_metric([type_name, status], count)
            yield operations
            deliveries = GaugeMetricFamily(
                "contractsync_adjustments", "Outbox adjustments by status.", labels=["status"]
            )
            depth = 0
            for status, count in session.execute(
                select(adjustments.c.status, func.count()).group_by(adjustments.c.status)
            ):
                deliveries.add_metric([status], count)
                depth += count if status in ("pending", "sending") else 0
            yield deliveries
            yield GaugeMetricFamily(
                "contractsync_outbox_depth_now", "Adjustments waiting for delivery.", value=depth
            )
            yield _counted_by_kind(
                session,
                "contractsync_autotask_error_rows",
                "Adjustments whose last Autotask call failed, by kind.",
                adjustments.c.error_kind,
                adjustments.c.error_kind.is_not(None),
            )
            paused = GaugeMetricFamily(
                "contractsync_connection_paused",
                "1 while Autotask refuses the connection's credentials and its deliveries wait.",
                labels=["connection"],
            )
            for connection_id, pause in session.execute(
                select(connections.c.id, connection_pauses.c.connection_id)
                .outerjoin(connection_pauses, connection_pauses.c.connection_id == connections.c.id)
                .order_by(connections.c.id)
            ):
                paused.add_metric([connection_id], 0 if pause is None else 1)
            yield paused
            yield _counted_by_kind(
                session,
                "contractsync_alerts_open",
                "Open X5 alerts by kind (the worker brings the derived ones up to date every minute).",
                alerts.c.kind,
                alerts.c.resolved_at.is_(None),
            )
            drifting = {(d.connection_id, d.contract_service_id) for d in ledger_check.drift(session)}
            yield GaugeMetricFamily(
                "contractsync_ledger_drift_services",
                "Contract services whose ledger disagrees with what their last verification read "
                "plus what was sent since (drift made by contractsync itself; see the ledger_drift alert).",
                value=len(drifting),
            )
            recent = session.execute(
                select(adjustments.c.created_at, adjustments.c.sent_at)
                .where(adjustments.c.sent_at.is_not(None))
                .order_by(adjustments.c.id.desc())
                .limit(RECENT)
            ).all()
        latency = GaugeMetricFamily(
            "contractsync_delivery_latency_recent_seconds",
            f"Accepted-to-sent latency over the last {RECENT} deliveries.",
            labels=["quantile"],
        )
        spans = sorted(max(r.sent_at - r.created_at, timedelta(0)).total_seconds() for r in recent)
        for quantile in (0.5, 0.9, 0.99):
            if spans:
                latency.add_metric([str(quantile)], spans[min(len(spans) - 1, int(quantile * len(spans)))])
        yield latency
        budget = GaugeMetricFamily(
            "contractsync_autotask_budget_used",
            "Share of the hourly request budget used, per connection.",
            labels=["connection"],
        )
        for connection_id, fraction in self._budget_used().items():
            budget.add_metric([connection_id], fraction)
        yield budget


def _counted_by_kind(
    session: Session, name: str, documentation: str, kind: ColumnElement[Any], where: ColumnElement[bool]
) -> GaugeMetricFamily:
    """A gauge of the rows matching `where`, by the value of `kind`."""
    gauge = GaugeMetricFamily(name, documentation, labels=["kind"])
    for value, count in session.execute(select(kind, func.count()).where(where).group_by(kind)):
        gauge.add_metric([value], count)
    return gauge
