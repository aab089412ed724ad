"""`contractsync operations apply FILE [--preview] [--atomic]`: many operations from a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from contractsync.cli.common import (
    FAILURE,
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


def operations_file(file: Path) -> list[Any]:
    """The operations of a JSON file, or exit 2 with one line."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise fail(f"{file}: {error}") from None
    items = data.get("operations") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise fail(f'{file}: expected a non-empty list of operations, or {{"operations": [...]}}')
    return items


def print_batch(console: Console, results: list[dict[str, Any]], preview: bool) -> None:
    applied = sum(1 for r in results if r["status"] != "refused")
    verb = "would apply" if preview else "applied"
    columns = ("#", "subscription", "type", "status", "records", "adjustments", "reason")
    rows = []
    for r in results:
        records = r.get("records") or []
        rows.append(
            (
                str(r["index"]),
                str(r["subscription_id"]),
                str(r.get("type") or "-"),
                str(r["status"]),
                ", ".join(f"#{x['id']} {x['status']}" if x.get("id") else x["status"] for x in records)
                or "-",
                str(sum(len(x.get("adjustments") or []) for x in records)),
                (r.get("error") or {}).get("message", ""),
            )
        )
    print_rows(
        console, f"{verb} {applied} of {len(results)} operations", columns, rows, right=("#", "adjustments")
    )


def register(app: typer.Typer, build_service: ServiceFactory | None = None) -> None:
    service = service_getter(build_service)
    operations = typer.Typer(no_args_is_help=True, help="Subscription operations.")

    @operations.command("apply")
    def apply_operations(
        file: Path = typer.Argument(..., help='JSON: a list of operations, or {"operations": [...]}'),
        preview: bool = typer.Option(
            False, "--preview", help="Show what it would do; store and send nothing."
        ),
        atomic: bool = typer.Option(False, "--atomic", help="One refusal refuses the whole file."),
        output: OutputFormat = format_option(),
    ) -> None:
        """Apply many operations in order (API.md operations body plus subscription_id), up to
        1,000 per transaction; exits 1 when any was refused."""
        from contractsync.domain.bounds import MAX_BATCH_OPERATIONS as MAX_OPERATIONS
        from contractsync.service.actor import CLI
        from contractsync.service.batch_input import read_batch

        items = operations_file(file)
        if atomic and len(items) > MAX_OPERATIONS:
            raise fail(f"--atomic applies at most {MAX_OPERATIONS} operations in one transaction")
        app_service = service()
        results: list[dict[str, Any]] = []
        with service_errors(), err.status(f"applying {len(items)} operations…"):
            for start in range(0, len(items), MAX_OPERATIONS):
                batch = read_batch(items[start : start + MAX_OPERATIONS], preview=preview, atomic=atomic)
                for result in app_service.apply_operations(CLI, batch)["results"]:
                    results.append({**result, "index": result["index"] + start})
        refused = [r for r in results if r["status"] == "refused"]
        if output is OutputFormat.JSON:
            emit_json({"preview": preview, "applied": len(results) - len(refused), "refused": len(refused),
                       "results": results})  # fmt: skip
        else:
            print_batch(Console(), results, preview)
        if refused:
            raise typer.Exit(FAILURE)

    app.add_typer(operations, name="operations")
