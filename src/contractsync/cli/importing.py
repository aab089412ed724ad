"""`contractsync import partner-center FILE… [--preview] [--format table|json] [--prices FILE]` (X3).

Exit codes: 0 every record imported (or nothing to do), 1 some records failed, 2 bad input (a file
that cannot be read or is not a Partner Center document; a bad price list) with a one-line reason.
A record that only lacks a customer or a price is reported, not failed: the run did what it could.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from contractsync.adapters.partner_center import (
    PartnerCenterDocument,
    PartnerCenterFormatError,
    PartnerCenterSubscription,
    read_document,
)
from contractsync.cli.common import (
    OutputFormat,
    emit_json,
    err,
    fail,
    format_option,
    open_service,
    print_rows,
)


def register(app: typer.Typer) -> None:
    """Add the `import` command group to the `contractsync` app."""
    group = typer.Typer(no_args_is_help=True, help="Import subscription state from Microsoft (X3).")
    group.command("partner-center")(partner_center)
    app.add_typer(group, name="import")


def partner_center(
    files: list[Path] = typer.Argument(
        ..., metavar="FILE", help="Partner Center JSON: subscriptions, collections, transitions"
    ),
    preview: bool = typer.Option(False, "--preview", help="compute every operation; store and send nothing"),
    output: OutputFormat = format_option(),
    prices: Path | None = typer.Option(
        None, "--prices", help='JSON {"offerId or productId:skuId": "list price"} for new subscriptions'
    ),
) -> None:
    """Turn Partner Center subscription state into operations (quantity, status, renewal, upgrade)."""
    from contractsync.service.actor import CLI
    from contractsync.service.partner_center_import import import_partner_center

    price_for = _price_list(prices) if prices is not None else None
    with _progress() as bar:
        documents = _read_all(files, bar)
        # A preview in the wrong folder must not create an empty database.
        service = open_service()
        task = bar.add_task("records", total=sum(d.record_count for d in documents))
        report = import_partner_center(
            service,
            CLI,
            documents,
            preview=preview,
            list_price_for=price_for,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    answer = report.as_json()
    if output is OutputFormat.JSON:
        emit_json(answer)
    else:
        print_report(answer, Console())
    if report.failed:
        raise typer.Exit(1)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,  # no bar in logs and pipes
    )


def _read_all(files: list[Path], bar: Progress) -> list[PartnerCenterDocument]:
    task = bar.add_task("files", total=len(files))
    documents = []
    for path in files:
        try:
            documents.append(read_document(path))
        except PartnerCenterFormatError as error:
            raise fail(str(error)) from None
        bar.advance(task)
    return documents


def _price_list(path: Path) -> Callable[[PartnerCenterSubscription], Decimal | None]:
    """List prices by full offer id or by productId:skuId (the SKU; SPEC §1), keys case-insensitive."""
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8-sig"), parse_float=Decimal)
    except OSError as error:
        raise fail(f"{path.name}: cannot be read: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise fail(f"{path.name}: is not valid JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(raw, dict):
        raise fail(f"{path.name}: must be an object of offer id → list price")
    table: dict[str, Decimal] = {}
    for key, value in raw.items():
        try:
            price = Decimal(str(value)) if not isinstance(value, bool) else None
        except InvalidOperation:
            price = None
        if price is None or not price.is_finite() or price < 0:
            raise fail(f"{path.name}: {key}: must be a list price (a decimal ≥ 0); got {value!r}")
        table[key.upper()] = price
    from contractsync.service.partner_center_import import price_lookup

    return price_lookup(table)


def print_report(answer: dict[str, Any], console: Console) -> None:
    title = "Partner Center import" + (" — PREVIEW: nothing stored or sent" if answer["preview"] else "")
    rows = [
        (
            f"{record['file']} {record['record']}",
            record["subscription_id"] or "",
            record["outcome"],
            ", ".join(
                f"{op['type']}" + (f" ({op['status']})" if op["status"] != "applied" else "")
                for op in record["operations"]
            ),
            record["reason"] or "",
        )
        for record in answer["records"]
    ]
    print_rows(console, title, ("Record", "Subscription", "Outcome", "Operations", "Reason"), rows)
    for file in answer["files"]:
        if file["ignored_reason"]:
            line = f"{file['file']}: {file['object_type']} ignored — {file['ignored_reason']}"
            console.print(escape(line), highlight=False)
    counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(answer["counts"].items())) or "no records"
    console.print(counts, highlight=False)
