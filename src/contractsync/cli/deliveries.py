"""`contractsync deliveries run`: deliver what is due now through the application, then exit."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from contractsync.cli.common import (
    OutputFormat,
    ServiceFactory,
    emit_json,
    err,
    format_option,
    service_errors,
    service_getter,
)


def register(app: typer.Typer, build_service: ServiceFactory | None = None) -> None:
    service = service_getter(build_service)
    deliveries = typer.Typer(no_args_is_help=True, help="Adjustment delivery.")

    @deliveries.command("run")
    def run_deliveries(output: OutputFormat = format_option()) -> None:
        """Deliver everything due now, then exit (like `worker --once`, through the application)."""
        from contractsync.service.actor import ADMIN

        app_service = service()
        with service_errors(), err.status("delivering…"):
            counts = app_service.run_deliveries(ADMIN)
        if output is OutputFormat.JSON:
            emit_json(counts)
            return
        table = Table(title="deliveries", title_justify="left")
        table.add_column("outcome")
        table.add_column("count", justify="right")
        for key, value in counts.items():
            table.add_row(str(key), json.dumps(value) if isinstance(value, dict | list) else str(value))
        Console().print(table)

    app.add_typer(deliveries, name="deliveries")
