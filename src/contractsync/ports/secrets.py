"""Encryption of stored credentials (PSA secrets, Partner Center secrets and refresh tokens)."""

from __future__ import annotations

from typing import Protocol


class Secrets(Protocol):
    def encrypt(self, plaintext: str) -> str: ...

    def decrypt(self, token: str) -> str: ...


class OutboundPolicy(Protocol):
    """Where PSA requests may go (CONTRACTSYNC_PSA_ALLOWED_HOSTS adds hosts)."""

    def api_root(self, url: str, what: str = "base_url") -> str:
        """The URL's API root, or the `Invalid` error naming `what` when it may not be called."""
        ...
