"""Encryption of stored PSA credentials (Fernet) and redaction of secrets from payloads.

The key comes from CONTRACTSYNC_SECRET_KEY; when unset, one is generated once into
`<data dir>/secret.key` (mode 0600) so a restart can still decrypt what it stored.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

SECRET_KEY_ENV = "CONTRACTSYNC_SECRET_KEY"
KEY_FILE_NAME = "secret.key"
REDACTED = "***"
_SECRET_FIELDS = frozenset({"secret", "password", "apisecret", "authorization", "token"})


class SecretError(Exception):
    """The stored secret cannot be decrypted with the configured key."""


def load_or_create_key(data_dir: Path, environ: Mapping[str, str]) -> bytes:
    """`environ`: the configured CONTRACTSYNC_SECRET_KEY, if any (Settings reads the environment)."""
    configured = environ.get(SECRET_KEY_ENV)
    if configured:
        return configured.encode()
    key_file = data_dir / KEY_FILE_NAME
    if key_file.exists():
        return key_file.read_bytes().strip()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = Fernet.generate_key()
    # O_EXCL: if two processes start at once, the loser reads the winner's key.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @staticmethod
    def new_key() -> str:
        return Fernet.generate_key().decode()

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise SecretError("stored secret cannot be decrypted: wrong CONTRACTSYNC_SECRET_KEY?") from exc


def redact(payload: Any) -> Any:
    """A copy of a JSON-like payload with secret-looking fields replaced by '***'."""
    if isinstance(payload, Mapping):
        return {
            key: REDACTED if str(key).replace("_", "").lower() in _SECRET_FIELDS else redact(value)
            for key, value in payload.items()
        }
    if isinstance(payload, list):
        return [redact(item) for item in payload]
    return payload
