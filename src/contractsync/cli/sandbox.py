"""`contractsync sandbox`: the Autotask sandbox alone (its own settings are its options)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from contractsync.sandbox.state import (
    DEFAULT_INTEGRATION_CODE,
    DEFAULT_SECRET,
    DEFAULT_USERNAME,
    SandboxConfig,
)

API_PATH = "/atservicesrest/v1.0"


def register(app: typer.Typer) -> None:
    @app.command("sandbox")
    def sandbox(
        host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
        port: int = typer.Option(8765, help="Port to listen on."),
        username: str = typer.Option(DEFAULT_USERNAME, help="Autotask UserName the sandbox accepts."),
        secret: str = typer.Option(DEFAULT_SECRET, help="Autotask Secret the sandbox accepts."),
        integration_code: str = typer.Option(DEFAULT_INTEGRATION_CODE, help="ApiIntegrationCode it accepts."),
        seed: str | None = typer.Option(None, help="Seed data: 'demo' (Contoso and Fabrikam)."),
        data: Path | None = typer.Option(None, help="SQLite file that keeps the data across restarts."),
        budget: int = typer.Option(10_000, help="Requests per rolling hour."),
        thread_limit: int = typer.Option(3, help="Requests in flight per integration and endpoint."),
    ) -> None:
        """Run the Autotask sandbox (SPEC §3) under /atservicesrest/v1.0/."""
        import uvicorn

        from contractsync.sandbox.app import create_app

        console = Console()
        if seed not in (None, "demo"):
            console.print(f"[red]unknown seed {seed!r} (known: demo)[/red]")
            raise typer.Exit(2)
        if budget < 1 or thread_limit < 1:
            console.print("[red]--budget and --thread-limit must be positive[/red]")
            raise typer.Exit(2)
        config = SandboxConfig(
            username=username,
            secret=secret,
            integration_code=integration_code,
            data_file=data,
            seed=seed,
            budget=budget,
            thread_limit=thread_limit,
        )
        app = create_app(config)
        base = f"http://{host}:{port}"
        table = Table(title="Autotask sandbox", show_header=False)
        table.add_column("what", style="bold")
        table.add_column("value", overflow="fold")  # URLs are copied whole, never cut with "…"
        table.add_row("API base URL", base + API_PATH)
        table.add_row("Zone lookup", f"{base}{API_PATH}/zoneInformation?user={username}")
        table.add_row("UserName", username)
        # Printed on purpose: these are the local sandbox's own credentials, shown to be pasted
        # into a contractsync connection. They never go to a log.
        table.add_row("Secret", secret)
        table.add_row("ApiIntegrationCode", integration_code)
        table.add_row("Data", str(data) if data else "in memory")
        table.add_row("Admin", f"{base}/sandbox/stats  ·  {base}/docs")
        console.print(table)
        uvicorn.run(app, host=host, port=port, log_level="warning")
