"""Partner Center sources on the in-memory unit of work: credentials stored encrypted, never answered."""

from __future__ import annotations

from typing import Any

import pytest

from contractsync.service import partner_center_sources as sources
from contractsync.service.actor import ADMIN
from contractsync.service.create_partner_center_source import create_source
from contractsync.service.errors import Conflict, Invalid, NotFound
from contractsync.service.partner_center_source_queries import get_source, list_sources
from contractsync.service.update_partner_center_source import update_source
from tests.unit.service.conftest import NOW, R1, R2, Service

SOURCE: dict[str, Any] = {
    "id": "pc1",
    "reseller_id": "r1",
    "tenant_id": "tenant-1",
    "application_id": "app-1",
    "secret": "app-secret",
    "refresh_token": "refresh-1",
    "price_list": {"cfq7ttc0lf8s:0001": "10.5"},
}


def test_a_source_is_answered_with_its_idle_poll_and_never_its_credentials(directory: Service) -> None:
    ctx = directory.facade.context
    answer = create_source(ctx, R1, SOURCE)
    assert answer["price_list"] == {"CFQ7TTC0LF8S:0001": "10.5000"} and answer["poll_minutes"] == 15
    assert answer["poll"]["status"] == "idle" and answer["poll"]["next_poll_at"] == "2026-11-25T14:00:00Z"
    assert "app-secret" not in str(answer) and "refresh-1" not in str(answer)
    stored = directory.data.sources["pc1"]
    assert ctx.secrets.decrypt(stored.refresh_token_encrypted) == "refresh-1"
    with pytest.raises(Conflict):
        create_source(ctx, ADMIN, SOURCE)
    with pytest.raises(NotFound):
        create_source(ctx, R2, {**SOURCE, "id": "pc2"})
    assert [s["id"] for s in list_sources(ctx, R1)] == ["pc1"] and list_sources(ctx, R2) == []


def test_an_update_changes_only_what_it_names(directory: Service) -> None:
    ctx = directory.facade.context
    create_source(ctx, R1, SOURCE)
    answer = update_source(ctx, R1, "pc1", {"poll_minutes": 60})
    assert answer["poll_minutes"] == 60 and answer["price_list"] == {"CFQ7TTC0LF8S:0001": "10.5000"}
    sources.store_refresh_token(ctx, "pc1", "refresh-2")
    assert ctx.secrets.decrypt(directory.data.sources["pc1"].refresh_token_encrypted) == "refresh-2"
    with pytest.raises(Invalid, match="poll_minutes"):
        update_source(ctx, R1, "pc1", {"poll_minutes": 0})
    with pytest.raises(NotFound):
        get_source(ctx, R2, "pc1")
    assert directory.data.polls["pc1"].next_poll_at == NOW
