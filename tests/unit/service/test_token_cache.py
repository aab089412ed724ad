"""The token cache under load: one request reads a token again before its entry runs out, the
others keep the cache (and the API's fast path); a revocation elsewhere still ends it within the
cache's life."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contractsync.adapters.clock import ManualClock
from contractsync.adapters.memory.unit_of_work import FakeUnitsOfWork
from contractsync.service.actor import ADMIN
from contractsync.service.errors import Unauthorized
from contractsync.service.facade import ContractSync
from contractsync.service.token_authority import CACHE_SECONDS, REFRESH_AFTER
from contractsync.service.tokens import HINT_LENGTH
from tests.memory_service import ADMIN_TOKEN, memory_service


def _services() -> tuple[ManualClock, ContractSync, ContractSync]:
    clock = ManualClock(datetime(2024, 5, 20, 9, tzinfo=UTC))
    units = FakeUnitsOfWork()
    return clock, memory_service(clock=clock, units=units), memory_service(clock=clock, units=units)


def test_one_caller_reads_the_token_again_before_its_entry_runs_out() -> None:
    clock, service, _ = _services()
    assert service.authenticate(ADMIN_TOKEN) == ADMIN  # read and cached
    clock.advance(CACHE_SECONDS * REFRESH_AFTER - 0.1)
    assert service.cached_actor(ADMIN_TOKEN) == ADMIN
    clock.advance(0.1)
    assert service.cached_actor(ADMIN_TOKEN) is None  # this caller is asked to authenticate …
    assert [service.cached_actor(ADMIN_TOKEN) for _ in range(5)] == [ADMIN] * 5  # … not the others
    assert service.authenticate(ADMIN_TOKEN) == ADMIN  # reads it again: a new entry
    clock.advance(CACHE_SECONDS * REFRESH_AFTER - 0.1)  # past the old entry's end
    assert service.cached_actor(ADMIN_TOKEN) == ADMIN


def test_an_entry_nobody_read_again_still_ends_with_its_life() -> None:
    clock, service, _ = _services()
    service.authenticate(ADMIN_TOKEN)
    clock.advance(CACHE_SECONDS * REFRESH_AFTER)
    assert service.cached_actor(ADMIN_TOKEN) is None  # asked to read it; the caller never did
    clock.advance(CACHE_SECONDS * (1 - REFRESH_AFTER))
    assert service.cached_actor(ADMIN_TOKEN) is None  # ended: everybody authenticates


def test_a_revocation_elsewhere_ends_the_token_within_the_caches_life() -> None:
    clock, service, other = _services()
    token = service.create_token(None)
    assert service.authenticate(token) == ADMIN
    (token_id,) = [t["id"] for t in other.list_tokens(ADMIN) if t["hint"] == f"{token[:HINT_LENGTH]}…"]
    other.revoke_token(ADMIN, int(str(token_id)))  # another process: this one's cache is not told
    clock.advance(CACHE_SECONDS * REFRESH_AFTER)
    assert service.cached_actor(token) is None
    with pytest.raises(Unauthorized):
        service.authenticate(token)  # the refresh finds it revoked …
    assert service.cached_actor(token) is None  # … and nobody is answered from the cache again
