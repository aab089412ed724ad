"""Operator commands: `serve`, `sweep`, `tokens create|list|revoke`, `reconcile`, `deliveries run`,
`operations apply`.

Exit codes: 0 ok, 1 failure, 2 bad input (Invalid, NotFound, Conflict or a malformed option),
always with a one-line reason on stderr. Results go to stdout (a table, or JSON for scripts);
progress and notes go to stderr so they never mix with what a script parses.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from contractsync.service.facade import ContractSync

ServiceFactory = Callable[[], "ContractSync"]

err = Console(stderr=True)

BAD_INPUT = 2
FAILURE = 1


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"


def _default_service() -> ContractSync:
    from contractsync.adapters.logging import configure_logging
    from contractsync.bootstrap import build_app_service
    from contractsync.settings import Settings

    # Log lines go to stderr as JSON, so `--format json` on stdout stays parseable; warnings
    # and up only, because an operator command's own output is the table or JSON.
    configure_logging(json=True, level="WARNING")
    return build_app_service(Settings())


def require_existing_database() -> None:
    """Exit 2 instead of creating an empty SQLite file for a command that works on stored state."""
    from contractsync.adapters.db.existence import missing_sqlite_file
    from contractsync.settings import Settings

    missing = missing_sqlite_file(Settings().database_url)
    if missing is not None:
        raise _fail(
            f"no database at {missing} (set CONTRACTSYNC_DATABASE_URL, or create one with "
            "`contractsync db upgrade`)",
            BAD_INPUT,
        )


def _fail(message: str, code: int) -> typer.Exit:
    # One line, whatever the message holds (SQL errors and tracebacks span several).
    line = " ".join(str(message).split()) or "failed"
    err.print(f"[bold red]error:[/] {line}", highlight=False, soft_wrap=True, markup=True)
    return typer.Exit(code)


@contextmanager
def _service_errors() -> Iterator[None]:
    """Typed use-case failures → exit codes; anything else is a failure (1), not a traceback."""
    from contractsync.service.errors import Conflict, Invalid, NotFound, ServiceError

    try:
        yield
    except (Invalid, NotFound, Conflict) as error:
        raise _fail(error.message, BAD_INPUT) from None
    except ServiceError as error:
        raise _fail(error.message, FAILURE) from None
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as error:
        raise _fail(f"{type(error).__name__}: {error}", FAILURE) from None


def _plain_id(value: str | None, option: str) -> str | None:
    """An id given on the command line: no control characters (exit 2 with one line)."""
    from contractsync.domain.bounds import control_character

    if value is not None and control_character(value) is not None:
        raise _fail(f"{option} must not contain control characters", BAD_INPUT)
    return value


def _iso_date(value: str) -> str:
    """The date as YYYY-MM-DD, or exit 2 with one line (click's own errors span several)."""
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise _fail(f"--date {value!r} is not a date (YYYY-MM-DD)", BAD_INPUT)


def _emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=False))


