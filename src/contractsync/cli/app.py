"""The `contractsync` command line (typer + rich). Exit codes: 0 ok, 1 failure, 2 bad input.

One module per command group in this package, helpers shared in `common.py`; this module only
assembles them. Every command wires its process through `bootstrap.py` from `Settings`.
"""

from __future__ import annotations

import sys

import typer

from contractsync.cli import (
    db,
    deliveries,
    demo,
    importing,
    operations,
    partner_center,
    partner_center_sandbox,
    plan,
    reconcile,
    sandbox,
    serve,
    sweep,
    tokens,
    worker,
)
from contractsync.cli.common import FAILURE, ServiceFactory, fail
from contractsync.cli.worker import WorkerBuilder


def register_service_commands(app: typer.Typer, build_service: ServiceFactory | None = None) -> None:
    """The commands that work through the façade: `serve`, `sweep`, `reconcile`, `tokens`,
    `operations`, `deliveries`. `build_service`: how to get the façade (tests pass their own)."""
    for group in (serve, sweep, reconcile, tokens, operations, deliveries):
        group.register(app, build_service)


def build_app(
    build_service: ServiceFactory | None = None, build_worker: WorkerBuilder | None = None
) -> typer.Typer:
    """The whole command line; tests pass how to get the façade or the worker."""
    app = typer.Typer(
        no_args_is_help=True, add_completion=False, help="Keep Autotask billing in step with CSP."
    )

    @app.callback()
    def _root() -> None:
        """Keep Autotask recurring-contract billing in step with Microsoft CSP subscriptions."""

    plan.register(app)
    worker.register(app, build_worker)
    sandbox.register(app)
    register_service_commands(app, build_service)
    demo.register(app)
    partner_center_sandbox.register(app)
    db.register(app)
    importing.register(app)
    partner_center.register(app)
    return app


app = build_app()


def main() -> None:
    """Run the command line. A usage error (an unknown command or option, a bad value) is one line
    on stderr like every other failure, with click's exit code (2)."""
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as error:  # click's ClickException, vendored by typer
        if type(error).__name__ == "NoArgsIsHelpError":  # typer printed the help; as typer does
            code = error.exit_code
        else:
            code = fail(error.format_message(), error.exit_code).exit_code
    except typer.Abort:
        code = fail("aborted", FAILURE).exit_code
    sys.exit(code if isinstance(code, int) else 0)
