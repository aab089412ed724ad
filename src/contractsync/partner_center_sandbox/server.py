"""Running the Partner Center sandbox in-process over HTTPS (MSAL accepts only https authorities):
uvicorn on 127.0.0.1 in a background thread, with a self-signed certificate written to `folder`.

with PartnerCenterSandbox(folder) as pc:
    pc.authority, pc.api_root, pc.ca_file, pc.webhook_ca_file
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

import uvicorn

from contractsync.partner_center_sandbox.app import INTERMEDIATE_PATH, create_app
from contractsync.partner_center_sandbox.keys import ORGANIZATION, SandboxAuthority, make_key_pair
from contractsync.partner_center_sandbox.state import SandboxConfig, SandboxState
from contractsync.partner_center_sandbox.webhooks import WebhookSender


class PartnerCenterSandbox:
    def __init__(
        self,
        folder: Path | None = None,
        config: SandboxConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.config = config or SandboxConfig()
        self._temp = tempfile.TemporaryDirectory(prefix="pc-sandbox-") if folder is None else None
        self.folder = folder or Path(self._temp.name)  # type: ignore[union-attr]
        self.app = create_app(self.config)
        self.state: SandboxState = self.app.state.pc
        self.webhooks: WebhookSender = self.app.state.webhooks
        #: the test CA whose intermediate issues the webhook signing certificate
        self.signing_authority: SandboxAuthority = self.app.state.authority
        #: the organisation in the signing certificate (CONTRACTSYNC_PARTNER_CENTER_WEBHOOK_ORGANIZATION)
        self.webhook_organization = ORGANIZATION
        self.host = host
        self._requested_port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.ca_file = self.folder / "pc-sandbox-tls.pem"
        #: the test root webhook signing certificates chain to (CONTRACTSYNC_PARTNER_CENTER_WEBHOOK_TRUST_FILE)
        self.webhook_ca_file = self.folder / "pc-sandbox-webhook-ca.pem"

    @property
    def base_url(self) -> str:
        return f"https://{self.host}:{self.port}"

    @property
    def authority(self) -> str:
        """The sign-in authority for MSAL (Entra's is https://login.microsoftonline.com/{tenant})."""
        return f"{self.base_url}/{self.config.partner_tenant}"

    @property
    def api_root(self) -> str:
        return self.base_url

    @property
    def webhook_certificate_url(self) -> str:
        """Where the signing certificate is published (CONTRACTSYNC_PARTNER_CENTER_WEBHOOK_CERTIFICATES)."""
        return f"{self.base_url}/sandbox/webhook-certificate.cer"

    @property
    def intermediate_url(self) -> str:
        return f"{self.base_url}{INTERMEDIATE_PATH}"

    @property
    def host_port(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> PartnerCenterSandbox:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))
        self.port = sock.getsockname()[1]
        self.app.state.public_url = self.base_url
        self.webhooks.certificate_url = self.webhook_certificate_url
        self.webhooks.api_root = self.base_url
        self.webhooks.signer = self.signing_authority.issue(self.intermediate_url)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.webhook_ca_file.write_bytes(self.signing_authority.root.certificate_pem)
        tls = make_key_pair(self.host, (self.host, "localhost"))
        cert, key = tls.write(self.folder, "pc-sandbox-tls")
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            ssl_certfile=str(cert),
            ssl_keyfile=str(key),
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="pc-sandbox", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the Partner Center sandbox did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None
        if self._temp is not None:
            self._temp.cleanup()
            self._temp = None

    def __enter__(self) -> PartnerCenterSandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
