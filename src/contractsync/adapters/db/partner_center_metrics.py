"""Prometheus gauges of Partner Center polls, read from the database at scrape time (the worker
polls; the API process answers /metrics)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.db.partner_center_tables import partner_center_polls


class PartnerCenterCollector(Collector):
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def collect(self) -> Iterator[GaugeMetricFamily]:
        running = GaugeMetricFamily(
            "contractsync_partner_center_poll_running",
            "1 while a poll of the source runs.",
            labels=["source"],
        )
        last = GaugeMetricFamily(
            "contractsync_partner_center_last_poll_timestamp_seconds",
            "When the source's last complete poll finished (Unix time).",
            labels=["source"],
        )
        upcoming = GaugeMetricFamily(
            "contractsync_partner_center_next_poll_timestamp_seconds",
            "When the source's next poll is due (Unix time).",
            labels=["source"],
        )
        progress = GaugeMetricFamily(
            "contractsync_partner_center_poll_progress",
            "Counts of the running or last poll (customers seen, operations applied, requests, ...).",
            labels=["source", "counter"],
        )
        manual = GaugeMetricFamily(
            "contractsync_partner_center_manual_actions",
            "Subscriptions the last poll could not create or update without a person (no price, ...).",
            labels=["source"],
        )
        with self._sessions() as session:
            for row in session.execute(select(partner_center_polls)):
                running.add_metric([row.source_id], 1 if row.status == "running" else 0)
                if row.finished_at is not None:
                    last.add_metric([row.source_id], row.finished_at.timestamp())
                upcoming.add_metric([row.source_id], row.next_poll_at.timestamp())
                for name, count in sorted((row.progress or {}).items()):
                    progress.add_metric([row.source_id, name], float(count))
                manual.add_metric([row.source_id], len(row.manual_actions or []))
        yield from (running, last, upcoming, progress, manual)
