"""The connector against the Autotask sandbox over real HTTP (loopback).

Every request and answer passes the vendor-document checker (see conftest.py).
"""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import quote, quote_plus

import httpx
import pytest
import structlog

from contractsync.adapters.autotask import (
    AutotaskClient,
    AutotaskConnector,
    ClientSettings,
    Company,
    Contract,
    ContractService,
    Credentials,
    ExchangeRecord,
    OutboundPolicy,
    RollingWindowBudget,
)
from contractsync.adapters.autotask.adjustments import AdjustmentRequest
from contractsync.adapters.autotask.filters import eq
from contractsync.adapters.clock import ManualClock
from contractsync.ports.psa import ErrorKind, PsaError
from contractsync.sandbox.server import SandboxServer
from contractsync.sandbox.state import SandboxConfig
from tests.contract.autotask_contract import ContractChecker, ValidatingTransport

from .conftest import (
    CONTRACT_ID,
    CONTRACT_SERVICE_ID,
    FAST,
    SECRETS,
    SERVICE_ID,
    Connect,
    add_fault,
    seed_basic,
    stats,
)

DUPLICATE = "Attempt to insert duplicate data into contract_service_period."
OUTSIDE = "The effective date must be within the contract's start and end dates."
POSTED = (
    "Unable to make changes as it would result in the deletion/modification of an already approved "
    "and posted contract period."
)


def _adjust(effective: date, units: int, price: str = "26.4", contract_service_id: int = CONTRACT_SERVICE_ID):
    return AdjustmentRequest(
        CONTRACT_ID, contract_service_id, effective, units, Decimal(price), Decimal("22")
    )


def _units_on(connector: AutotaskConnector, day: date) -> int:
    [period] = [p for p in connector.service_units(CONTRACT_SERVICE_ID, day, day) if p.start_date <= day]
    return period.units


def test_every_call(admin: httpx.Client, connect: Connect) -> None:
    seed_basic(admin)
    c = connect()
    assert c.find_companies(name="Contoso Ltd") == [Company(1, "Contoso Ltd", 1, True)]
    assert [x.id for x in c.find_companies(ids=[1, 999])] == [1]
    assert c.get_contract(CONTRACT_ID) == Contract(
        CONTRACT_ID, 1, "Contoso - Microsoft CSP", 7, 1, date(2026, 1, 1), date(2026, 12, 31), 1
    )
    assert [x.id for x in c.find_contracts(1)] == [CONTRACT_ID]
    with pytest.raises(PsaError) as raised:
        c.get_contract(999)
    assert raised.value.kind is ErrorKind.NOT_FOUND
    assert [s.name for s in c.find_services("Azure plan")] == ["Azure plan"]
    assert {s.id for s in c.find_services()} == {SERVICE_ID, 4}
    assert c.find_contract_services(CONTRACT_ID) == [
        ContractService(CONTRACT_SERVICE_ID, CONTRACT_ID, SERVICE_ID, Decimal("26.4"), Decimal("22"))
    ]

    new_id = c.create_adjustment(_adjust(date(2026, 2, 1), 5, price="12.3456"))
    assert new_id > 0
    periods = c.service_units(CONTRACT_SERVICE_ID, date(2026, 1, 1), date(2026, 3, 31))
    assert [(p.start_date, p.units, p.price, p.posted) for p in periods] == [
        (date(2026, 1, 1), 0, Decimal("26.4"), False),
        (date(2026, 2, 1), 5, Decimal("12.3456"), False),
        (date(2026, 3, 1), 5, Decimal("12.3456"), False),
    ]
    threshold = c.threshold_information()
    assert threshold.limit == 10_000 and threshold.timeframe_minutes == 60 and threshold.current_count > 0
    assert c.last_exchange is not None and c.last_exchange.status_code == 200


def test_create_contract_service(admin: httpx.Client, connect: Connect) -> None:
    seed_basic(admin)
    c = connect()
    new_id = c.create_contract_service(CONTRACT_ID, 4, Decimal("0.1234"), Decimal("0"))
    created = [cs for cs in c.find_contract_services(CONTRACT_ID) if cs.id == new_id]
    assert created == [ContractService(new_id, CONTRACT_ID, 4, Decimal("0.1234"), Decimal("0"))]
    with pytest.raises(PsaError) as raised:  # an unknown service
        c.create_contract_service(CONTRACT_ID, 999, Decimal("1"), Decimal("0"))
    assert (raised.value.kind, raised.value.message) == (
        ErrorKind.REJECTED,
        "serviceID: no Services entity with id 999 exists.",
    )


