"""One input schema: every entry point builds an `OperationCommand` with the domain's one reader,
and the API's bodies are the same commands in the document's words."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import get_args

import pytest

from contractsync.api.operation_bodies import AnyOperation, command_of
from contractsync.domain.enums import Term
from contractsync.domain.operations import (
    OPERATION_TYPES,
    InvalidInput,
    OperationCommand,
    Renew,
    operation_fields,
)
from contractsync.service.errors import Invalid

TODAY = date(2026, 3, 10)


def test_the_api_bodies_hold_the_commands_fields() -> None:
    models = {model.model_fields["type"].annotation.__args__[0]: model for model in get_args(AnyOperation)}
    assert set(models) == set(OPERATION_TYPES)
    for kind, model in models.items():
        required, optional, _ = operation_fields(kind)
        own = {name for name in model.model_fields} - {"type", "effective_date", "preview", "idempotency_key"}
        assert own == required | optional, kind
        assert {n for n in own if model.model_fields[n].is_required()} == required, kind


def test_a_command_reads_typed_values_and_writes_the_body_back() -> None:
    body = {"type": "renew", "end_date": "2027-01-14", "list_price": "9.500000", "term": "P1M",
            "effective_date": "2026-03-01", "idempotency_key": "pc-7"}  # fmt: skip
    command = OperationCommand.from_json(body)
    assert command.as_json() == body
    assert command.operation("s1", TODAY) == Renew(
        "s1", date(2026, 3, 1), date(2027, 1, 14), list_price=Decimal("9.500000"), term=Term.P1M
    )
    # No date: today in the connection's time zone, known only when the operation applies.
    assert OperationCommand.build("cancel").operation("s1", TODAY).effective_date == TODAY


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"type": "teleport"}, "type must be one of"),
        ({"type": "cancel", "quantity": 1}, "quantity is not a field of a cancel operation"),
        ({"type": "update_quantity"}, "quantity is required for a update_quantity operation"),
        ({"type": "update_quantity", "quantity": 1_000_001}, "quantity must be between"),
        ({"type": "update_price_margin", "margin_percent": "1001"}, "margin_percent must be between"),
        ({"type": "update_price_margin", "margin_percent": "1.12345"}, "at most 4 decimal places"),
        ({"type": "renew", "end_date": "2027-01-14", "list_price": "1.1234567"}, "at most 6 decimal places"),
        ({"type": "update_friendly_name", "friendly_name": "a\x00b"}, "control characters"),
        ({"type": "cancel", "preview": "yes"}, "preview must be true or false"),
        ({"type": "cancel", "idempotency_key": "x" * 201}, "idempotency_key must be text of 1 to 200"),
    ],
)
def test_each_bound_has_one_message(body: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        OperationCommand.from_json(body)


def test_the_date_bound_is_checked_against_the_connections_today() -> None:
    command = OperationCommand.from_json({"type": "cancel", "effective_date": "2031-03-11"})
    with pytest.raises(InvalidInput, match="effective_date must be between 2000-01-01 and 2031-03-10"):
        command.operation("s1", TODAY)


def test_the_api_builds_the_command_from_the_validated_body() -> None:
    from pydantic import TypeAdapter

    from contractsync.api.operation_bodies import OperationBody

    body = TypeAdapter(OperationBody).validate_python({"type": "update_quantity", "quantity": 12})
    assert command_of(body) == OperationCommand.build("update_quantity", quantity=12)
    renamed = TypeAdapter(OperationBody).validate_python(
        {"type": "update_friendly_name", "friendly_name": "bad\x00name"}
    )
    with pytest.raises(Invalid, match="control characters"):
        command_of(renamed)
