"""`contractsync plan FILE [--format table|json]` (X2): a scenario through the real rules, no
database and no Autotask."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from contractsync.cli.common import OutputFormat, emit_json, fail, format_option
from contractsync.domain.labels import record_label
from contractsync.scenario.report import as_json
from contractsync.scenario.runner import ScenarioOutcome


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)


def plan(
    file: Path = typer.Argument(..., help="scenario file (API.md, 'Scenario files')"),
    output: OutputFormat = format_option(),
) -> None:
    """Preview (X2): which operations and adjustments a scenario produces; no database, no Autotask."""
    from contractsync.scenario.loader import ScenarioError, load_scenario
    from contractsync.scenario.runner import run_scenario

    try:
        outcome = run_scenario(load_scenario(file))
    except ScenarioError as error:
        raise fail(str(error)) from None
    if output is OutputFormat.JSON:
        emit_json(as_json(outcome))
    else:
        print_table(outcome, Console())


def print_table(outcome: ScenarioOutcome, console: Console) -> None:
    data = as_json(outcome)
    table = Table(
        title="Connection operations", caption="adjustments: date, unit change @ unit price", show_lines=False
    )
    for column in ("#", "operation", "subscription", "status", "adjustments"):
        table.add_column(column, overflow="fold")
    for number, op in enumerate(data["operations"], start=1):
        adjustments = "\n".join(
            f"{a['effective_date']} {a['unit_change']:+d} @ {a['adjusted_unit_price']}"
            for a in op["adjustments"]
        )
        style = {"failed": "red", "skipped": "yellow", "superseded": "dim"}.get(op["status"], "green")
        status = f"[{style}]{op['status']}[/]"
        if op["reason"]:  # a reason reads as a sentence under its status, not squeezed in a column
            status += f"\n[dim]{op['reason']}[/]"
        table.add_row(str(number), record_label(op["type"]), op["subscription_id"] or "", status, adjustments)
    console.print(table)
    for service_id, points in data["contract_services"].items():
        timeline = Table(title=f"Contract service {service_id} in Autotask")
        for column in ("from", "units", "unit price", "unit cost"):
            timeline.add_column(column)
        for point in points:
            timeline.add_row(point["from"], str(point["units"]), point["unit_price"], point["unit_cost"])
        console.print(timeline)
    for action in data["manual_actions"]:
        console.print(f"[bold yellow]manual action[/] {action['instruction']}")
    for alert in data["alerts"]:
        console.print(f"[bold red]alert[/] {alert['kind']}: {alert['message']}")
    for refusal in data.get("refused", []):
        console.print(f"[bold red]refused[/] {refusal['at']} {refusal['event']}: {refusal['reason']}")
