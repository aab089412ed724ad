"""What every command group shares: exit codes, the one-line failure, `--format`, JSON output,
opening the configured database without creating it, and typed use-case failures → exit codes.

Exit codes: 0 ok, 1 failure, 2 bad input, always with a one-line reason on stderr. Results go to
stdout (a table, or JSON for scripts); progress and notes go to stderr so they never mix with what
a script parses.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from contractsync.service.facade import ContractSync
    from contractsync.settings import Settings

#: How a command gets the façade (tests pass one over a fake or their own database).
ServiceFactory = Callable[[], "ContractSync"]

FAILURE = 1
BAD_INPUT = 2

err = Console(stderr=True)


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def format_option() -> Any:
    """`--format table|json` (table by default)."""
    return typer.Option(OutputFormat.TABLE, "--format", help="table or json")


def fail(message: str, code: int = BAD_INPUT) -> typer.Exit:
    """One line on stderr, whatever the message holds (SQL errors and tracebacks span several;
    brackets are printed as they are), and the exit to raise."""
    line = " ".join(str(message).split()) or "failed"
    err.print(f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2))


def print_rows(
    console: Console,
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    right: Sequence[str] = (),
) -> None:
    """A table when it fits the terminal; else each row as a block of `column  value` lines (at 80
    columns, a table of ids, dates and reasons folds into unreadable slivers). Values are printed
    as they are (no markup)."""

    def width(value: str) -> int:
        return max((len(line) for line in value.splitlines()), default=0)

    natural = 1 + sum(
        3 + max([len(column), *(width(row[i]) for row in rows)]) for i, column in enumerate(columns)
    )
    if natural <= console.width:
        table = Table(title=Text(title), title_justify="left")
        for column in columns:
            table.add_column(column, no_wrap=True, justify="right" if column in right else "left")
        for row in rows:
            table.add_row(*(Text(value) for value in row))
        console.print(table)
        return
    console.print(Text(title, style="italic"))
    for row in rows:
        block = Table.grid(padding=(0, 2))
        block.add_column(style="dim", no_wrap=True)
        block.add_column(overflow="fold")
        for column, value in zip(columns, row, strict=True):
            if value not in ("", "-"):
                block.add_row(column, Text(value))
        console.print(block)
        console.print()


def settings() -> Settings:
    """The configuration (environment and `.env`); a bad value exits 2 with one line."""
    from pydantic import ValidationError

    from contractsync.settings import Settings

    try:
        return Settings()
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise fail(f"CONTRACTSYNC_{where.upper()}: {problem['msg']}") from None


def require_existing_database(configured: Settings) -> None:
    """Exit 2 instead of creating an empty SQLite file for a command that works on stored state."""
    from contractsync.adapters.db.existence import missing_sqlite_file

    missing = missing_sqlite_file(configured.database_url)
    if missing is not None:
        raise fail(
            f"no database at {missing} (set CONTRACTSYNC_DATABASE_URL, or create one with "
            "`contractsync db upgrade`)"
        )


def open_service(*, create: bool = False) -> ContractSync:
    """The façade on the configured database; only `create=True` may create a missing one."""
    from contractsync.adapters.logging import configure_logging
    from contractsync.bootstrap import build_app_service

    configured = settings()
    if not create:
        require_existing_database(configured)
    # Log lines go to stderr as JSON, so `--format json` on stdout stays parseable; warnings and
    # up only, because a command's own output is its table or JSON.
    configure_logging(json=True, level="WARNING")
    with service_errors():
        return build_app_service(configured)


def service_getter(build_service: ServiceFactory | None) -> Callable[..., ContractSync]:
    """`get(create=False)`: the façade from `build_service` (tests), else on the configured database."""
    if build_service is None:
        return open_service

    def given(*, create: bool = False) -> ContractSync:
        with service_errors():
            return build_service()

    return given


@contextmanager
def service_errors() -> Iterator[None]:
    """Typed use-case failures → exit codes; anything else is a failure (1), not a traceback."""
    from contractsync.service.errors import Conflict, Invalid, NotFound, ServiceError

    try:
        yield
    except (Invalid, NotFound, Conflict) as error:
        raise fail(error.message, BAD_INPUT) from None
    except ServiceError as error:
        raise fail(error.message, FAILURE) from None
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as error:
        raise fail(f"{type(error).__name__}: {error}", FAILURE) from None


def plain_id(value: str | None, option: str) -> str | None:
    """An id given on the command line: no control characters (exit 2 with one line)."""
    from contractsync.domain.bounds import control_character

    if value is not None and control_character(value) is not None:
        raise fail(f"{option} must not contain control characters")
    return value
