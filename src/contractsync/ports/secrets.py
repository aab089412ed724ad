"""Encryption of stored credentials (PSA secrets, Partner Center secrets and refresh tokens)."""

from __future__ import annotations

from typing import Protocol


class Secrets(Protocol):
    def encrypt(self, plaintext: str) -> str: ...

    def decrypt(self, token: str) -> str: ...


class OutboundPolicy(Protocol):
    """Where PSA requests may go (CONTRACTSYNC_PSA_ALLOWED_HOSTS adds hosts)."""

    @property
    def partner_center_ca_file(self) -> str | None:
        """CONTRACTSYNC_PARTNER_CENTER_CA_FILE (None: the system's certificate authorities only)."""
        ...

    @property
    def webhook_certificate_urls(self) -> tuple[str, ...]:
        """CONTRACTSYNC_PARTNER_CENTER_WEBHOOK_CERTIFICATES: signing certificate URLs besides Microsoft's."""
        ...

    def lists(self, host: str, port: int | None) -> bool:
        """The operator lists this host (CONTRACTSYNC_PSA_ALLOWED_HOSTS)."""
        ...

    def api_root(self, url: str, what: str = "base_url") -> str:
        """The URL's API root, or the `Invalid` error naming `what` when it may not be called."""
        ...
