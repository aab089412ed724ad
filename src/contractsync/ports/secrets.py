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

    @property
    def webhook_trust_file(self) -> str | None:
        """CONTRACTSYNC_PARTNER_CENTER_WEBHOOK_TRUST_FILE: roots the signing certificate chains to."""
        ...

    @property
    def webhook_organization(self) -> str:
        """CONTRACTSYNC_PARTNER_CENTER_WEBHOOK_ORGANIZATION: the signing certificate's organisation."""
        ...

    def lists(self, scheme: str, host: str, port: int | None) -> bool:
        """The operator lists this host and port (CONTRACTSYNC_PSA_ALLOWED_HOSTS; a host listed
        without a port: its scheme's default port only; `port` None: the scheme's default)."""
        ...

    def api_root(self, url: str, what: str = "base_url") -> str:
        """The URL's API root, or the `Invalid` error naming `what` when it may not be called."""
        ...
