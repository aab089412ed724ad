"""`contractsync db upgrade|downgrade`: Alembic migrations of the configured database."""

from __future__ import annotations

import typer

from contractsync.cli.common import settings


def register(app: typer.Typer) -> None:
    db = typer.Typer(no_args_is_help=True, help="Database migrations.")

    @db.command("upgrade")
    def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
        """Run Alembic migrations up to REVISION (default: head)."""
        from contractsync.adapters.db import migrate

        migrate.upgrade(settings().database_url, revision)
        typer.echo(f"database at {revision}")

    @db.command("downgrade")
    def db_downgrade(revision: str = typer.Argument(..., help="Target revision, e.g. base.")) -> None:
        """Migrate down to REVISION."""
        from contractsync.adapters.db import migrate

        migrate.downgrade(settings().database_url, revision)
        typer.echo(f"database at {revision}")

    app.add_typer(db, name="db")
