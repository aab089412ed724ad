"""`contractsync reconcile [--connection C] [--fix]` (X1)."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console

from contractsync.cli.common import (
    OutputFormat,
    ServiceFactory,
    emit_json,
    err,
    format_option,
    plain_id,
    print_rows,
    service_errors,
    service_getter,
)


def print_differences(console: Console, report: dict[str, Any]) -> None:
    columns = (
        "kind",
        "connection",
        "subscription",
        "contract service",
        "date",
        "units (expected/autotask)",
        "price (expected/autotask)",
        "money impact",
    )
    rows = [
        (
            str(d.get("kind") or "-"),
            str(d.get("connection_id") or report.get("connection_id") or "-"),
            str(d.get("subscription_id") or "-"),
            str(d.get("contract_service_id") or "-"),
            str(d.get("date") or "-"),
            f"{d.get('expected_units', '-')}/{d.get('autotask_units', '-')}",
            f"{d.get('expected_price', '-')}/{d.get('autotask_price', '-')}",
            str(d.get("money_impact") or "-"),
        )
        for d in report.get("differences", [])
    ]
    print_rows(console, f"{len(rows)} difference(s)", columns, rows, right=("money impact",))


def register(app: typer.Typer, build_service: ServiceFactory | None = None) -> None:
    service = service_getter(build_service)

    @app.command("reconcile")
    def reconcile_command(
        connection: str | None = typer.Option(None, "--connection", help="One connection (default: all)."),
        fix: bool = typer.Option(
            False, "--fix", help="Queue one correcting adjustment per drifting contract service."
        ),
        output: OutputFormat = format_option(),
    ) -> None:
        """X1: compare what Autotask holds with what contractsync expects; --fix corrects it."""
        from rich.progress import Progress

        from contractsync.api.drift import reconcile
        from contractsync.service.actor import CLI

        plain_id(connection, "--connection")
        app_service = service()
        with service_errors(), Progress(console=err, transient=True) as progress:
            task = progress.add_task("reconciling", total=None)

            def step(connection_id: str, total: int) -> None:
                progress.update(task, total=total, description=f"reconciling {connection_id}")
                progress.advance(task)

            report = reconcile(app_service, CLI, connection, fix, on_connection=step)
        if output is OutputFormat.JSON:
            emit_json(report)
            return
        print_differences(Console(), report)
        if fix:
            err.print(f"corrected: {report.get('fixed', 0)}")
