"""The façade takes domain commands (what the API builds from its bodies) and answers exactly as
for the API.md JSON bodies, read by the same rules; what depends on the clock is checked by the
use case for both."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from contractsync.domain.batch_command import BatchCommand
from contractsync.domain.commands import CreateSubscription, SetProviderMargin
from contractsync.service.actor import ADMIN
from contractsync.service.batch_input import as_batch, read_batch
from contractsync.service.errors import Invalid
from tests.unit.service.conftest import SUBSCRIPTION, Service


def test_a_new_subscription_from_a_command_is_the_one_its_body_makes(directory: Service) -> None:
    facade = directory.facade
    from_body = facade.create_subscription(ADMIN, {**SUBSCRIPTION, "id": "s2"})
    from_command = facade.create_subscription(ADMIN, CreateSubscription.build(**{**SUBSCRIPTION, "id": "s3"}))
    assert {**from_command, "id": "s2"} == from_body


def test_a_commands_start_date_is_bounded_by_the_clock(directory: Service) -> None:
    command = CreateSubscription.build(
        **{**SUBSCRIPTION, "id": "s4", "start_date": "2032-01-01", "end_date": "2033-01-01"}
    )
    with pytest.raises(Invalid, match=r"start_date must be between 2000-01-01 and 2031-11-25"):
        directory.facade.create_subscription(ADMIN, command)
    assert "s4" not in directory.data.subscriptions


def test_a_body_is_refused_naming_an_unknown_field(directory: Service) -> None:
    with pytest.raises(Invalid, match="colour is not a known field") as refused:
        directory.facade.create_subscription(ADMIN, {**SUBSCRIPTION, "colour": "red"})
    assert refused.value.details == {"field": "colour"}


def test_a_provider_margin_from_a_command(directory: Service) -> None:
    facade = directory.facade
    preview = SetProviderMargin(Decimal("20"), date(2026, 12, 1), preview=True)
    facade.set_provider_margin(ADMIN, "c1", "microsoft", preview)
    assert directory.data.customers["c1"].provider_margins == {}
    facade.set_provider_margin(ADMIN, "c1", "microsoft", SetProviderMargin(Decimal("20")))
    assert directory.data.customers["c1"].provider_margins == {"microsoft": Decimal("20")}
    with pytest.raises(Invalid, match="effective_date must be between"):
        facade.set_provider_margin(
            ADMIN, "c1", "microsoft", SetProviderMargin(Decimal("5"), date(1999, 1, 1))
        )


def test_a_batch_command_answers_as_its_body(directory: Service) -> None:
    entries = [{"subscription_id": "s1", "type": "update_quantity", "quantity": 12}]
    body = {"operations": entries, "preview": True}
    assert as_batch(body) == read_batch(entries, preview=True) == BatchCommand.from_json(body)
    assert directory.facade.apply_operations(ADMIN, body) == directory.facade.apply_operations(
        ADMIN, read_batch(entries, preview=True)
    )


def test_a_batch_that_cannot_be_read_is_invalid_naming_the_field() -> None:
    with pytest.raises(Invalid, match=r"operations\[0\]\.subscription_id is required") as refused:
        read_batch([{"type": "cancel"}])
    assert refused.value.details == {"field": "operations[0].subscription_id"}
    with pytest.raises(Invalid, match="preview must be true or false") as refused:
        as_batch({"operations": [], "preview": 1})
    assert refused.value.details is None
