"""The in-memory repositories answer as the SQL ones do: the same calls on both, the same answers.

Use-case unit tests run on `FakeUnitOfWork`; this keeps that fake honest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from contractsync.adapters.db.books_table import service_books
from contractsync.adapters.db.domain_rows import intents_to_json
from contractsync.adapters.db.operations import create_operation
from contractsync.adapters.db.tables import adjustments, contracts, ledger, subscription_mappings
from contractsync.adapters.db.unit_of_work import SqlUnitsOfWork
from contractsync.adapters.memory.subscription_books import LedgerLine, StoredBook
from contractsync.adapters.memory.unit_of_work import FakeUnitsOfWork
from contractsync.domain.decisions import Effect
from contractsync.domain.engine import SyncEngine
from contractsync.domain.enums import (
    BillingCycle,
    ContractPeriodType,
    OfferKind,
    PromotionSetting,
    RecordType,
    SubscriptionStatus,
    Term,
)
from contractsync.domain.model import Contract, Customer, Promotion, Reseller, Subscription
from contractsync.domain.model import SubscriptionMapping as EngineMapping
from contractsync.domain.schedule import HeldAdjustment, Intent
from contractsync.ports.alerts import NewAlert
from contractsync.ports.api_tokens import NewToken
from contractsync.ports.audit_records import AdjustmentLine, AuditRecord, NewRecord, RecordFilter
from contractsync.ports.console_sessions import ConsoleSession
from contractsync.ports.directory import (
    CredentialsChange,
    CustomerMapping,
    StoredConnection,
    SubscriptionMapping,
)
from contractsync.ports.outbox import LedgerEntry
from contractsync.ports.partner_center import PartnerCenterSource
from contractsync.ports.reconciliation_runs import RunResult, Schedule
from contractsync.ports.service_creations import NewServiceCreation
from contractsync.ports.subscription_books import LostRace, RetryRefused, StoredKey
from contractsync.ports.unit_of_work import UnitOfWorkFactory

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
SUBSCRIPTION = Subscription(
    id="s1", customer_id="c1", reseller_id="r1", offer_id="CFQ7TTC0LF8S:0001:0002",
    offer_name="Microsoft 365 E5", kind=OfferKind.NCE, quantity=10, status=SubscriptionStatus.ACTIVE,
    term=Term.P1Y, billing_cycle=BillingCycle.MONTHLY, start_date=date(2026, 1, 15),
    end_date=date(2027, 1, 14), auto_renew=True, list_price=Decimal("10.50"), friendly_name="E5",
    promotion=Promotion("P1", Decimal("15")), price_margin_percent=Decimal("-2.5"),
)  # fmt: skip


def _connection(key: str, reseller: str) -> StoredConnection:
    return StoredConnection(
        id=key, reseller_id=reseller, kind="autotask", username="api@example.com", secret_encrypted="x",
        integration_code="CODE", base_url=None, timezone="UTC", settle_seconds=600, created_at=NOW,
        policies={"upgrade": "auto"},
    )  # fmt: skip


def _directory(units: UnitOfWorkFactory) -> list[Any]:
    answers: list[Any] = []
    with units() as uow:
        d = uow.directory
        answers += [
            d.add_reseller(Reseller("r2", "Two")),
            d.add_reseller(Reseller("r1", "One", PromotionSetting.KEEP)),
        ]
        answers += [d.add_reseller(Reseller("r1", "Again"))]
        answers += [d.add_connection(_connection("k1", "r1")), d.add_connection(_connection("k2", "r2"))]
        answers += [d.add_customer(Customer("c1", "r1", "Contoso", "t1", {"microsoft": Decimal("20")}))]
        answers += [d.add_customer(Customer("c2", "r2", "Fabrikam"))]
        answers += [d.add_subscription(SUBSCRIPTION, NOW), d.add_subscription(SUBSCRIPTION, NOW)]
    with units() as uow:
        d = uow.directory
        d.approve_billing("r1", date(2026, 11, 30))
        d.change_credentials("k1", CredentialsChange("y", username="other@example.com"))
        d.probe_now("k1", NOW)
    with units(commit=False) as uow:
        d = uow.directory
        answers += [d.resellers(), d.resellers("r2"), d.reseller("r1"), d.reseller("nope")]
        answers += [d.connections(), d.connections("r1"), d.connection("k1"), d.pause("k1"), d.pauses()]
        answers += [d.customers(), d.customers("r1"), d.customer("c1"), d.customer_mapping("c1")]
        answers += [
            d.subscription("s1"),
            d.subscription_ids(),
            d.subscription_ids("r2"),
            d.subscription_ids(None, "c1"),
        ]
        answers += [d.subscription_mapping("s1"), d.open_manual_actions("s1"), d.sync_badge("s1")]
        answers += [d.subscriptions(["s1", "nope"]), d.subscriptions([]), d.customer_mappings_of("k1")]
        answers += [d.subscription_mappings_of("k1")]
    return answers


def _partner_center(units: UnitOfWorkFactory) -> list[Any]:
    source = PartnerCenterSource(
        "pc1", "r1", "t1", "app", "s", "r", "https://login", "https://api", 15, NOW, {"X:1": "10.0000"}
    )
    answers: list[Any] = []
    with units() as uow:
        p = uow.partner_center
        answers += [p.add(source, NOW), p.add(source, NOW), p.sources(), p.sources("r2"), p.source("nope")]
        p.update("pc1", {"poll_minutes": 60, "webhook_url": "https://hook"})
        answers += [p.source("pc1"), p.poll("pc1"), p.due(NOW), p.due(NOW - timedelta(seconds=1))]
        lease = {"status": "running", "lease_until": NOW + timedelta(minutes=15), "progress": {"requests": 1}}
        answers += [p.claim("pc1", NOW, lease), p.claim("pc1", NOW, lease), p.due(NOW)]
        p.save_poll("pc1", {"status": "idle", "lease_until": None, "page_token": "t", "page_index": 3})
        answers += [p.poll("pc1"), p.claim("pc1", NOW, {"manual_actions": [{"why": "price"}]}), p.poll("pc1")]
        answers += [uow.alerts.failed_polls()]
        p.save_poll("pc1", {"status": "failed", "lease_until": None, "last_error": "sign-in refused"})
        answers += [uow.alerts.failed_polls()]
        p.save_poll("pc1", {"finished_at": NOW})
        answers += [uow.alerts.failed_polls()]
    return answers


def _alerts_and_runs(units: UnitOfWorkFactory) -> list[Any]:
    answers: list[Any] = []
    with units() as uow:
        a = uow.alerts
        first = a.raise_alert(NewAlert("out_of_sync", "one", "k1", None, "key-1", None), NOW)
        answers += [first, a.raise_alert(NewAlert("out_of_sync", "two", "k1", None, "key-1", None), NOW)]
        answers += [a.raise_alert(NewAlert("api_budget", "budget", "k2", None, "key-2"), NOW)]
        # an alert of a reseller's own, naming neither a connection nor a subscription
        answers += [
            a.raise_alert(
                NewAlert("partner_center_poll_failed", "poll", None, None, "key-3", None, "r2"), NOW
            )
        ]
        a.acknowledge(first, NOW + timedelta(minutes=1), "admin")
        a.acknowledge(first, NOW + timedelta(minutes=2), "reseller:r1")
        answers += [a.listed(None, "acknowledged"), a.open_keys(["out_of_sync"])]
        # the webhook's: the acknowledged one is not waiting; a claim is taken once, and again
        # once it is stale; a release gives it back; sent only when the webhook accepted it
        stale, later = NOW - timedelta(minutes=1), NOW + timedelta(minutes=2)
        answers += [a.to_notify(10, stale), a.to_notify(1, stale)]
        answers += [a.claim_notification(ids, NOW, stale) for ids in (answers[2], answers[2])]
        answers += [a.to_notify(10, stale), a.to_notify(10, later), a.alert(answers[2], None)]
        answers += [a.claim_notification(answers[2], later, NOW + timedelta(minutes=1))]
        a.release_notification(answers[2])
        answers += [
            a.to_notify(10, stale),
            a.claim_notification(answers[3], NOW, stale),
            a.to_notify(10, stale),
        ]
        a.mark_notified(answers[3], "raised", NOW + timedelta(seconds=1))
        a.resolve("key-1", NOW + timedelta(minutes=3))
        # a resolved alert that was sent: its resolution is news, claimed once, given back
        a.resolve("key-3", NOW + timedelta(minutes=4))
        answers += [
            a.to_notify(10, stale),
            a.claim_notification(answers[3], NOW, stale),
            a.claim_notification(answers[3], NOW, stale),
        ]
        a.release_notification(answers[3])
        answers += [a.to_notify(10, stale), a.alert(answers[3], None)]
        # a resolution taken to send, and the alert raised again before the webhook answered
        answers += [a.claim_notification(answers[3], later, stale)]
        a.raise_alert(NewAlert("partner_center_poll_failed", "again", None, None, "key-3", None, "r2"), later)
        a.mark_notified(answers[3], "resolved", later)
        answers += [a.alert(answers[3], None), a.to_notify(10, stale)]
        a.resolve_ids([], NOW)
        answers += [
            a.listed(None, "resolved"),
            a.listed("r2", "open"),
            a.listed("r1", "all"),
            a.alert(first, "r2"),
        ]
        answers += [
            a.raise_alert(
                NewAlert("out_of_sync", "three", "k1", None, "key-1", None), NOW + timedelta(hours=1)
            )
        ]
        # raised again: to be sent again
        answers += [a.alert(first, None), a.to_notify(10, stale)]
        answers += [a.failed_deliveries(), a.unmapped_subscriptions()]
        r = uow.reconciliation_runs
        run = RunResult("k1", "scheduled", NOW, NOW, 3, 2, Decimal("12.50"), "EUR", {"drift": 1}, ["s1"])
        answers += [
            r.add(run),
            r.add(RunResult("k1", "on_demand", NOW, NOW, 0, 0, Decimal(0), "USD", error="down")),
        ]
        answers += [r.schedule("k1")]
        r.set_schedule("k1", Schedule(0, "EUR"))
        r.set_schedule("k1", Schedule(6, "EUR"))
        answers += [r.latest("k1", 1), r.latest("k2", 5), r.schedule("k1"), r.every_hours()]
        answers += [r.last_started(True), r.last_started(False)]
    return answers


def _audit_search(units: UnitOfWorkFactory) -> list[Any]:
    logged = [
        ("k1", "s1", "c1", "CreateConnectionSubscriptionMapping", "pending", NOW),
        ("k1", "S10", "c1", "UpdateSubscriptionQuantityOnConnection", "succeeded", NOW + timedelta(days=1)),
        ("k2", "x_1", "c2", "UpdateSubscriptionQuantityOnConnection", "failed", NOW + timedelta(days=2)),
        ("k1", None, "c1", "CreateConnectionCustomerMapping", "succeeded", NOW + timedelta(days=2)),
    ]
    with units() as uow:
        for n, (connection, subscription, customer, kind, status, at) in enumerate(logged, 1):
            if uow.session is not None:
                create_operation(uow.session, connection_id=connection, operation_key=f"k{n}", type=kind,
                                 status=status, now=at, subscription_id=subscription, customer_id=customer)  # fmt: skip
            else:
                uow.data.records[n] = AuditRecord(n, connection, subscription, customer, f"k{n}", kind, status,
                                                  None, None, at, at, {})  # fmt: skip
    day = timedelta(days=1)
    filters = [
        RecordFilter(), RecordFilter(subscription_part="s1"), RecordFilter(subscription_part="_"),
        RecordFilter(subscription_part="X_"), RecordFilter(customer_id="c1", status="succeeded"),
        RecordFilter(reseller_id="r1", recorded_from=NOW + day), RecordFilter(recorded_before=NOW + day),
        RecordFilter(recorded_from=NOW + day, recorded_before=NOW + 2 * day, type="UpdateSubscriptionQuantityOnConnection"),
        RecordFilter(reseller_id="r2", subscription_part="1"),
    ]  # fmt: skip
    with units(commit=False) as uow:
        return [uow.audit_records.page(where, offset, 2) for where in filters for offset in (0, 1)]


def _line(entry: LedgerEntry) -> LedgerLine:
    """A ledger entry as the memory unit of work keeps it."""
    held = HeldAdjustment(entry.effective_date, entry.unit_change, entry.unit_price, entry.unit_cost)
    return LedgerLine(entry.adjustment_id, held)


def _dashboard(units: UnitOfWorkFactory) -> list[Any]:
    mapping = SubscriptionMapping("s1", "k1", 100, 1000, 7, date(2026, 11, 1))
    sent = AdjustmentLine(1, 1, "k1", "s1", 100, 1000, date(2026, 11, 1), 10, 10, 10, Decimal("12.0000"),
                          Decimal("10.0000"), "sent", 1, None, NOW, NOW + timedelta(hours=1))  # fmt: skip
    held = [
        LedgerEntry(date(2026, 11, 1), 10, Decimal("12.0000"), Decimal("10.0000"), None, 1),
        LedgerEntry(date(2026, 12, 1), -4, Decimal("12.5000"), Decimal("10.0000"), None, None),
        LedgerEntry(date(2026, 11, 15), 2, Decimal("12.0000"), Decimal("10.0000"), None, None),
    ]
    with units() as uow:
        if uow.session is not None:
            session = uow.session
            session.execute(insert(subscription_mappings).values(**vars(mapping), created_at=NOW))
            create_operation(session, connection_id="k1", operation_key="a", type="t", status="failed", now=NOW,
                             customer_id="c1")  # fmt: skip
            create_operation(
                session, connection_id="k1", operation_key="b", type="t", status="failed", now=NOW
            )
            row = {k: v for k, v in vars(sent).items() if k != "posted_period_refused"}
            session.execute(insert(adjustments).values(**row, next_attempt_at=NOW, created_at=NOW))
            for entry in held:
                session.execute(
                    insert(ledger).values(connection_id="k1", contract_service_id=1000, **vars(entry))
                )
        else:
            data = uow.data
            data.subscription_mappings["s1"] = mapping
            for n, customer in ((1, "c1"), (2, None)):
                data.records[n] = AuditRecord(n, "k1", None, customer, "ab"[n - 1], "t", "failed", None, None, NOW,
                                              NOW, {})  # fmt: skip
            data.adjustments[1] = sent
            data.ledger[("k1", 1000)] = [_line(entry) for entry in held]
        uow.reconciliation_runs.set_schedule("k1", Schedule(6, "EUR"))
    with units(commit=False) as uow:
        d = uow.dashboard
        both, none = ["k1", "k2"], []
        return [
            d.currencies(both), d.currencies(["k2"]), d.currencies(none), d.last_deliveries(both),
            d.last_deliveries(["k2"]), d.failed_records(both), d.failed_records(["k2"]),
            d.billed_lines(both, date(2026, 11, 30)), d.billed_lines(both, date(2027, 1, 1)),
            d.billed_lines(["k2"], date(2027, 1, 1)), d.billed_lines(none, date(2027, 1, 1)),
        ]  # fmt: skip


def _reconciliation_facts(units: UnitOfWorkFactory) -> list[Any]:
    """Every kind of fact for one mapped service of k1: contract, book, ledger (one sent, one read),
    open and failed rows, a refused record (and one a later record overtook), what it wants now."""
    day = date(2026, 11, 1)
    mapping = SubscriptionMapping("s1", "k1", 100, 1000, 7, date(2026, 10, 15))
    contract = Contract(
        100, date(2026, 1, 1), date(2027, 12, 31), ContractPeriodType.MONTHLY, date(2026, 9, 30)
    )
    intents = [Intent(date(2026, 10, 15), 10, Decimal("12.0000"), Decimal("10.0000")), Intent(day, 12)]
    records = [  # id, subscription, type, status, effective date, details
        (1, "s1", "CreateConnectionSubscriptionMapping", "pending", date(2026, 10, 15),
         {"notes": ["2026-10-15 could not be made exact"]}),
        (2, "s1", "UpdateSubscriptionQuantityOnConnection", "failed", date(2026, 12, 1), {}),
        (3, "s1", "UpdateSubscriptionQuantityOnConnection", "failed", day, {}),
        (4, "s1", "UpdateSubscriptionUnsupportedOnConnection", "failed", day, {}),
        (5, "s2", "UpdateSubscriptionQuantityOnConnection", "failed", day, {}),
        (6, "s2", "UpdateSubscriptionQuantityOnConnection", "succeeded", day, {}),
    ]  # fmt: skip
    money = (Decimal("12.0000"), Decimal("10.0000"))
    lines = [  # id, record, date, target units, status, attempts, error
        (1, 1, date(2026, 10, 15), 10, "sent", 1, None),
        (2, 1, day, 12, "pending", 0, None),
        (3, 3, date(2026, 11, 20), 11, "failed", 3, "the period is posted"),
        (4, 1, date(2026, 11, 25), 9, "pending", 2, "429"),
    ]
    held = [
        LedgerEntry(date(2026, 10, 15), 10, *money, 9001, 1),
        LedgerEntry(date(2026, 10, 1), 0, *money, None, None),
    ]
    with units() as uow:
        uow.reconciliation_runs.set_schedule("k1", Schedule(12, "EUR"))
        if uow.session is not None:
            session = uow.session
            session.execute(insert(subscription_mappings).values(**vars(mapping), created_at=NOW))
            session.execute(insert(contracts).values(connection_id="k1", contract_id=100, start_date=contract.start_date,
                            end_date=contract.end_date, period_type="monthly", posted_through=contract.posted_through))  # fmt: skip
            session.execute(insert(service_books).values(connection_id="k1", contract_service_id=1000, contract_id=100,
                            service_start=date(2026, 10, 15), intents=intents_to_json({i.effective_date: i for i in intents})))  # fmt: skip
            for n, subscription, kind, status, effective, details in records:
                create_operation(session, connection_id="k1", operation_key=f"k{n}", type=kind, status=status, now=NOW,
                                 subscription_id=subscription, customer_id="c1", reason=f"why {n}", details=details,
                                 effective_date=effective)  # fmt: skip
            for n, record, effective, target, status, attempts, error in lines:
                session.execute(insert(adjustments).values(
                    id=n, operation_id=record, connection_id="k1", subscription_id="s1", contract_id=100,
                    contract_service_id=1000, effective_date=effective, target_units=target, unit_price=money[0],
                    unit_cost=money[1], status=status, attempts=attempts, error=error, due_at=NOW,
                    next_attempt_at=NOW, created_at=NOW))  # fmt: skip
            for entry in held:
                session.execute(
                    insert(ledger).values(connection_id="k1", contract_service_id=1000, **vars(entry))
                )
        else:
            data = uow.data
            data.subscription_mappings["s1"] = mapping
            data.contracts[("k1", 100)] = contract
            data.books[("k1", 1000)] = StoredBook(
                100, date(2026, 10, 15), {i.effective_date: i for i in intents}
            )
            for n, subscription, kind, status, effective, details in records:
                data.records[n] = AuditRecord(n, "k1", subscription, "c1", f"k{n}", kind, status, f"why {n}",
                                              effective, NOW, NOW, details)  # fmt: skip
            for n, record, effective, target, status, attempts, error in lines:
                data.adjustments[n] = AdjustmentLine(n, record, "k1", "s1", 100, 1000, effective, target, None, None,
                                                     *money, status, attempts, error, NOW, None)  # fmt: skip
            data.ledger[("k1", 1000)] = [_line(entry) for entry in held]
    with units(commit=False) as uow:
        return [
            uow.reconciliation_facts.read("k1", "Europe/Berlin"),
            uow.reconciliation_facts.read("k2", "UTC"),
        ]


def _service_creations(units: UnitOfWorkFactory) -> list[Any]:
    answers: list[Any] = []
    new = NewServiceCreation(1, "k1", "s1", 100, 7, Decimal("12.0000"), Decimal("10.0000"))
    with units() as uow:
        if uow.session is not None:  # the SQL side needs the mapping's audit record (foreign key)
            create_operation(
                uow.session, connection_id="k1", operation_key="k", type="t", status="pending", now=NOW
            )
        c = uow.service_creations
        first, second = c.add(new, NOW), c.add(replace(new, subscription_id="s2"), NOW)
        answers += [first, second, c.get(first), c.get(99), c.open_for("s1"), c.open_for("nope")]
        answers += [c.open_subscription_ids("k1"), c.open_subscription_ids("k2")]
        claimed = c.add(replace(new, subscription_id="s3"), NOW, claimed_until=NOW + timedelta(minutes=1))
        answers += [c.get(claimed), c.due(NOW, 10), c.due(NOW + timedelta(minutes=1), 10)]
        answers += [c.claim(claimed, NOW, NOW), c.open_for("s3")]
        # the claim's heartbeat: only its own attempt renews it, and only while it is sending
        renewed_until = NOW + timedelta(minutes=2)
        answers += [c.renew(claimed, 1, renewed_until), c.renew(claimed, 2, NOW), c.renew(99, 1, NOW)]
        answers += [c.get(claimed), c.due(NOW + timedelta(minutes=1), 10), c.due(renewed_until, 10)]
        answers += [c.due(NOW, 10), c.due(NOW, 1), c.due(NOW - timedelta(seconds=1), 10)]
        lease = NOW + timedelta(minutes=5)
        answers += [c.claim(first, NOW, lease), c.claim(first, NOW, lease), c.due(NOW, 10), c.due(lease, 10)]
        c.record_retry(first, "429", "throttled", NOW + timedelta(seconds=30))
        answers += [c.get(first), c.due(NOW, 10), c.due(NOW + timedelta(seconds=30), 10)]
        answers += [c.claim(first, NOW + timedelta(seconds=30), lease)]
        c.record_sent(first, 5000, NOW + timedelta(seconds=31))
        c.record_failed(second, "inactive", "rejected")
        answers += [c.renew(first, 2, lease), c.renew(second, 0, lease)]  # recorded: nothing to renew
        answers += [c.get(first), c.get(second), c.open_for("s1"), c.open_for("s2"), c.due(lease, 10)]
        answers += [
            c.claim(first, lease, lease),
            c.claim(second, lease, lease),
            c.open_subscription_ids("k1"),
        ]
    return answers


def _tokens_and_names(units: UnitOfWorkFactory) -> list[Any]:
    answers: list[Any] = []
    later = NOW + timedelta(hours=1)
    with units() as uow:
        t = uow.api_tokens
        admin = t.add(NewToken("h1", None, NOW, "environment", "cs_a"))
        named = t.add(NewToken("h2", "r1", NOW, "cli", "cs_b", NOW + timedelta(days=1), "Billing bot"))
        old = t.add(NewToken("h3", None, NOW, "environment", "cs_c"))
        uow.console_sessions.add(ConsoleSession("s", named, "r1", NOW, NOW, later, 60))
        t.set_source(old, "generated", "cs_d")
        t.used(named, later)
        answers += [t.by_hash("h2"), t.by_hash("nope"), t.token(admin), t.named("Billing bot"), t.named("x")]
        # A create that lost the race to a concurrent one: refused (None), the rest of the work goes on.
        answers += [t.add(NewToken("h4", None, NOW, "cli", "cs_e", None, "Billing bot")), t.by_hash("h4")]
        answers += [t.add(NewToken("h1", None, NOW, "cli", "cs_f")), t.by_hash("h1")]
        answers += [t.ids_from("environment", "h1"), t.ids_from("generated", "h1"), t.listed()]
        t.remove([named])
        answers += [t.listed(), uow.console_sessions.find("s")]
        n = uow.autotask_names
        answers += [n.names("k1"), n.refreshed_at("k1")]
        n.store("k1", "company", {3: "Contoso", 1: "Fabrikam"}, NOW)
        n.store("k1", "company", {3: "Contoso Ltd"}, later)
        n.replace("k1", "service", {7: "E5", 8: "E3"}, NOW)
        n.replace("k1", "service", {8: "E3 (2026)"}, later)
        n.store("k2", "contract", {5: "Managed"}, NOW)
        answers += [n.names("k1"), n.names("k2"), n.refreshed_at("k1"), n.refreshed_at("k2"), n.names("k3")]
        d = uow.directory
        d.remove_customer_mapping("c1", "k1")
        d.move_customer_mapping("c1", "k1", 9)
        answers += [d.customer_mapping("c1")]
        r = uow.audit_records
        first = r.add(NewRecord("k1", "key", "CreateConnectionCustomerMapping", "succeeded", "c1",
                                reason="unmapped", details={"actor": "Billing bot"}), NOW)  # fmt: skip
        answers += [r.record(first), r.records([first, 999])]
    return answers


def _books(units: UnitOfWorkFactory) -> list[Any]:
    """Idempotency keys, what a sweep or a margin change covers, and the F1 requeue's refusals."""
    answers: list[Any] = []
    key = StoredKey("r1", "import-7", "a" * 64, "s1", [3, 4], NOW)
    with units() as uow:
        answers += [uow.books.stored_keys({"import-7"})]
        uow.books.store_keys([key, StoredKey("*", "import-7", "b" * 64, "s1", [], NOW)])
    try:
        with units() as uow:
            uow.books.store_keys([key])
    except LostRace:
        answers += ["lost the race"]
    with units(commit=False) as uow:
        b = uow.books
        answers += [b.stored_keys({"import-7", "other"}), b.stored_keys(set())]
        answers += [b.customer_subscriptions("c1"), b.customer_subscriptions("c2")]
        answers += [b.ending_before(date(2027, 1, 15)), b.ending_before(date(2027, 1, 14))]
        answers += [b.ending_before(date(2027, 1, 15), "r2"), b.connection_reseller("k2")]
        try:
            b.requeue_failed(424242, NOW)
        except RetryRefused as refusal:
            answers += [str(refusal)]
    return answers


