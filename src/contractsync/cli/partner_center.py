"""`contractsync partner-center add-source | poll | register-webhook | sources` (issue 14).

Exit codes: 0 done, 1 the poll stopped (it resumes where it stopped) or Partner Center refused,
2 bad input (a one-line reason).
"""

from __future__ import annotations

import json
from typing import Any

import typer

from contractsync.cli.common import BAD_INPUT, FAILURE, fail, open_service
from contractsync.settings import environment_value


def register(app: typer.Typer) -> None:
    group = typer.Typer(no_args_is_help=True, help="Partner Center live source: sources, polls, webhooks.")
    group.command("add-source")(add_source)
    group.command("poll")(poll)
    group.command("register-webhook")(register_webhook)
    group.command("sources")(list_sources)
    app.add_typer(group, name="partner-center")


def _center() -> Any:
    return open_service()


def _run(call: Any) -> Any:
    from contractsync.service.errors import ServiceError

    try:
        return call()
    except ServiceError as error:
        raise fail(error.message, FAILURE if error.http_status >= 500 else BAD_INPUT) from None


def add_source(
    source_id: str = typer.Option(..., "--id", help="An id for this source, e.g. 'pc-contoso'."),
    reseller: str = typer.Option(..., "--reseller", help="The reseller whose partner tenant it is."),
    tenant: str = typer.Option(..., "--tenant", help="The partner tenant id (a GUID)."),
    application: str = typer.Option(..., "--application-id", help="The Entra app registration's id."),
    secret_env: str = typer.Option(
        "CONTRACTSYNC_PC_SECRET", "--secret-env", help="Environment variable that holds the app secret."
    ),
    refresh_env: str = typer.Option(
        "CONTRACTSYNC_PC_REFRESH_TOKEN",
        "--refresh-token-env",
        help="Environment variable with the refresh token.",
    ),
    authority: str | None = typer.Option(
        None, help="Sign-in host (default https://login.microsoftonline.com)."
    ),
    api_root: str | None = typer.Option(
        None, help="API root (default https://api.partnercenter.microsoft.com)."
    ),
    minutes: int = typer.Option(15, "--poll-minutes", help="Poll every N minutes."),
) -> None:
    """Store a Partner Center source; the secret and refresh token are read from the environment
    (never from the command line, where the shell history would keep them)."""
    from contractsync.service.actor import ADMIN

    secret, refresh = environment_value(secret_env), environment_value(refresh_env)
    if not secret or not refresh:
        raise fail(f"set {secret_env} and {refresh_env} to the app secret and the refresh token")
    body: dict[str, Any] = {
        "id": source_id, "reseller_id": reseller, "tenant_id": tenant, "application_id": application,
        "secret": secret, "refresh_token": refresh, "poll_minutes": minutes,
    }  # fmt: skip
    if authority:
        body["authority_host"] = authority
    if api_root:
        body["api_root"] = api_root
    center = _center()
    typer.echo(json.dumps(_run(lambda: center.create_partner_center_source(ADMIN, body)), indent=2))


def poll(
    source: str | None = typer.Option(None, "--source", help="One source (default: every source)."),
) -> None:
    """Poll now: every customer and subscription of the source(s); resumes a poll that stopped."""
    from contractsync.service.actor import ADMIN

    center = _center()
    ids = [source] if source else [s["id"] for s in center.partner_center_sources(ADMIN)]
    failed = False
    for source_id in ids:
        try:
            answer = _run(lambda s=source_id: center.poll_partner_center(ADMIN, s))
        except typer.Exit as stop:
            if stop.exit_code == BAD_INPUT:
                raise
            failed = True
            continue
        progress = answer["poll"]["progress"]
        line = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in progress.items())
        typer.echo(f"{source_id}: {line}; next poll {answer['poll']['next_poll_at']}")
        for item in answer["poll"]["manual_actions"][:20]:
            typer.echo(
                f"  manual action: {item['kind']} {item['subscription_id'] or item['tenant_id']}: {item['reason']}"
            )
    if failed:
        raise typer.Exit(1)


def register_webhook(
    source: str = typer.Option(..., "--source", help="The source whose partner tenant registers."),
    url: str = typer.Option(..., "--url", help="Public URL of POST /v1/partner-center/events?source_id=…"),
) -> None:
    """Register the webhook URL for subscription-updated events through Partner Center's API."""
    from contractsync.service.actor import ADMIN

    if not url.startswith(("https://", "http://")):
        raise fail("--url must be an absolute http(s) URL")
    center = _center()
    typer.echo(json.dumps(_run(lambda: center.register_partner_center_webhook(ADMIN, source, url)), indent=2))


def list_sources() -> None:
    """Every source with its poll state (never a secret)."""
    from contractsync.service.actor import ADMIN

    center = _center()
    typer.echo(json.dumps(center.partner_center_sources(ADMIN), indent=2))