def test_paging_over_1200_contract_services(admin: httpx.Client, connect: Connect) -> None:
    services = [{"id": 1000 + i, "name": f"Service {i}", "unitPrice": 1} for i in range(1200)]
    links = [
        {"contractID": CONTRACT_ID, "serviceID": 1000 + i, "unitPrice": 1, "unitCost": 0} for i in range(1200)
    ]
    seed_basic(admin, services=services, contractServices=links)
    before = stats(admin)["requests"].get("ContractServices", 0)
    found = connect().find_contract_services(CONTRACT_ID)
    assert len(found) == 1201 and len({cs.id for cs in found}) == 1201
    assert {cs.service_id for cs in found} == {SERVICE_ID} | {1000 + i for i in range(1200)}
    assert stats(admin)["requests"]["ContractServices"] - before == 3  # 500 + 500 + 201


@pytest.mark.parametrize(
    ("adjustment", "message"),
    [
        (_adjust(date(2027, 1, 1), 1), OUTSIDE),
        (_adjust(date(2025, 12, 31), 1), OUTSIDE),
        (_adjust(date(2026, 2, 1), 1, contract_service_id=999),
         "contractServiceID: no ContractServices entity with id 999 exists."),
    ],
)  # fmt: skip
def test_rejections_keep_autotasks_message(
    admin: httpx.Client, connect: Connect, adjustment: AdjustmentRequest, message: str
) -> None:
    seed_basic(admin)
    c = connect()
    with pytest.raises(PsaError) as raised:
        c.create_adjustment(adjustment)
    assert (raised.value.kind, raised.value.message, raised.value.status_code) == (
        ErrorKind.REJECTED,
        message,
        500,
    )
    assert stats(admin)["adjustments_created"] == 0


def test_a_second_adjustment_on_the_same_date_is_rejected(admin: httpx.Client, connect: Connect) -> None:
    seed_basic(admin)
    c = connect()
    c.create_adjustment(_adjust(date(2026, 3, 1), 2))
    with pytest.raises(PsaError) as raised:
        c.create_adjustment(_adjust(date(2026, 3, 1), 1))
    assert (raised.value.kind, raised.value.message) == (ErrorKind.REJECTED, DUPLICATE)
    assert _units_on(c, date(2026, 3, 1)) == 2


def test_a_posted_period_is_rejected_and_reads_as_posted(admin: httpx.Client, connect: Connect) -> None:
    seed_basic(admin)
    c = connect()
    c.create_adjustment(_adjust(date(2026, 1, 1), 3))
    admin.post("/sandbox/post-periods", json={"through": "2026-01-31"}).raise_for_status()
    with pytest.raises(PsaError) as raised:
        c.create_adjustment(_adjust(date(2026, 1, 15), 1))
    assert (raised.value.kind, raised.value.message) == (ErrorKind.REJECTED, POSTED)
    periods = c.service_units(CONTRACT_SERVICE_ID, date(2026, 1, 1), date(2026, 2, 28))
    assert [(p.start_date, p.posted) for p in periods] == [
        (date(2026, 1, 1), True),
        (date(2026, 2, 1), False),
    ]


@pytest.mark.parametrize(
    ("kind", "expected", "applied"),
    [
        ("http_500", ErrorKind.SERVER_ERROR, False),
        ("http_503", ErrorKind.SERVER_ERROR, False),
        ("http_429", ErrorKind.THROTTLED, False),
        ("applied_then_500", ErrorKind.SERVER_ERROR, True),
        ("connection_reset", ErrorKind.TIMEOUT_AFTER_SEND, False),
    ],
)
def test_faults_on_a_create(
    admin: httpx.Client, connect: Connect, kind: str, expected: ErrorKind, applied: bool
) -> None:
    seed_basic(admin)
    c = connect()
    add_fault(admin, "ContractServiceAdjustments", kind, count=1)
    with pytest.raises(PsaError) as raised:
        c.create_adjustment(_adjust(date(2026, 4, 1), 4))
    assert raised.value.kind is expected
    assert stats(admin)["requests"]["ContractServiceAdjustments"] == 1  # a create is never retried
    assert _units_on(c, date(2026, 4, 1)) == (4 if applied else 0)


@pytest.mark.parametrize(("kind", "applied"), [("timeout", False), ("timeout_after_apply", True)])
def test_a_create_without_an_answer_is_an_unknown_outcome(
    admin: httpx.Client, connect: Connect, kind: str, applied: bool
) -> None:
    seed_basic(admin)
    c = connect(settings=ClientSettings(read_timeout_seconds=0.5))
    add_fault(admin, "ContractServiceAdjustments", kind, count=1, delay_seconds=2)
    with pytest.raises(PsaError) as raised:
        c.create_adjustment(_adjust(date(2026, 4, 1), 4))
    assert raised.value.kind is ErrorKind.TIMEOUT_AFTER_SEND and raised.value.outcome_unknown
    admin.delete("/sandbox/faults").raise_for_status()
    assert _units_on(c, date(2026, 4, 1)) == (4 if applied else 0)