def _mapping_and_ledger(units: UnitOfWorkFactory) -> list[Any]:
    """What mapping and a reconciliation fix write through the ports: a customer's company, a kept
    contract, a subscription mapped with its plan (the engine's mapping saved by `save`), a
    waiting record settled, the ledger rebuilt from a date on (merging a date it holds), unmapping."""
    answers: list[Any] = []
    day = date(2026, 11, 25)
    contract = Contract(100, date(2026, 1, 1), date(2027, 12, 31), ContractPeriodType.QUARTERLY)
    money = (Decimal("12.0000"), Decimal("10.0000"))
    with units() as uow:
        d, b = uow.directory, uow.books
        answers += [d.add_customer_mapping(CustomerMapping("c1", "k1", 501))]
        answers += [d.add_customer_mapping(CustomerMapping("c1", "k1", 502))]  # the customer is mapped
        answers += [d.add_customer_mapping(CustomerMapping("c2", "k1", 501))]  # the company is taken
        answers += [d.customer_mappings_of("k1"), d.customer_mapping("c1")]
        # the same customer, and the same company, on another connection: a mapping of its own
        answers += [d.add_customer_mapping(CustomerMapping("c1", "k2", 501))]
        answers += [d.customer_mappings_of("k2"), d.customer_mapping("c1")]
        d.move_customer_mapping("c1", "k2", 503)
        d.remove_customer_mapping("c1", "k1")
        answers += [d.customer_mappings_of("k1"), d.customer_mappings_of("k2"), d.customer_mapping("c1")]
        d.remove_customer_mapping("c1", "k2")
        answers += [d.add_customer_mapping(CustomerMapping("c1", "k1", 501)), d.customer_mapping("c1")]
        answers += [b.contract("k1", 100)]
        b.keep_contract("k1", contract)
        b.keep_contract("k1", replace(contract, end_date=date(2028, 12, 31)))  # kept already: unchanged
        answers += [b.contract("k1", 100), b.contract("k2", 100), b.mapped_to("k1", 1000)]
        loaded = b.load("k1", ["s1"])
        b.load_service(loaded, 100, 1000, day)
        answers += [loaded.state.contracts, loaded.state.books, loaded.state.mappings]
        engine = SyncEngine(loaded.state)
        record = engine.new_record(Effect(RecordType.MAP_SUBSCRIPTION, "s1", 1000, day), NOW)
        engine.map_subscription(EngineMapping("s1", 100, 1000, NOW, day, 7), record, NOW)
        ids = b.save(loaded, "map-1", NOW, "admin")
        answers += [ids, d.subscription_mapping("s1"), b.mapped_to("k1", 1000), b.mapped_to("k2", 1000)]
        answers += [uow.audit_records.records(ids), uow.audit_records.adjustments(ids)]
        reloaded = b.load("k1", ["s1"])
        answers += [reloaded.state.mappings, reloaded.state.books]
        r = uow.audit_records
        r.settle(ids[0], "failed", "refused", NOW + timedelta(hours=1))
        answers += [r.record(ids[0])]
        r.settle(ids[0], "pending", None, NOW + timedelta(hours=2), effective_date=date(2026, 12, 1))
        answers += [r.record(ids[0]), r.record(999)]
        ledger = uow.ledger
        answers += [ledger.entries("k1", 1000), ledger.in_flight("k1", 1000), ledger.in_flight("k1", 1001)]
        first = [
            LedgerEntry(day, 10, *money, 9001, 1),
            LedgerEntry(date(2026, 12, 1), -2, *money, None, None),
        ]
        ledger.replace_from("k1", 1000, date(2026, 11, 1), first)
        answers += [ledger.entries("k1", 1000)]
        ledger.replace_from(
            "k1", 1000, date(2026, 12, 1), [LedgerEntry(date(2026, 12, 1), 3, *money, None, None)]
        )
        answers += [ledger.entries("k1", 1000)]
        # An entry dated before `start` merges into the one the ledger holds on its date.
        ledger.replace_from(
            "k1", 1000, date(2026, 12, 15), [LedgerEntry(date(2026, 12, 1), 1, *money, 77, None)]
        )
        answers += [ledger.entries("k1", 1000), ledger.entries("k2", 1000)]
        ledger.mark_units_unknown("k1", 1000)
        answers += [d.remove_subscription_mapping("s1"), d.remove_subscription_mapping("s1")]
        answers += [d.subscription_mapping("s1"), b.mapped_to("k1", 1000)]
    return answers


