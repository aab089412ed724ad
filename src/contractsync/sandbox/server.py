"""Running the sandbox in-process: uvicorn on 127.0.0.1 in a background thread.

with SandboxServer() as sandbox:
    httpx.get(f"{sandbox.api_url}/zoneInformation", params={"user": sandbox.username})
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from contractsync.sandbox.app import create_app
from contractsync.sandbox.state import SandboxConfig, SandboxState

API_PATH = "/atservicesrest/v1.0"


class SandboxServer:
    def __init__(self, config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config or SandboxConfig()
        self.app = create_app(self.config)
        self.state: SandboxState = self.app.state.sandbox
        self._host = host
        self._requested_port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def allowed_host(self) -> str:
        """ "host:port", as CONTRACTSYNC_PSA_ALLOWED_HOSTS lists a host Autotask requests may go to."""
        return f"{self._host}:{self.port}"

    @property
    def api_url(self) -> str:
        return self.base_url + API_PATH

    @property
    def username(self) -> str:
        return self.config.username

    @property
    def secret(self) -> str:
        return self.config.secret

    @property
    def integration_code(self) -> str:
        return self.config.integration_code

    @property
    def headers(self) -> dict[str, str]:
        """The Autotask auth headers for this sandbox."""
        return {
            "ApiIntegrationCode": self.integration_code,
            "UserName": self.username,
            "Secret": self.secret,
        }

    def start(self, timeout: float = 15.0) -> SandboxServer:
        # Bind the socket here, so the port is known (and free) before uvicorn starts.
        # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say so, and
        # without it every keep-alive answer waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._requested_port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,  # request lines are noise in tests; headers (Secret) are never logged
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="contractsync-sandbox", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the Autotask sandbox did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        loop = self.state.loop
        if loop is not None and loop.is_running():
            # Let go of requests held by timeout faults, so shutdown does not wait for them.
            loop.call_soon_threadsafe(self.state.faults.release_holds)
        server.should_exit = True
        thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
