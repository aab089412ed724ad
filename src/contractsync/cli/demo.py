"""`contractsync demo`: the embedded default in one process (`demo.DemoStack`, wired by bootstrap)."""

from __future__ import annotations

import typer

from contractsync.cli.common import settings


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
        port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port for the API and console."),
    ) -> None:
        """The embedded default: SQLite, the Autotask sandbox, sample data, API + console + worker."""
        from contractsync.demo import run_demo

        run_demo(host, port, settings())