def _sync_badges(units: UnitOfWorkFactory) -> list[Any]:
    """s1's badge once mapped on k1, through every state: synced; failed by a refused record (one on
    another connection does not count); synced when a later record overtakes it; out of sync after a
    reconciliation found it drifting; synced once something was sent since; pending while a row
    waits; failed with a refused row."""
    badges: list[Any] = []

    def badge() -> None:
        with units(commit=False) as uow:
            badges.append(uow.directory.sync_badge("s1"))

    def record(status: str, connection_id: str = "k1") -> int:
        new = NewRecord(connection_id, f"key{len(badges)}{status}", "UpdateSubscriptionQuantityOnConnection",
                        status, "c1", "s1", "Not sent: outside the contract")  # fmt: skip
        with units() as uow:
            return uow.audit_records.add(new, NOW)

    def line(record_id: int, status: str, sent_at: datetime | None = None) -> None:
        values = {"id": record_id, "operation_id": record_id, "connection_id": "k1", "subscription_id": "s1",
                  "contract_id": 100, "contract_service_id": 1000, "effective_date": date(2026, 11, 25),
                  "target_units": 12, "planned_unit_change": 2, "sent_unit_change": None,
                  "unit_price": Decimal("12.0000"), "unit_cost": Decimal("10.0000"), "status": status,
                  "attempts": 1, "error": None, "due_at": NOW, "sent_at": sent_at}  # fmt: skip
        with units() as uow:
            if uow.session is not None:
                uow.session.execute(insert(adjustments).values(**values, next_attempt_at=NOW, created_at=NOW))
            else:
                uow.data.adjustments[record_id] = AdjustmentLine(**values)

    mapping = SubscriptionMapping("s1", "k1", 100, 1000, 7, date(2026, 10, 15))
    with units() as uow:
        if uow.session is not None:
            uow.session.execute(insert(subscription_mappings).values(**vars(mapping), created_at=NOW))
        else:
            uow.data.subscription_mappings["s1"] = mapping
    badge()
    record("failed", "k2")
    badge()
    record("failed")
    badge()
    record("succeeded")
    badge()
    run = RunResult("k1", "on_demand", NOW, NOW, 1, 1, Decimal("-24.0000"), "EUR", {"drift": 1}, ["s1"])
    with units() as uow:
        uow.reconciliation_runs.add(run)
    badge()
    line(record("succeeded"), "sent", NOW + timedelta(minutes=5))
    badge()
    line(record("pending"), "pending")
    badge()
    line(record("failed"), "failed")
    badge()
    assert badges == ["synced", "synced", "failed", "synced", "out_of_sync", "synced", "pending", "failed"]
    return badges


