"""X3 through the real service and database (SQLite and PostgreSQL): what an import changes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from contractsync.adapters.partner_center import PartnerCenterSubscription
from contractsync.service.actor import ADMIN
from tests.integration.partner_center.world import SUB, World, build_world, partner_center
from tests.sandbox_autotask import SandboxAutotask
from tests.unit.partner_center.samples import needs_samples, sample


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    with SandboxAutotask() as autotask:
        yield build_world(database_url, tmp_path, autotask)
        assert autotask.violations() == []


def operation_types(report_record: dict[str, object]) -> list[object]:
    return [op["type"] for op in report_record["operations"]]  # type: ignore[attr-defined]


def test_a_new_quantity_and_a_suspension_become_operations(world: World) -> None:
    world.subscription()
    report = world.run(partner_center(Quantity=12, Status="Suspended"))
    (record,) = report.records
    assert (record["outcome"], record["subscription_id"]) == ("updated", SUB)
    assert operation_types(record) == ["update_quantity", "suspend"]
    assert [op["status"] for op in record["operations"]] == ["applied", "applied"]
    stored = world.service.get_subscription(ADMIN, SUB)
    assert (stored["quantity"], stored["status"]) == (12, "suspended")
    assert not report.failed
    # The same document again: nothing left to do.
    (again,) = world.run(partner_center(Quantity=12, Status="Suspended")).records
    assert (again["outcome"], again["operations"]) == ("unchanged", [])


def test_preview_changes_nothing(world: World) -> None:
    world.subscription()
    world.map()
    before, count = world.service.get_subscription(ADMIN, SUB), world.operation_count()
    report = world.run(partner_center(Quantity=12, Status="Suspended"), preview=True)
    assert world.service.get_subscription(ADMIN, SUB) == before
    assert world.operation_count() == count
    answer = report.as_json()
    assert answer["preview"] is True and "nothing was stored or sent" in answer["note"]
    (record,) = answer["records"]
    assert [op["status"] for op in record["operations"]] == ["previewed", "previewed"]
    assert all(op["body"]["preview"] is True for op in record["operations"])
    # The same code that sends computes the preview: the adjustment it would make is shown.
    quantity = record["operations"][0]["records"][0]
    assert quantity["type"] == "UpdateSubscriptionQuantityOnConnection"
    assert quantity["adjustments"][0]["effective_date"] == "2024-06-03"
    assert quantity["adjustments"][0]["contract_service_id"] == 1000


def test_a_mapped_subscription_gets_its_audit_records(world: World) -> None:
    world.subscription()
    world.map()
    count = world.operation_count()
    report = world.run(partner_center(Quantity=12))
    (record,) = report.records
    (operation,) = record["operations"]
    assert [r["type"] for r in operation["records"]] == ["UpdateSubscriptionQuantityOnConnection"]
    assert world.operation_count() == count + 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"Status": "Frozen"}, "status"), ({"BillingCycle": "fortnightly"}, "billingCycle")],
)
def test_an_unknown_value_is_an_error_and_changes_nothing(
    world: World, changes: dict[str, str], field: str
) -> None:
    world.subscription()
    before = world.service.get_subscription(ADMIN, SUB)
    report = world.run(partner_center(Quantity=12, **changes))
    assert world.service.get_subscription(ADMIN, SUB) == before
    assert report.failed
    (error,) = report.errors
    # The field as Partner Center documents it (camelCase), whatever the file's letter case.
    assert (error["file"], error["record"], error["field"]) == ("test.json", "document", field)


def test_a_refused_operation_fails_the_record_but_not_the_run(world: World) -> None:
    world.subscription()
    world.subscription("6c3d0e2f-8a4b-5f7c-9d1e-2b3c4d5e6f70")
    world.service.apply_operation(ADMIN, SUB, {"type": "cancel"})
    report = world.run(
        {"items": [partner_center(), partner_center("6c3d0e2f-8a4b-5f7c-9d1e-2b3c4d5e6f70", Quantity=4)]}
    )
    outcomes = [(r["subscription_id"], r["outcome"]) for r in report.records]
    assert outcomes == [(SUB, "failed"), ("6c3d0e2f-8a4b-5f7c-9d1e-2b3c4d5e6f70", "updated")]
    assert "cannot come back" in report.records[0]["reason"]
    assert world.service.get_subscription(ADMIN, "6c3d0e2f-8a4b-5f7c-9d1e-2b3c4d5e6f70")["quantity"] == 4


def test_a_later_term_end_renews(world: World) -> None:
    world.subscription()
    (record,) = world.run(partner_center(CommitmentEndDate="2026-01-14T00:00:00Z", Quantity=11)).records
    assert record["operations"][0]["body"] == {"type": "renew", "end_date": "2026-01-14", "quantity": 11}
    stored = world.service.get_subscription(ADMIN, SUB)
    assert (stored["start_date"], stored["end_date"], stored["quantity"]) == ("2025-01-15", "2026-01-14", 11)


def test_partner_center_cancellation(world: World) -> None:
    world.subscription()
    (record,) = world.run(partner_center(Status="deleted")).records
    assert operation_types(record) == ["cancel"]
    assert world.service.get_subscription(ADMIN, SUB)["status"] == "canceled"


@needs_samples
def test_a_transition_moves_seats_between_known_subscriptions(world: World) -> None:
    source, target = "e487e8dc-421e-4275-cb42-3c1c8daccf70", "0af52192-4a2a-4364-d25b-c8ecab3a5697"
    world.subscription(source, quantity=5, term="P1M", start_date="2021-01-01", end_date="2021-01-31")
    world.subscription(target, quantity=1, term="P1M", start_date="2021-01-01", end_date="2021-01-31")
    (record,) = world.run(sample("doc-nce-transition-response.json")).records
    assert record["outcome"] == "updated", record
    body = record["operations"][0]["body"]
    assert body == {
        "type": "upgrade",
        "target_subscription_id": target,
        "quantity": 2,
        "effective_date": "2021-01-08",
    }
    assert world.service.get_subscription(ADMIN, source)["quantity"] == 3
    assert world.service.get_subscription(ADMIN, target)["quantity"] == 3


@needs_samples
def test_a_transition_imported_twice_moves_its_seats_once(world: World, tmp_path: Path) -> None:
    source, target = "e487e8dc-421e-4275-cb42-3c1c8daccf70", "0af52192-4a2a-4364-d25b-c8ecab3a5697"
    world.subscription(source, quantity=5, term="P1M", start_date="2021-01-01", end_date="2021-01-31")
    world.subscription(target, quantity=1, term="P1M", start_date="2021-01-01", end_date="2021-01-31")
    document = json.loads(sample("doc-nce-transition-response.json").read_text())
    document["operationId"] = "1caf8ec7-62cc-4ab5-b35d-572d2a62974c"
    path = tmp_path / "transition.json"
    path.write_text(json.dumps(document))
    (first,) = world.run(path).records
    assert first["outcome"] == "updated", first
    assert first["operations"][0]["body"]["idempotency_key"] == (
        "partner-center-transition:1caf8ec7-62cc-4ab5-b35d-572d2a62974c"
    )
    (again,) = world.run(path).records
    assert again["outcome"] == "unchanged" and "imported before" in again["reason"], again
    assert world.service.get_subscription(ADMIN, source)["quantity"] == 3
    assert world.service.get_subscription(ADMIN, target)["quantity"] == 3


@needs_samples
def test_a_legacy_upgrade_moves_the_whole_subscription_once(world: World) -> None:
    source, target = "896a2862-67e2-4f3d-bb3f-c50c42b5fad8", "2add8a55-454a-4ae5-a4c9-5107dc6e9768"
    legacy = {"kind": "legacy", "offer_id": "91FD106F-4B2C-4938-95AC-F54F74E9A239", "offer_name": "E1"}
    world.subscription(source, quantity=4, **legacy)
    world.subscription(target, quantity=1, **legacy)
    path = sample("doc-legacy-upgrade-result.json")
    (record,) = world.run(path).records
    assert record["operations"][0]["body"] == {
        "type": "upgrade",
        "target_subscription_id": target,
        "quantity": 4,
    }
    assert world.service.get_subscription(ADMIN, target)["quantity"] == 5
    (again,) = world.run(path).records
    assert (again["outcome"], again["operations"]) == ("skipped", [])
    assert world.service.get_subscription(ADMIN, target)["quantity"] == 5


@needs_samples
def test_sample_subscriptions_are_created_then_converge(world: World) -> None:
    world.service.create_customer(
        ADMIN,
        {
            "id": "c2",
            "reseller_id": "r1",
            "name": "Fabrikam",
            "tenant_id": "46A62ECE-10AD-42E5-B3F1-B2ED53E6FC08",
        },
    )

    def price(subscription: PartnerCenterSubscription) -> Decimal:
        return Decimal("0") if subscription.kind.value == "azure_plan" else Decimal("6.00")

    path = sample("pcps-legacy-subscriptions-collection.json")
    preview = world.run(path, preview=True, list_price_for=price)
    assert [r["outcome"] for r in preview.records] == ["new", "new"]
    assert world.service.list_subscriptions(ADMIN, customer_id="c2")["total"] == 0

    report = world.run(path, list_price_for=price)
    assert [r["outcome"] for r in report.records] == ["created", "created"]
    azure = world.service.get_subscription(ADMIN, "4f26a5ca-c468-4715-8fc5-a14f28bcc29b")
    assert (azure["kind"], azure["end_date"], azure["term"], azure["list_price"]) == (
        "azure_plan",
        "9999-12-30",
        "P1M",
        "0.0000",
    )
    legacy = world.service.get_subscription(ADMIN, "b34024c7-9258-4841-bd0b-1e2a5d5c9d8d")
    assert (legacy["kind"], legacy["status"], legacy["customer_id"]) == ("legacy", "suspended", "c2")
    assert [r["outcome"] for r in world.run(path, list_price_for=price).records] == ["unchanged", "unchanged"]


@needs_samples
def test_without_customer_or_price_nothing_is_created(world: World) -> None:
    path = sample("pcps-legacy-subscriptions-collection.json")
    report = world.run(path)
    assert [r["outcome"] for r in report.records] == ["needs_customer", "needs_customer"]
    assert not report.failed
    world.service.create_customer(
        ADMIN,
        {
            "id": "c2",
            "reseller_id": "r1",
            "name": "Fabrikam",
            "tenant_id": "46a62ece-10ad-42e5-b3f1-b2ed53e6fc08",
        },
    )
    report = world.run(path)
    assert [r["outcome"] for r in report.records] == ["needs_price", "needs_price"]
    assert world.service.list_subscriptions(ADMIN)["total"] == 0


def test_control_characters_in_ids_and_names_are_refused(world: World) -> None:
    world.subscription()
    for changes in ({"FriendlyName": "E5\x00"}, {"OfferName": "Office\n365"}, {"OfferId": "CFQ\x007"}):
        report = world.run(partner_center(**changes))
        answer = json.dumps(report.as_json())
        assert report.failed, changes
        assert "must not contain control characters" in answer, answer
    assert world.service.get_subscription(ADMIN, SUB)["friendly_name"] != "E5\x00"
