"""The `contractsync` command line (typer + rich). Exit codes: 0 ok, 1 failure, 2 bad input.

Each area registers its own commands; this module only assembles them.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Keep Autotask billing in step with CSP.")
err = Console(stderr=True)


@app.callback()
def _root() -> None:
    """Keep Autotask recurring-contract billing in step with Microsoft CSP subscriptions."""


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def fail(message: str, code: int = 2) -> typer.Exit:
    """One-line reason on stderr, non-zero exit."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@app.command()
def plan(
    file: Path = typer.Argument(..., help="scenario file (API.md, 'Scenario files')"),
    output: OutputFormat = typer.Option(OutputFormat.TABLE, "--format", help="table or json"),
) -> None:
    """Preview (X2): which operations and adjustments a scenario produces; no database, no Autotask."""
    from contractsync.scenario.loader import ScenarioError, load_scenario
    from contractsync.scenario.report import as_json, print_table
    from contractsync.scenario.runner import run_scenario

    try:
        outcome = run_scenario(load_scenario(file))
    except ScenarioError as error:
        raise fail(str(error)) from None
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(as_json(outcome), indent=2))
    else:
        print_table(outcome, Console())


def _register_groups() -> None:
    from contractsync.bootstrap import (
        partner_center_polls,
        scheduled_reconciliation,
        scheduled_sweep,
        worker_connector_factory,
    )
    from contractsync.cli import (
        demo,
        importing,
        operator,
        partner_center,
        partner_center_sandbox,
        sandbox,
        worker,
    )

    worker.register(
        app,
        sweep_factory=scheduled_sweep,
        connectors=worker_connector_factory,
        ticks=(partner_center_polls, scheduled_reconciliation),
    )
    for group in (sandbox, operator, demo, importing, partner_center_sandbox, partner_center):
        group.register(app)


_register_groups()


def main() -> None:
    app()
