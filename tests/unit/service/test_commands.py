"""The façade takes domain commands (what the API builds from its bodies) and answers exactly as
for the API.md JSON bodies, read by the same rules; what depends on the clock is checked by the
use case for both."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from contractsync.domain.batch_command import BatchCommand
from contractsync.domain.commands import CreateSubscription, IssueToken, SetProviderMargin, Sweep
from contractsync.domain.directory_commands import (
    ApproveBilling,
    CreateConnection,
    CreateCustomer,
    CreateReseller,
    UpdateCredentials,
)
from contractsync.domain.mapping_commands import MapCustomer
from contractsync.domain.partner_center_commands import CreatePartnerCenterSource, UpdatePartnerCenterSource
from contractsync.service.actor import ADMIN
from contractsync.service.batch_input import as_batch, read_batch
from contractsync.service.errors import Invalid
from tests.unit.service.conftest import CONNECTION, SUBSCRIPTION, Service


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


def test_the_directorys_commands_answer_as_their_bodies(directory: Service) -> None:
    facade = directory.facade
    from_body = facade.create_reseller(ADMIN, {"id": "r3", "name": "Northwind"})
    assert facade.create_reseller(ADMIN, CreateReseller.build(id="r4", name="Northwind")) == {
        **from_body,
        "id": "r4",
    }
    approved = facade.approve_billing(ADMIN, "r3", {"approved_through": "2026-10-31"})
    assert facade.approve_billing(ADMIN, "r4", ApproveBilling(date(2026, 10, 31))) == {**approved, "id": "r4"}
    with pytest.raises(Invalid, match="approved_through must be between 2000-01-01 and 2031-11-25"):
        facade.approve_billing(ADMIN, "r4", ApproveBilling(date(2032, 1, 1)))
    customer = facade.create_customer(
        ADMIN, {"id": "c3", "reseller_id": "r1", "name": "N", "tenant_id": "t3"}
    )
    command = CreateCustomer.build(id="c4", reseller_id="r1", name="N", tenant_id="t3")
    assert facade.create_customer(ADMIN, command) == {**customer, "id": "c4"}
    connection = facade.create_connection(ADMIN, {**CONNECTION, "id": "k2", "reseller_id": "r3"})
    typed = facade.create_connection(
        ADMIN, CreateConnection.build(**{**CONNECTION, "id": "k3", "reseller_id": "r3"})
    )
    assert {k: v for k, v in typed.items() if k not in {"id", "created_at"}} == {
        k: v for k, v in connection.items() if k not in {"id", "created_at"}
    }
    changed = facade.update_credentials(
        ADMIN, "k3", UpdateCredentials("rotated", username="other@example.com")
    )
    assert changed["username"] == "other@example.com"
    assert (
        directory.facade.context.secrets.decrypt(directory.data.connections["k3"].secret_encrypted)
        == "rotated"
    )


def test_a_body_the_command_refuses_is_invalid_naming_the_field(directory: Service) -> None:
    with pytest.raises(Invalid, match="colour is not a known field") as unknown:
        directory.facade.create_customer(
            ADMIN, {"id": "c5", "reseller_id": "r1", "name": "N", "colour": "red"}
        )
    assert unknown.value.details == {"field": "colour"}
    with pytest.raises(Invalid, match="company_id must be between 1 and 2147483647"):
        directory.facade.map_customer(ADMIN, {"customer_id": "c1", "connection_id": "k1", "company_id": 0})
    with pytest.raises(Invalid, match="settle_seconds must be an integer"):
        directory.facade.create_connection(ADMIN, {**CONNECTION, "id": "k9", "settle_seconds": None})


def test_a_customer_mapping_sweep_and_token_from_commands(directory: Service) -> None:
    facade = directory.facade
    record = facade.map_customer(ADMIN, MapCustomer("c1", "k1", 42))
    assert record["status"] and directory.data.customer_mappings
    preview = facade.sweep(ADMIN, Sweep(date(2026, 11, 25), preview=True))
    assert preview == facade.sweep(ADMIN, {"date": "2026-11-25", "preview": True})
    with pytest.raises(Invalid, match="date must be between"):
        facade.sweep(ADMIN, Sweep(date(1999, 12, 31)))
    issued = facade.issue_token(ADMIN, IssueToken("ci", "r1", 30))
    assert (
        issued["name"] == "ci"
        and issued["reseller_id"] == "r1"
        and issued["expires_at"].startswith("2026-12-25")
    )
    with pytest.raises(Invalid, match="name: must not be empty"):
        facade.issue_token(ADMIN, IssueToken("  "))


def test_a_partner_center_source_from_commands(directory: Service) -> None:
    facade = directory.facade
    source = CreatePartnerCenterSource.build(
        id="pc1", reseller_id="r1", tenant_id="t1", application_id="a1", secret="s", refresh_token="rt",
        webhook_url="https://hooks.example/pc1",
    )  # fmt: skip
    created = facade.create_partner_center_source(ADMIN, source)
    assert created["poll_minutes"] == 15 and created["webhook_url"] == "https://hooks.example/pc1"
    changed = facade.update_partner_center_source(
        ADMIN, "pc1", UpdatePartnerCenterSource.build(poll_minutes=30)
    )
    assert changed["poll_minutes"] == 30 and changed["webhook_url"] == "https://hooks.example/pc1"
    cleared = facade.update_partner_center_source(ADMIN, "pc1", {"webhook_url": None})
    assert cleared["webhook_url"] is None and cleared["poll_minutes"] == 30
