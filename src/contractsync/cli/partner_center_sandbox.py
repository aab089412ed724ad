"""`contractsync partner-center-sandbox [--port P] [--seed demo|CxS]`: a local Partner Center."""

from __future__ import annotations

import threading
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table


def register(app: typer.Typer) -> None:
    @app.command("partner-center-sandbox")
    def partner_center_sandbox(
        host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
        port: int = typer.Option(8766, help="Port to listen on (HTTPS)."),
        seed: str | None = typer.Option(
            None, help="'demo' (empty; the demo adds its own) or CUSTOMERSxSUBS, e.g. 200x5."
        ),
        folder: Path = typer.Option(
            Path(".contractsync/pc-sandbox"), help="Where its TLS certificate is written."
        ),
    ) -> None:
        """Run the Partner Center sandbox: customers, subscriptions, transitions, sign-in, webhooks."""
        from contractsync.partner_center_sandbox.server import PartnerCenterSandbox
        from contractsync.partner_center_sandbox.state import SandboxConfig

        console = Console()
        try:
            sandbox = PartnerCenterSandbox(folder, SandboxConfig(seed=seed), host=host, port=port)
        except ValueError as error:
            console.print(f"[red]error:[/red] {error}", highlight=False)
            raise typer.Exit(2) from None
        sandbox.start()
        table = Table(title="Partner Center sandbox", show_header=False)
        table.add_column("what", style="bold")
        table.add_column("value", overflow="fold")
        config = sandbox.config
        table.add_row("API root", sandbox.api_root)
        table.add_row("Authority", sandbox.authority)
        table.add_row("Partner tenant", config.partner_tenant)
        table.add_row("Application id", config.client_id)
        # Printed on purpose: the local sandbox's own credentials, to paste into a source.
        table.add_row("Secret", config.client_secret)
        table.add_row("Refresh token", config.refresh_token)
        table.add_row("TLS certificate", str(sandbox.ca_file))
        table.add_row("Allow it", f"CONTRACTSYNC_PSA_ALLOWED_HOSTS={sandbox.host_port}")
        # Its webhook events are signed by a certificate from its own test CA: trust it explicitly.
        table.add_row(
            "Trust its webhooks",
            f"CONTRACTSYNC_PARTNER_CENTER_WEBHOOK_CERTIFICATES={sandbox.webhook_certificate_url} "
            f"CONTRACTSYNC_PARTNER_CENTER_WEBHOOK_TRUST_FILE={sandbox.webhook_ca_file} "
            f"CONTRACTSYNC_PARTNER_CENTER_WEBHOOK_ORGANIZATION='{sandbox.webhook_organization}'",
        )
        table.add_row("Page", f"{sandbox.base_url}/sandbox/")
        console.print(table)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            sandbox.stop()
