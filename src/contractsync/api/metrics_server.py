"""CONTRACTSYNC_METRICS_BIND=host:port: /metrics on an address of its own, without a token (the
operator keeps that address private, e.g. on loopback or a scrape network), and nothing else
there. The API's port then has no /metrics."""

from __future__ import annotations

import threading

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contractsync.adapters.metrics import Metrics
from contractsync.settings import parse_bind

__all__ = ["MetricsServer", "metrics_app", "parse_bind"]


def metrics_app(metrics: Metrics) -> Starlette:
    def render(_: Request) -> Response:
        return Response(metrics.render(), media_type=metrics.content_type)

    return Starlette(routes=[Route("/metrics", render, methods=["GET"])])


class MetricsServer:
    """Serves `metrics_app` with uvicorn in a daemon thread until `stop()`."""

    def __init__(self, metrics: Metrics, bind: str) -> None:
        host, port = parse_bind(bind)
        config = uvicorn.Config(metrics_app(metrics), host=host, port=port, log_config=None, access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="contractsync-metrics", daemon=True)

    def start(self) -> MetricsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
