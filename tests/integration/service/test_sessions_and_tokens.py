"""Tokens (list, revoke, expiry, last use, minimum length, the environment's admin token) and
server-side console sessions, on the real façade (SQLite and PostgreSQL) with a manual clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from contractsync.adapters.clock import ManualClock
from contractsync.bootstrap import build_app_service
from contractsync.service.actor import ADMIN, Actor
from contractsync.service.console_session_policy import SessionPolicy
from contractsync.service.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from contractsync.service.facade import ContractSync
from contractsync.service.tokens import HINT_LENGTH
from contractsync.settings import Settings
from tests.integration.service.conftest import World

ENV_TOKEN = "first-admin-token-from-the-environment"
POLICY = SessionPolicy(idle_seconds=600, max_seconds=3600)


def _service(
    database_url: str, tmp_path: Path, clock: ManualClock, admin_token: str | None = None
) -> ContractSync:
    settings = Settings(database_url=database_url, data_dir=tmp_path, admin_token=admin_token)
    return build_app_service(settings, clock=clock, connector_factory=lambda row: None, upgrade=False)


def _by_id(service: ContractSync, token_id: int) -> dict[str, object]:
    return next(t for t in service.list_tokens(ADMIN) if t["id"] == token_id)


def _id_of(service: ContractSync, hint: str) -> int:
    ids = [t["id"] for t in service.list_tokens(ADMIN) if t["hint"] == f"{hint[:HINT_LENGTH]}…"]
    assert len(ids) == 1
    return int(str(ids[0]))


def test_tokens_shorter_than_24_characters_are_refused(world: World) -> None:
    with pytest.raises(Invalid, match="at least 24"):
        world.service.create_token_value(None, "x" * 23)
    with pytest.raises(Invalid, match="at least 24"):
        world.service.register_admin_token("short-admin-token")
    with pytest.raises(Unauthorized):
        world.service.authenticate("x" * 23)
    world.service.create_token_value(None, "y" * 24)
    assert world.service.authenticate("y" * 24) == ADMIN


def test_tokens_are_listed_without_their_value_and_revoked_at_once(world: World) -> None:
    token = world.service.create_token("r1")
    assert world.service.authenticate(token) == Actor("r1")  # cached from here on
    listed = _by_id(world.service, _id_of(world.service, token))
    assert listed["kind"] == "reseller" and listed["reseller_id"] == "r1" and listed["source"] == "cli"
    assert token not in str(world.service.list_tokens(ADMIN))
    with pytest.raises(Forbidden):
        world.service.list_tokens(Actor("r1"))
    with pytest.raises(Forbidden):
        world.service.revoke_token(Actor("r1"), _id_of(world.service, token))
    world.service.revoke_token(ADMIN, _id_of(world.service, token))
    with pytest.raises(Unauthorized):
        world.service.authenticate(token)  # the cache was cleared: no waiting in this process
    with pytest.raises(NotFound):
        world.service.revoke_token(ADMIN, 2**31 - 1)


def test_another_process_revoking_takes_effect_when_the_short_cache_runs_out(
    world: World, database_url: str, tmp_path: Path
) -> None:
    token = world.service.create_token("r1")
    other = _service(database_url, tmp_path, world.clock)  # another API process on the same database
    assert world.service.authenticate(token) == Actor("r1")
    other.revoke_token(ADMIN, _id_of(other, token))
    world.clock.advance(6)  # longer than the cache's few seconds
    with pytest.raises(Unauthorized):
        world.service.authenticate(token)


def test_an_expired_token_is_refused(world: World) -> None:
    token = world.service.create_token("r1", expires_at=world.clock.now() + timedelta(hours=1))
    assert world.service.authenticate(token) == Actor("r1")
    world.clock.advance(3600)
    with pytest.raises(Unauthorized, match="expired"):
        world.service.authenticate(token)
    with pytest.raises(Invalid, match="future"):
        world.service.create_token("r1", expires_at=world.clock.now() - timedelta(seconds=1))


def test_last_use_is_recorded_at_most_once_a_minute(world: World) -> None:
    token = world.service.create_token(None)
    token_id = _id_of(world.service, token)
    assert _by_id(world.service, token_id)["last_used_at"] is None
    world.service.authenticate(token)
    first = _by_id(world.service, token_id)["last_used_at"]
    assert first == "2024-05-20T09:00:00Z"
    world.clock.advance(30)
    world.service.authenticate(token)
    assert _by_id(world.service, token_id)["last_used_at"] == first
    world.clock.advance(31)
    world.service.authenticate(token)
    assert _by_id(world.service, token_id)["last_used_at"] == "2024-05-20T09:01:01Z"


def test_a_new_admin_token_in_the_environment_retires_the_previous_one(
    database_url: str, tmp_path: Path
) -> None:
    clock = ManualClock(datetime(2024, 5, 20, 9, tzinfo=UTC))
    first = _service(database_url, tmp_path, clock, ENV_TOKEN)
    kept = first.create_token(None)  # made with the CLI: not the environment's to retire
    session, _ = first.start_console_session(ENV_TOKEN, POLICY)
    assert first.authenticate(ENV_TOKEN) == ADMIN

    second = _service(database_url, tmp_path, clock, "second-admin-token-from-the-environment")
    assert second.authenticate("second-admin-token-from-the-environment") == ADMIN
    with pytest.raises(Unauthorized):
        second.authenticate(ENV_TOKEN)
    assert second.console_actor(session) is None  # its console sessions ended with it
    assert second.authenticate(kept) == ADMIN
    sources = sorted(str(t["source"]) for t in second.list_tokens(ADMIN))
    assert sources == ["cli", "environment"]
    # Starting again with the same value changes nothing.
    third = _service(database_url, tmp_path, clock, "second-admin-token-from-the-environment")
    assert len(third.list_tokens(ADMIN)) == 2


def test_console_sessions_end_on_sign_out_idle_timeout_lifetime_and_revocation(world: World) -> None:
    token = world.service.create_token("r1")
    service, clock = world.service, world.clock
    with pytest.raises(Unauthorized):
        service.start_console_session("not-a-token-not-a-token-not-a-token", POLICY)

    signed_out, actor = service.start_console_session(token, POLICY)
    assert actor == Actor("r1") and service.console_actor(signed_out) == Actor("r1")
    service.end_console_session(signed_out)
    assert service.console_actor(signed_out) is None

    idle, _ = service.start_console_session(token, POLICY)
    clock.advance(599)
    assert service.console_actor(idle) == Actor("r1")  # a request: the idle clock restarts
    clock.advance(599)
    assert service.console_actor(idle) == Actor("r1")
    clock.advance(601)
    assert service.console_actor(idle) is None

    busy, _ = service.start_console_session(token, POLICY)
    for _ in range(6):
        clock.advance(590)
        assert service.console_actor(busy) == Actor("r1")
    clock.advance(590)  # 3,540 + 590 s > one hour since sign-in, however busy
    assert service.console_actor(busy) is None

    revoked, _ = service.start_console_session(token, POLICY)
    service.revoke_token(ADMIN, _id_of(service, token))
    assert service.console_actor(revoked) is None
    assert service.console_actor("a-secret-nobody-was-given") is None


def test_an_environment_token_from_before_sources_is_recognised_and_then_rotated(
    database_url: str, tmp_path: Path
) -> None:
    from sqlalchemy import update

    from contractsync.adapters.db.tables import api_tokens

    clock = ManualClock(datetime(2024, 5, 20, 9, tzinfo=UTC))
    first = _service(database_url, tmp_path, clock, ENV_TOKEN)
    with first.context.sessions.begin() as session:  # as migration 0008 leaves an older row
        session.execute(update(api_tokens).values(source=None, hint=None))
    assert [t["source"] for t in first.list_tokens(ADMIN)] == ["unknown"]
    again = _service(database_url, tmp_path, clock, ENV_TOKEN)
    assert [t["source"] for t in again.list_tokens(ADMIN)] == ["environment"]
    rotated = _service(database_url, tmp_path, clock, "second-admin-token-from-the-environment")
    with pytest.raises(Unauthorized):
        rotated.authenticate(ENV_TOKEN)


def test_a_named_token_names_its_console_user_and_an_unnamed_one_keeps_its_number(world: World) -> None:
    service = world.service
    named = service.create_token("r1", name="Alice (billing)")
    unnamed = service.create_token("r1")
    assert service.authenticate(named).name == "Alice (billing)"
    session, _ = service.start_console_session(named, POLICY)
    assert service.console_actor(session) is not None
    assert service.console_actor(session).name == "console (Alice (billing))"  # type: ignore[union-attr]
    other, _ = service.start_console_session(unnamed, POLICY)
    unnamed_id = _id_of(service, unnamed)
    assert service.console_actor(other).name == f"console (token #{unnamed_id})"  # type: ignore[union-attr]
    assert service.authenticate(unnamed).name == f"token #{unnamed_id} ({unnamed[:HINT_LENGTH]}…)"
    # Names are unique, checked and trimmed; a refused one stores nothing.
    before = service.list_tokens(ADMIN)
    with pytest.raises(Conflict):
        service.create_token(None, name="  Alice (billing) ")
    for bad in ("", "   ", "x" * 61, "two\nlines"):
        with pytest.raises(Invalid):
            service.create_token("r1", name=bad)
    assert service.list_tokens(ADMIN) == before
    assert [t["name"] for t in before if t["id"] == _id_of(service, named)] == ["Alice (billing)"]
