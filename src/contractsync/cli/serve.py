"""`contractsync serve`: the REST API and the web console on one port.

`--workers N` (N > 1, PostgreSQL only) serves the port from N processes, each on a socket of its
own (`cli/serve_processes.py`: SO_REUSEPORT; another process replaces one that dies; SIGTERM or
Ctrl-C stops them all gracefully). This process migrates the database, registers the admin token
and creates the console's session key first, then starts the N, which each build their app with
`app_in_worker`. This process also brings the alerts up to date once a minute and sends new ones
to the alert webhook (`AlertsInBackground`), as every worker does. Their metrics are counted in
files of one directory (a new one per start,
removed at exit), so any process's `/metrics` — or this one's on CONTRACTSYNC_METRICS_BIND —
shows the whole server. Each process has its own group commit and its
own token cache: a revoked token stops working at once in the process that revoked it and within
5 s in the others.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import typer

from contractsync.cli.common import FAILURE, ServiceFactory, err, fail, service_getter, settings


def register(app: typer.Typer, build_service: ServiceFactory | None = None) -> None:
    service = service_getter(build_service)

    @app.command("serve")
    def serve(
        host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
        port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port for the API and console."),
        workers: int = typer.Option(
            1,
            "--workers",
            min=1,
            max=64,
            envvar="CONTRACTSYNC_SERVE_WORKERS",
            help="Processes serving the port (above 1: PostgreSQL only).",
        ),
    ) -> None:
        """The REST API (and the web console when installed)."""
        import uvicorn

        from contractsync.adapters.logging import configure_logging
        from contractsync.bootstrap import (
            AlertsInBackground,
            admin_token,
            build_web_app,
            start_metrics_server,
            tune_garbage_collector,
        )

        configure_logging(json=True)
        configured = settings()
        if workers > 1 and not _is_postgres(configured.database_url):
            raise fail(
                "--workers above 1 needs PostgreSQL (CONTRACTSYNC_DATABASE_URL=postgresql+psycopg://…): "
                "SQLite takes one writer at a time and keeps Autotask's thread limit per process"
            )
        app_service = service(create=True)
        token, generated = admin_token(app_service, configured)
        if generated:  # API.md: generated and printed on first start
            err.print(f"admin token (shown once; kept in {configured.data_dir}): {token}", soft_wrap=True)
        processes = f" ({workers} processes)" if workers > 1 else ""
        err.print(
            f"contractsync API on http://{host}:{port}/v1{processes} (docs: http://{host}:{port}/docs)",
            soft_wrap=True,
        )
        # The alerts are kept current (and sent) from here too: when no worker runs, nobody else would.
        alerts = AlertsInBackground(app_service, configured).start()
        try:
            # log_config=None keeps our JSON logging; access_log=False because our middleware logs
            # requests without their headers (uvicorn's would not include them either, but says less).
            if workers == 1:
                web_app = build_web_app(app_service, configured)
                metrics_server = start_metrics_server(web_app.state.metrics, configured)
                tune_garbage_collector()
                try:
                    uvicorn.run(web_app, host=host, port=port, log_config=None, access_log=False)
                finally:
                    if metrics_server is not None:
                        metrics_server.stop()
                return
            _serve_processes(app_service, configured, host, port, workers)
        finally:
            alerts.stop()


def _serve_processes(app_service: Any, configured: Any, host: str, port: int, workers: int) -> None:
    from contractsync.bootstrap import server_metrics, start_metrics_server
    from contractsync.cli.serve_processes import Supervisor
    from contractsync.settings import count_metrics_in
    from contractsync.web.keys import load_or_create_session_key

    load_or_create_session_key(configured.data_dir)  # one key for all, before they start
    directory = Path(tempfile.mkdtemp(prefix="contractsync-metrics-"))
    count_metrics_in(directory)  # the processes started below inherit it
    configured = configured.model_copy(update={"metrics_process_dir": directory})
    supervisor = Supervisor(host, port, workers, app_in_worker)
    try:
        metrics_server = start_metrics_server(server_metrics(app_service, configured), configured)
        try:
            supervisor.run()
        except OSError as error:  # the port is taken
            raise fail(f"cannot listen on {host}:{port}: {error.strerror or error}", FAILURE) from None
        finally:
            if metrics_server is not None:
                metrics_server.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    if supervisor.failure is not None:
        raise fail(supervisor.failure, FAILURE)


def app_in_worker() -> Any:
    """The app one process of `serve --workers N` serves (its parent migrated the database,
    registered the admin token and made the session key)."""
    from contractsync.adapters.logging import configure_logging
    from contractsync.bootstrap import build_app_service, build_web_app, tune_garbage_collector
    from contractsync.settings import Settings

    configure_logging(json=True)
    configured = Settings()
    app = build_web_app(build_app_service(configured, upgrade=False, register_admin=False), configured)
    tune_garbage_collector()
    return app


def _is_postgres(database_url: str) -> bool:
    from sqlalchemy.engine import make_url

    return make_url(database_url).get_backend_name() == "postgresql"
