"""`contractsync tokens create|list|revoke`: API tokens."""

from __future__ import annotations

import typer
from rich.console import Console

from contractsync.cli.common import (
    OutputFormat,
    ServiceFactory,
    emit_json,
    err,
    fail,
    format_option,
    plain_id,
    print_rows,
    service_errors,
    service_getter,
)


def register(app: typer.Typer, build_service: ServiceFactory | None = None) -> None:
    service = service_getter(build_service)
    tokens = typer.Typer(no_args_is_help=True, help="API tokens.")

    @tokens.command("create")
    def create_token(
        reseller: str | None = typer.Option(None, "--reseller", help="The reseller the token is scoped to."),
        admin: bool = typer.Option(False, "--admin", help="A provider-level token that sees every reseller."),
        expires_in_days: int | None = typer.Option(
            None, "--expires-in-days", min=1, max=3650, help="The token stops working after this many days."
        ),
        name: str | None = typer.Option(
            None, "--name", help="Who uses it (a person or system): the audit log's actor; unique."
        ),
    ) -> None:
        """Print a new API token once (it is stored hashed and cannot be shown again)."""
        from datetime import UTC, datetime, timedelta

        if admin == (reseller is not None):
            raise fail("give exactly one of --reseller ID or --admin")
        if reseller is not None and not reseller.strip():
            raise fail("--reseller needs a reseller id")
        plain_id(reseller, "--reseller")
        expires = None if expires_in_days is None else datetime.now(UTC) + timedelta(days=expires_in_days)
        app_service = service()
        with service_errors():
            token = app_service.create_token(None if admin else reseller, expires_at=expires, name=name)
        typer.echo(token)
        err.print("store it now: it is shown only once", style="dim")

    @tokens.command("list")
    def list_tokens(output: OutputFormat = format_option()) -> None:
        """Every API token: id, name, kind, reseller, where it came from, first characters, created,
        expires, last used (never the token itself)."""
        from contractsync.service.actor import ADMIN

        app_service = service()
        with service_errors():
            found = app_service.list_tokens(ADMIN)
        if output is OutputFormat.JSON:
            emit_json(found)
            return
        columns = ("id", "name", "kind", "reseller", "source", "hint", "created", "expires", "last used")
        keys = (
            "id",
            "name",
            "kind",
            "reseller_id",
            "source",
            "hint",
            "created_at",
            "expires_at",
            "last_used_at",
        )
        rows = [[str(item.get(key) or "-") for key in keys] for item in found]
        print_rows(Console(), f"{len(found)} API token(s)", columns, rows, right=("id",))

    @tokens.command("revoke")
    def revoke_token(token_id: int = typer.Argument(..., min=1, help="The id `tokens list` shows.")) -> None:
        """Revoke a token now; the console sessions it signed in end too. (Other running
        processes stop accepting it within a few seconds.)"""
        from contractsync.service.actor import ADMIN

        app_service = service()
        with service_errors():
            app_service.revoke_token(ADMIN, token_id)
        err.print(f"token {token_id} revoked")

    app.add_typer(tokens, name="tokens")