def _sign_in_attempts(units: UnitOfWorkFactory) -> list[Any]:
    """Counted strictly after the instant given; two attempts at one instant are two; removing
    keeps what was made at the cut or later; a rolled-back attempt is not kept."""
    second = timedelta(seconds=1)
    answers: list[Any] = []
    with units() as uow:
        a = uow.sign_in_attempts
        a.lock()
        for key, at in [("total", NOW), ("total", NOW), ("address:x", NOW), ("address:x", NOW + second)]:
            a.add(key, at)
        answers += [a.count_after("total", NOW - second), a.count_after("total", NOW)]
        answers += [a.count_after("address:x", NOW - second), a.count_after("address:x", NOW)]
        answers += [a.count_after("address:y", NOW - second)]
    try:
        with units() as uow:
            uow.sign_in_attempts.add("address:y", NOW)
            raise LookupError("rolled back")
    except LookupError:
        pass
    with units() as uow:
        a = uow.sign_in_attempts
        answers += [a.count_after("address:y", NOW - second)]
        a.remove_before(NOW + second)
        answers += [a.count_after("total", NOW - second), a.count_after("address:x", NOW - second)]
    assert answers == [2, 0, 2, 1, 0, 0, 0, 1]
    return answers


SCENARIOS = [
    _directory, _partner_center, _audit_search, _dashboard, _reconciliation_facts, _service_creations,
    _tokens_and_names, _books, _alerts_and_runs, _mapping_and_ledger, _sync_badges, _sign_in_attempts,
]  # fmt: skip


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.__name__.strip("_"))
def test_sql_and_memory_agree(
    session_factory: sessionmaker[Session], scenario: Callable[[UnitOfWorkFactory], list[Any]]
) -> None:
    """The scenario's answers are the same from the SQL unit of work and the in-memory one (every
    scenario but the directory's runs after the directory's, on the same data)."""
    sql, memory = SqlUnitsOfWork(session_factory), FakeUnitsOfWork()
    for before in (_directory,) if scenario is not _directory else ():
        before(sql), before(memory)
    assert scenario(sql) == scenario(memory)