def test_thread_threshold_answers_are_retried(admin: httpx.Client, connect: Connect) -> None:
    seed_basic(admin)
    c = connect()
    add_fault(admin, "ContractServiceAdjustments", "thread_threshold", count=2)
    assert c.create_adjustment(_adjust(date(2026, 5, 1), 1)) > 0
    assert stats(admin)["adjustments_created"] == 1


def test_persistent_thread_threshold_is_reported(admin: httpx.Client, connect: Connect) -> None:
    seed_basic(admin)
    c = connect()
    add_fault(admin, "ContractServiceAdjustments", "thread_threshold")
    with pytest.raises(PsaError) as raised:
        c.create_adjustment(_adjust(date(2026, 5, 1), 1))
    assert raised.value.kind is ErrorKind.THREAD_THRESHOLD
    assert stats(admin)["adjustments_created"] == 0


@pytest.mark.parametrize("kind", ["http_500", "http_503", "connection_reset", "timeout"])
def test_reads_recover_from_a_passing_fault(admin: httpx.Client, connect: Connect, kind: str) -> None:
    seed_basic(admin)
    c = connect(settings=ClientSettings(read_timeout_seconds=1.0, read_retry_backoff_seconds=0.02))
    add_fault(admin, "ContractServiceUnits", kind, count=1, delay_seconds=5)
    assert len(c.service_units(CONTRACT_SERVICE_ID, date(2026, 1, 1), date(2026, 1, 31))) == 1


def test_bad_credentials_are_auth(admin: httpx.Client, connect: Connect) -> None:
    seed_basic(admin)
    c = connect(secret="wrong-secret-value")
    with pytest.raises(PsaError) as raised:
        c.find_contracts(1)
    assert (raised.value.kind, raised.value.status_code) == (ErrorKind.AUTH, 401)
    assert c.last_exchange is not None and c.last_exchange.response_body == ""


def test_nothing_listening_is_timeout_before_send(checker: ContractChecker) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the call: nobody listens there
    client = AutotaskClient(
        Credentials("u@example.test", "x-secret", "code"),
        base_url=f"http://127.0.0.1:{port}/atservicesrest/v1.0",
        transport=ValidatingTransport(httpx.HTTPTransport(), checker),
        settings=ClientSettings(read_retries=0),
        outbound=OutboundPolicy.allowing(f"http://127.0.0.1:{port}"),
    )
    with client, pytest.raises(PsaError) as raised:
        AutotaskConnector(client).create_adjustment(_adjust(date(2026, 1, 1), 1))
    assert raised.value.kind is ErrorKind.TIMEOUT_BEFORE_SEND


def test_the_sandbox_budget_answers_throttled(admin: httpx.Client, connect: Connect) -> None:
    seed_basic(admin)
    admin.post("/sandbox/limits", json={"budget": 3, "reset_window": True}).raise_for_status()
    c = connect()
    c.find_contracts(1)
    c.find_contracts(1)
    c.find_contracts(1)
    with pytest.raises(PsaError) as raised:
        c.find_contracts(1)
    assert raised.value.kind is ErrorKind.THROTTLED
    assert raised.value.message.startswith("API request limit exceeded")


def test_our_budget_slows_down_before_autotasks_cap(checker: ContractChecker) -> None:
    """Sandbox and connector share a manual clock: the connector's waits move both."""
    clock = ManualClock(datetime(2026, 6, 1, 8, 0, tzinfo=UTC))
    config = SandboxConfig(budget=10, clock=clock)
    with SandboxServer(config) as server, httpx.Client(base_url=server.base_url) as admin:
        seed_basic(admin)
        budget = RollingWindowBudget(clock, clock, limit=8)
        client = AutotaskClient(
            Credentials(server.username, server.secret, server.integration_code),
            base_url=server.api_url,
            transport=ValidatingTransport(httpx.HTTPTransport(), checker),
            settings=FAST,
            budget=budget,
            sleeper=clock,
            outbound=OutboundPolicy.allowing(server.base_url),
        )
        with client:
            connector = AutotaskConnector(client)
            for _ in range(30):
                assert [c.id for c in connector.find_contracts(1)] == [CONTRACT_ID]
        assert "budget" not in stats(admin)["rejections"]
        assert stats(admin)["requests"]["Contracts"] == 30
    assert clock.now() >= datetime(2026, 6, 1, 10, 0, tzinfo=UTC)  # 30 requests at 8 an hour


