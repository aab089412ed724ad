"""Money stays exact, instants stay UTC, secrets are encrypted and redacted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.db.session import UnitOfWork, transaction
from contractsync.adapters.db.tables import alerts, resellers, subscription_history
from contractsync.adapters.secrets import SecretBox, SecretError, load_or_create_key, redact


def test_decimal_and_instants_round_trip_exactly(session_factory: sessionmaker[Session]) -> None:
    created = datetime(2025, 3, 3, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    with transaction(session_factory) as session:
        session.execute(insert(alerts).values(kind="k", message="m", created_at=created, dedupe_key="k1"))
    with transaction(session_factory) as session:
        stored = session.execute(select(alerts.c.created_at)).scalar_one()
    assert stored == created and stored.tzinfo == UTC


def test_money_survives_the_database_digit_for_digit(session_factory: sessionmaker[Session]) -> None:
    from contractsync.adapters.db.tables import ledger

    price = Decimal("12345678901234567.123456789")
    now = datetime(2025, 1, 1, tzinfo=UTC)
    with transaction(session_factory) as session:
        from tests.fakes.outbox_data import seed_connection

        seed_connection(session, now)
        session.execute(
            insert(ledger).values(
                connection_id="at1",
                contract_service_id=1,
                effective_date=now.date(),
                unit_change=1,
                unit_price=price,
                unit_cost=Decimal("0.0001"),
            )
        )
    with transaction(session_factory) as session:
        stored = session.execute(select(ledger.c.unit_price, ledger.c.unit_cost)).one()
    assert (stored[0], str(stored[1])) == (price, "0.0001")
    assert str(stored[0]) == "12345678901234567.123456789"
    assert subscription_history.name == "subscription_history"


def test_money_columns_refuse_floats(session_factory: sessionmaker[Session]) -> None:
    from contractsync.adapters.db.types import DecimalText

    assert DecimalText().process_bind_param(Decimal("0.1000"), None) == "0.1000"  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        DecimalText().process_bind_param(0.1, None)  # type: ignore[arg-type]


def test_unit_of_work_rolls_back_on_error_and_never_commits_a_preview(
    session_factory: sessionmaker[Session],
) -> None:
    with pytest.raises(RuntimeError), UnitOfWork(session_factory) as uow:
        uow.session.execute(insert(resellers).values(id="r1", name="R", promotion_setting="keep"))
        raise RuntimeError
    with UnitOfWork(session_factory, commit=False) as uow:
        uow.session.execute(insert(resellers).values(id="r2", name="R", promotion_setting="keep"))
    with UnitOfWork(session_factory) as uow:
        uow.session.execute(insert(resellers).values(id="r3", name="R", promotion_setting="keep"))
        uow.lock_subscription("nope")
    with transaction(session_factory) as session:
        assert session.execute(select(resellers.c.id)).scalars().all() == ["r3"]


def test_secret_key_is_generated_once_and_reused(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path, environ={})
    assert load_or_create_key(tmp_path, environ={}) == key
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
    box = SecretBox(key)
    token = box.encrypt("s3cret")
    assert "s3cret" not in token and box.decrypt(token) == "s3cret"
    other = SecretBox(load_or_create_key(tmp_path, environ={"CONTRACTSYNC_SECRET_KEY": SecretBox.new_key()}))
    with pytest.raises(SecretError):
        other.decrypt(token)


def test_redact_hides_secret_fields_at_any_depth() -> None:
    payload = {"UserName": "u", "Secret": "x", "headers": [{"ApiIntegrationCode": "c", "password": "p"}]}
    assert redact(payload) == {
        "UserName": "u",
        "Secret": "***",
        "headers": [{"ApiIntegrationCode": "c", "password": "***"}],
    }
