"""`contractsync serve`: the REST API and the web console on one port."""

from __future__ import annotations

import typer

from contractsync.cli.common import ServiceFactory, err, service_getter, settings


def register(app: typer.Typer, build_service: ServiceFactory | None = None) -> None:
    service = service_getter(build_service)

    @app.command("serve")
    def serve(
        host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
        port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port for the API and console."),
    ) -> None:
        """The REST API (and the web console when installed)."""
        import uvicorn

        from contractsync.adapters.logging import configure_logging
        from contractsync.bootstrap import (
            admin_token,
            build_web_app,
            freeze_startup_objects,
            start_metrics_server,
        )

        configure_logging(json=True)
        configured = settings()
        app_service = service(create=True)
        web_app = build_web_app(app_service, configured)
        token, generated = admin_token(app_service, configured)
        if generated:  # API.md: generated and printed on first start
            err.print(f"admin token (shown once; kept in {configured.data_dir}): {token}", soft_wrap=True)
        err.print(
            f"contractsync API on http://{host}:{port}/v1 (docs: http://{host}:{port}/docs)", soft_wrap=True
        )
        # log_config=None keeps our JSON logging; access_log=False because our middleware logs
        # requests without their headers (uvicorn's would not include them either, but says less).
        metrics_server = start_metrics_server(web_app, configured)
        freeze_startup_objects()
        try:
            uvicorn.run(web_app, host=host, port=port, log_config=None, access_log=False)
        finally:
            if metrics_server is not None:
                metrics_server.stop()