def _operations_table(title: str, records: list[dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("id", "type", "subscription", "status", "effective", "adjustments", "reason"):
        table.add_column(column, overflow="fold")
    for record in records:
        table.add_row(
            str(record.get("id") or "-"),
            str(record.get("type", "")),
            str(record.get("subscription_id") or "-"),
            str(record.get("status", "")),
            str(record.get("effective_date") or "-"),
            str(len(record.get("adjustments") or [])),
            str(record.get("reason") or ""),
        )
    return table


def _differences_table(report: dict[str, Any]) -> Table:
    table = Table(title=f"{len(report.get('differences', []))} difference(s)", title_justify="left")
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
    for column in columns:
        table.add_column(column, overflow="fold")
    for d in report.get("differences", []):
        table.add_row(
            str(d.get("kind") or "-"),
            str(d.get("connection_id") or report.get("connection_id") or "-"),
            str(d.get("subscription_id") or "-"),
            str(d.get("contract_service_id") or "-"),
            str(d.get("date") or "-"),
            f"{d.get('expected_units', '-')}/{d.get('autotask_units', '-')}",
            f"{d.get('expected_price', '-')}/{d.get('autotask_price', '-')}",
            str(d.get("money_impact") or "-"),
        )
    return table


def _operations_file(file: Path) -> list[Any]:
    """The operations of a JSON file, or exit 2 with one line."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _fail(f"{file}: {error}", BAD_INPUT) from None
    items = data.get("operations") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise _fail(f'{file}: expected a non-empty list of operations, or {{"operations": [...]}}', BAD_INPUT)
    return items


def _batch_table(results: list[dict[str, Any]], preview: bool) -> Table:
    applied = sum(1 for r in results if r["status"] != "refused")
    verb = "would apply" if preview else "applied"
    table = Table(title=f"{verb} {applied} of {len(results)} operations", title_justify="left")
    for column in ("#", "subscription", "type", "status", "records", "adjustments", "reason"):
        table.add_column(column, overflow="fold")
    for r in results:
        records = r.get("records") or []
        table.add_row(
            str(r["index"]),
            str(r["subscription_id"]),
            str(r.get("type") or "-"),
            str(r["status"]),
            ", ".join(f"#{x['id']} {x['status']}" if x.get("id") else x["status"] for x in records) or "-",
            str(sum(len(x.get("adjustments") or []) for x in records)),
            (r.get("error") or {}).get("message", ""),
        )
    return table


def register(app: typer.Typer, build_service: ServiceFactory | None = None) -> None:
    """Add the commands to `app`. `build_service`: how to get the façade (tests pass a fake)."""
    service_factory = build_service or _default_service

    def service(*, create: bool = False) -> ContractSync:
        """The façade; only `serve` (create=True) may create the database."""
        if build_service is None and not create:
            require_existing_database()
        with _service_errors():
            return service_factory()

    @app.command("serve")
    def serve(
        host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
        port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port for the API and console."),
    ) -> None:
        """The REST API (and the web console when installed)."""
        import uvicorn

        from contractsync.adapters.logging import configure_logging

        configure_logging(json=True)
        from contractsync.bootstrap import admin_token, start_metrics_server
        from contractsync.settings import Settings

        app_service = service(create=True)
        settings = Settings()
        web_app = _web_app(app_service, settings)
        token, generated = admin_token(app_service, settings)
        if generated:  # API.md: generated and printed on first start
            err.print(f"admin token (shown once; kept in {settings.data_dir}): {token}", soft_wrap=True)
        err.print(
            f"contractsync API on http://{host}:{port}/v1 (docs: http://{host}:{port}/docs)", soft_wrap=True
        )
        # log_config=None keeps our JSON logging; access_log=False because our middleware logs
        # requests without their headers (uvicorn's would not include them either, but says less).
        metrics_server = start_metrics_server(web_app, settings)
        try:
            uvicorn.run(web_app, host=host, port=port, log_config=None, access_log=False)
        finally:
            if metrics_server is not None:
                metrics_server.stop()

    @app.command("sweep")
    def sweep(
        day: str | None = typer.Option(
            None, "--date", help="The day to sweep (YYYY-MM-DD); default: today in UTC."
        ),
        preview: bool = typer.Option(
            False, "--preview", help="Show what it would do; store and send nothing."
        ),
        output: Format = typer.Option(Format.TABLE, "--format", help="table or json"),
    ) -> None:
        """The daily sweep for one date: expirations, renewals, period starts (idempotent per date)."""
        from contractsync.adapters.clock import SystemClock
        from contractsync.service.actor import ADMIN

        day = _iso_date(day) if day is not None else SystemClock().now().date().isoformat()
        app_service = service()
        with _service_errors(), err.status(f"sweeping {day}…"):
            result = app_service.sweep(ADMIN, {"date": day, "preview": preview})
        if output is Format.JSON:
            _emit_json(result)
            return
        label = "preview of the sweep" if preview else "sweep"
        Console().print(_operations_table(f"{label} for {day}", list(result.get("operations", []))))

    tokens = typer.Typer(no_args_is_help=True, help="API tokens.")

    @tokens.command("create")
    def create_token(
        reseller: str | None = typer.Option(None, "--reseller", help="The reseller the token is scoped to."),
        admin: bool = typer.Option(False, "--admin", help="A provider-level token that sees every reseller."),
        expires_in_days: int | None = typer.Option(
            None, "--expires-in-days", min=1, max=3650, help="The token stops working after this many days."
        ),
    ) -> None:
        """Print a new API token once (it is stored hashed and cannot be shown again)."""
        from datetime import UTC, datetime, timedelta

        if admin == (reseller is not None):
            raise _fail("give exactly one of --reseller ID or --admin", BAD_INPUT)
        if reseller is not None and not reseller.strip():
            raise _fail("--reseller needs a reseller id", BAD_INPUT)
        _plain_id(reseller, "--reseller")
        expires = None if expires_in_days is None else datetime.now(UTC) + timedelta(days=expires_in_days)
        app_service = service()
        with _service_errors():
            token = app_service.create_token(None if admin else reseller, expires_at=expires)
        typer.echo(token)
        err.print("store it now: it is shown only once", style="dim")

    @tokens.command("list")
    def list_tokens(output: Format = typer.Option(Format.TABLE, "--format", help="table or json")) -> None:
        """Every API token: id, kind, reseller, where it came from, first characters, created,
        expires, last used (never the token itself)."""
        from contractsync.service.actor import ADMIN

        app_service = service()
        with _service_errors():
            found = app_service.list_tokens(ADMIN)
        if output is Format.JSON:
            _emit_json(found)
            return
        table = Table(title=f"{len(found)} API token(s)", title_justify="left")
        columns = ("id", "kind", "reseller", "source", "hint", "created", "expires", "last used")
        keys = ("id", "kind", "reseller_id", "source", "hint", "created_at", "expires_at", "last_used_at")
        for column in columns:
            table.add_column(column, overflow="fold")
        for item in found:
            table.add_row(*(str(item.get(key) or "-") for key in keys))
        Console().print(table)

    @tokens.command("revoke")
    def revoke_token(token_id: int = typer.Argument(..., min=1, help="The id `tokens list` shows.")) -> None:
        """Revoke a token now; the console sessions it signed in end too. (Other running
        processes stop accepting it within a few seconds.)"""
        from contractsync.service.actor import ADMIN

        app_service = service()
        with _service_errors():
            app_service.revoke_token(ADMIN, token_id)
        err.print(f"token {token_id} revoked")

    app.add_typer(tokens, name="tokens")

    @app.command("reconcile")
    def reconcile_command(
        connection: str | None = typer.Option(None, "--connection", help="One connection (default: all)."),
        fix: bool = typer.Option(
            False, "--fix", help="Queue one correcting adjustment per drifting contract service."
        ),
        output: Format = typer.Option(Format.TABLE, "--format", help="table or json"),
    ) -> None:
        """X1: compare what Autotask holds with what contractsync expects; --fix corrects it."""
        from rich.progress import Progress

        from contractsync.api.drift import reconcile
        from contractsync.service.actor import ADMIN

        _plain_id(connection, "--connection")
        app_service = service()
        with _service_errors(), Progress(console=err, transient=True) as progress:
            task = progress.add_task("reconciling", total=None)

            def step(connection_id: str, total: int) -> None:
                progress.update(task, total=total, description=f"reconciling {connection_id}")
                progress.advance(task)

            report = reconcile(app_service, ADMIN, connection, fix, on_connection=step)
        if output is Format.JSON:
            _emit_json(report)
            return
        Console().print(_differences_table(report))
        if fix:
            err.print(f"corrected: {report.get('fixed', 0)}")

    operations = typer.Typer(no_args_is_help=True, help="Subscription operations.")

    @operations.command("apply")
    def apply_operations(
        file: Path = typer.Argument(..., help='JSON: a list of operations, or {"operations": [...]}'),
        preview: bool = typer.Option(
            False, "--preview", help="Show what it would do; store and send nothing."
        ),
        atomic: bool = typer.Option(False, "--atomic", help="One refusal refuses the whole file."),
        output: Format = typer.Option(Format.TABLE, "--format", help="table or json"),
    ) -> None:
        """Apply many operations in order (API.md operations body plus subscription_id), up to
        1,000 per transaction; exits 1 when any was refused."""
        from contractsync.service.actor import ADMIN
        from contractsync.service.operation_batch import MAX_OPERATIONS

        items = _operations_file(file)
        if atomic and len(items) > MAX_OPERATIONS:
            raise _fail(f"--atomic applies at most {MAX_OPERATIONS} operations in one transaction", BAD_INPUT)
        app_service = service()
        results: list[dict[str, Any]] = []
        with _service_errors(), err.status(f"applying {len(items)} operations…"):
            for start in range(0, len(items), MAX_OPERATIONS):
                body = {
                    "operations": items[start : start + MAX_OPERATIONS],
                    "preview": preview,
                    "atomic": atomic,
                }
                for result in app_service.apply_operations(ADMIN, body)["results"]:
                    results.append({**result, "index": result["index"] + start})
        refused = [r for r in results if r["status"] == "refused"]
        if output is Format.JSON:
            _emit_json({"preview": preview, "applied": len(results) - len(refused), "refused": len(refused),
                        "results": results})  # fmt: skip
        else:
            Console().print(_batch_table(results, preview))
        if refused:
            raise typer.Exit(FAILURE)

    app.add_typer(operations, name="operations")

    deliveries = typer.Typer(no_args_is_help=True, help="Adjustment delivery.")

    @deliveries.command("run")
    def run_deliveries(output: Format = typer.Option(Format.TABLE, "--format", help="table or json")) -> None:
        """Deliver everything due now, then exit (like `worker --once`, through the application)."""
        from contractsync.service.actor import ADMIN

        app_service = service()
        with _service_errors(), err.status("delivering…"):
            counts = app_service.run_deliveries(ADMIN)
        if output is Format.JSON:
            _emit_json(counts)
            return
        table = Table(title="deliveries", title_justify="left")
        table.add_column("outcome")
        table.add_column("count", justify="right")
        for key, value in counts.items():
            table.add_row(str(key), json.dumps(value) if isinstance(value, dict | list) else str(value))
        Console().print(table)

    app.add_typer(deliveries, name="deliveries")


def _web_app(service: ContractSync, settings: Any) -> Any:
    """API and console (the settings choose docs, metrics and session behaviour)."""
    from contractsync.bootstrap import build_web_app

    return build_web_app(service, settings)