def test_at_most_three_in_flight_per_endpoint_and_nothing_lost(admin: httpx.Client, connect: Connect) -> None:
    seed_basic(admin)
    c = connect()
    # Every read is held a moment after it is answered, so concurrent calls overlap.
    add_fault(admin, "ContractServiceUnits", "timeout_after_apply", count=8, delay_seconds=1)
    results: list[int] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            results.append(len(c.service_units(CONTRACT_SERVICE_ID, date(2026, 1, 1), date(2026, 2, 28))))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and results == [2] * 8
    snapshot = stats(admin)
    assert snapshot["max_in_flight"]["ContractServiceUnits"] <= 3
    assert snapshot["requests"]["ContractServiceUnits"] == 8
    assert "thread_threshold" not in snapshot["rejections"]


def test_two_processes_worth_of_clients_retry_the_thread_limit(admin: httpx.Client, connect: Connect) -> None:
    """Two connectors do not share a semaphore (like two worker processes): Autotask's own
    limit refuses the excess, and the retries get everything through."""
    seed_basic(admin)
    # Generous retries: how long the others hold the slots must not decide the outcome.
    patient = ClientSettings(thread_threshold_retries=12, thread_threshold_backoff_seconds=0.1)
    first, second = connect(settings=patient), connect(settings=patient)
    add_fault(admin, "ContractServiceUnits", "timeout_after_apply", count=8, delay_seconds=1)
    results: list[int] = []
    errors: list[BaseException] = []

    def read(connector: AutotaskConnector) -> None:
        try:
            results.append(
                len(connector.service_units(CONTRACT_SERVICE_ID, date(2026, 1, 1), date(2026, 1, 31)))
            )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read, args=(first if i % 2 else second,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and results == [1] * 8
    assert stats(admin)["max_in_flight"]["ContractServiceUnits"] <= 3


def test_secrets_appear_in_no_record_log_or_exception(
    admin: httpx.Client,
    connect: Connect,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    seed_basic(admin)
    records: list[ExchangeRecord] = []
    texts: list[str] = []
    with structlog.testing.capture_logs() as logs:
        good = connect(on_exchange=records.append, settings=replace(FAST, read_timeout_seconds=0.5))
        bad = connect(secret="Wrong-" + SECRETS[0], on_exchange=records.append)
        good.find_companies(name="Contoso Ltd")
        good.create_adjustment(_adjust(date(2026, 2, 1), 1))
        add_fault(admin, "ContractServiceAdjustments", "applied_then_500", count=1)
        add_fault(admin, "Contracts", "connection_reset", count=1)
        add_fault(admin, "ContractServiceUnits", "timeout", count=3, delay_seconds=2)
        failing_calls = [
            lambda: good.create_adjustment(_adjust(date(2026, 2, 1), 1)),  # duplicate
            lambda: good.create_adjustment(_adjust(date(2026, 3, 1), 1)),  # applied, then 500
            lambda: good.get_contract(CONTRACT_ID),  # reset, then retried
            lambda: good.service_units(CONTRACT_SERVICE_ID, date(2026, 1, 1), date(2026, 1, 31)),  # timeouts
            lambda: bad.find_contracts(1),  # 401
        ]
        for call in failing_calls:
            try:
                call()
            except PsaError as exc:
                texts += [str(exc), repr(exc), exc.message]
    texts += [repr(r) for r in records] + [repr(logs), caplog.text]
    captured = capsys.readouterr()
    texts += [captured.out, captured.err]
    assert len(records) >= 10
    assert {r.status_code for r in records} >= {200, 401, 500, None}
    forms = {form for secret in SECRETS for form in (secret, quote(secret, safe=""), quote_plus(secret))}
    leaks = [(form, text) for text in texts for form in forms if form in text]
    assert leaks == []
    assert "zoneInformation?user=***" in caplog.text  # httpx's own request line, masked
    assert all(r.request_headers["Secret"] == "***" for r in records)


def test_billing_items_of_posted_periods_match_the_vendor_document(
    admin: httpx.Client, connect: Connect
) -> None:
    """Also pins the live-only BillingItems.contractServiceID (absent from the vendor document)."""
    seed_basic(admin)
    c = connect()
    c.create_adjustment(_adjust(date(2026, 1, 1), 2))
    admin.post("/sandbox/post-periods", json={"through": "2026-02-28"}).raise_for_status()
    items = c.client.query("BillingItems", [eq("contractID", CONTRACT_ID)])
    assert len(items) == 2
    assert {item["contractServiceID"] for item in items} == {CONTRACT_SERVICE_ID}
    assert c.client.count("BillingItems", [eq("contractID", CONTRACT_ID)]) == 2
