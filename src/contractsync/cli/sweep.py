"""`contractsync sweep [--date D] [--preview]`: the daily sweep for one date."""

from __future__ import annotations

from datetime import date
from typing import Any

import typer
from rich.console import Console

from contractsync.cli.common import (
    OutputFormat,
    ServiceFactory,
    emit_json,
    err,
    fail,
    format_option,
    print_rows,
    service_errors,
    service_getter,
)


def iso_date(value: str) -> str:
    """The date as YYYY-MM-DD, or exit 2 with one line (click's own errors span several)."""
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise fail(f"--date {value!r} is not a date (YYYY-MM-DD)")


def print_operations(console: Console, title: str, records: list[dict[str, Any]]) -> None:
    columns = ("id", "type", "subscription", "status", "effective", "adjustments", "reason")
    rows = [
        (
            str(record.get("id") or "-"),
            str(record.get("type", "")),
            str(record.get("subscription_id") or "-"),
            str(record.get("status", "")),
            str(record.get("effective_date") or "-"),
            str(len(record.get("adjustments") or [])),
            str(record.get("reason") or ""),
        )
        for record in records
    ]
    print_rows(console, title, columns, rows, right=("id", "adjustments"))


def register(app: typer.Typer, build_service: ServiceFactory | None = None) -> None:
    service = service_getter(build_service)

    @app.command("sweep")
    def sweep(
        day: str | None = typer.Option(
            None, "--date", help="The day to sweep (YYYY-MM-DD); default: today in UTC."
        ),
        preview: bool = typer.Option(
            False, "--preview", help="Show what it would do; store and send nothing."
        ),
        output: OutputFormat = format_option(),
    ) -> None:
        """The daily sweep for one date: expirations, renewals, period starts (idempotent per date)."""
        from contractsync.adapters.clock import SystemClock
        from contractsync.service.actor import CLI

        day = iso_date(day) if day is not None else SystemClock().now().date().isoformat()
        app_service = service()
        with service_errors(), err.status(f"sweeping {day}…"):
            result = app_service.sweep(CLI, {"date": day, "preview": preview})
        if output is OutputFormat.JSON:
            emit_json(result)
            return
        label = "preview of the sweep" if preview else "sweep"
        print_operations(Console(), f"{label} for {day}", list(result.get("operations", [])))
