"""The connector cache builds a new connector when a connection's stored credentials change."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from contractsync.adapters.autotask.factory import ConnectorCache
from contractsync.adapters.secrets import SecretBox


def _row(secret: str) -> Any:
    return SimpleNamespace(
        id="at1", username="api@example.com", secret_encrypted=secret, integration_code="CODE", base_url=None
    )


def test_changed_credentials_get_a_new_connector() -> None:
    built: list[str] = []

    def build(row: Any, secrets: SecretBox) -> Any:
        built.append(row.secret_encrypted)
        return object()

    cache = ConnectorCache(SecretBox(SecretBox.new_key().encode()), build)
    first = cache(_row("old"))
    assert cache(_row("old")) is first
    fixed = cache(_row("new"))
    assert fixed is not first and cache(_row("new")) is fixed
    assert built == ["old", "new"]
