"""The connector cache builds a new connector when a connection's credentials version changes."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from contractsync.adapters.autotask.factory import ConnectorCache
from contractsync.adapters.autotask.outbound import OutboundPolicy
from contractsync.adapters.secrets import SecretBox


def _row(secret: str, version: int) -> Any:
    return SimpleNamespace(
        id="at1",
        username="api@example.com",
        secret_encrypted=secret,
        integration_code="CODE",
        base_url=None,
        credentials_version=version,
    )


def test_a_new_credentials_version_gets_a_new_connector() -> None:
    built: list[str] = []

    def build(row: Any, secrets: SecretBox, outbound: OutboundPolicy) -> Any:
        built.append(row.secret_encrypted)
        return object()

    cache = ConnectorCache(SecretBox(SecretBox.new_key().encode()), build)
    first = cache(_row("old", 1))
    assert cache(_row("old", 1)) is first
    fixed = cache(_row("new", 2))
    assert fixed is not first and cache(_row("new", 2)) is fixed
    assert built == ["old", "new"]
