"""HTTP answers and transport failures -> PsaError kinds (MockTransport, no network)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import httpx
import pytest

from contractsync.adapters.autotask import AutotaskClient, Credentials
from contractsync.adapters.autotask.adjustments import AdjustmentRequest
from contractsync.adapters.autotask.errors import classify_response, classify_transport_error
from contractsync.adapters.autotask.outbound import OutboundPolicy
from contractsync.ports.psa import ErrorKind, PsaError
from contractsync.sandbox import errors as sandbox_errors
from contractsync.sandbox.server import SandboxServer

from .mock_autotask import Harness, answer

DUPLICATE = "Attempt to insert duplicate data into contract_service_period."
OUTSIDE = "The effective date must be within the contract's start and end dates."
POSTED = (
    "Unable to make changes as it would result in the deletion/modification of an already approved "
    "and posted contract period."
)
UNKNOWN_ID = "contractServiceID: no ContractServices entity with id 999 exists."

ADJUSTMENT = AdjustmentRequest(
    contract_id=100,
    contract_service_id=200,
    effective_date=date(2026, 2, 1),
    unit_change=3,
    adjusted_unit_price=Decimal("12.3456"),
    adjusted_unit_cost=Decimal("10"),
)


def _errors(*messages: str) -> str:
    return json.dumps({"errors": list(messages)})


@pytest.mark.parametrize(
    "message",
    [
        DUPLICATE,
        OUTSIDE,
        POSTED,
        UNKNOWN_ID,
        "unitChange is required.",
        "unitChange: the adjustment would leave the contract service with fewer than 0 units.",
        "Value does not reference an existing entity for taskType . ",
    ],
)
def test_business_rejections_are_final_and_keep_autotasks_words(message: str) -> None:
    error = classify_response(500, _errors(message), what="POST /x")
    assert error.kind is ErrorKind.REJECTED
    assert error.message == message.strip()  # on one line (errors.excerpt), words unchanged
    assert error.final and not error.outcome_unknown


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (500, "", ErrorKind.SERVER_ERROR),
        (500, _errors("Object reference not set to an instance of an object."), ErrorKind.SERVER_ERROR),
        (500, "<html>oops</html>", ErrorKind.SERVER_ERROR),
        # Autotask's generic answer (a required field left out among its causes) says nothing
        # about whether anything was written: outcome unknown, never a final rejection.
        (500, _errors(sandbox_errors.UNEXPECTED_ERROR), ErrorKind.SERVER_ERROR),
        (500, _errors("maxCountOfRecordsToReturn must be between 1 and 500"), ErrorKind.REJECTED),
        (502, _errors("bad gateway"), ErrorKind.SERVER_ERROR),
        (503, "", ErrorKind.SERVER_ERROR),
        (504, "", ErrorKind.SERVER_ERROR),
        (401, "", ErrorKind.AUTH),
        (403, "", ErrorKind.AUTH),
        (404, "", ErrorKind.NOT_FOUND),
        (429, _errors("API request limit exceeded: 10000 requests per 60 minutes."), ErrorKind.THROTTLED),
        (429, _errors("Thread Threshold Exceeded"), ErrorKind.THREAD_THRESHOLD),
        (400, _errors("The request body is not valid JSON"), ErrorKind.REJECTED),
    ],
)
def test_status_and_text_decide_the_kind(status: int, body: str, kind: ErrorKind) -> None:
    error = classify_response(status, body, what="POST /x")
    assert error.kind is kind
    assert error.status_code == status


def test_any_other_5xx_leaves_the_outcome_unknown() -> None:
    assert classify_response(503, "", what="x").outcome_unknown


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (httpx.ConnectError("refused"), ErrorKind.TIMEOUT_BEFORE_SEND),
        (httpx.ConnectTimeout("slow"), ErrorKind.TIMEOUT_BEFORE_SEND),
        (httpx.PoolTimeout("busy"), ErrorKind.TIMEOUT_BEFORE_SEND),
        (httpx.ReadTimeout("slow"), ErrorKind.TIMEOUT_AFTER_SEND),
        (httpx.WriteTimeout("slow"), ErrorKind.TIMEOUT_AFTER_SEND),
        (httpx.ReadError("reset by peer"), ErrorKind.TIMEOUT_AFTER_SEND),
        (httpx.RemoteProtocolError("incomplete chunked read"), ErrorKind.TIMEOUT_AFTER_SEND),
    ],
)
def test_transport_failures(exc: httpx.TransportError, kind: ErrorKind) -> None:
    assert classify_transport_error(exc, what="POST /x").kind is kind


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (500, _errors(DUPLICATE), ErrorKind.REJECTED),
        (500, "", ErrorKind.SERVER_ERROR),
        (401, "", ErrorKind.AUTH),
        (429, _errors("API request limit exceeded: 1 requests per 60 minutes."), ErrorKind.THROTTLED),
    ],
)
def test_connector_raises_only_psa_errors_and_never_retries_a_create(
    status: int, body: str, kind: ErrorKind
) -> None:
    harness = Harness(lambda request: answer(status, raw=body))
    with pytest.raises(PsaError) as raised:
        harness.connector.create_adjustment(ADJUSTMENT)
    assert raised.value.kind is kind
    assert len(harness.requests) == 1


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (httpx.ConnectError("refused"), ErrorKind.TIMEOUT_BEFORE_SEND),
        (httpx.ReadTimeout("slow"), ErrorKind.TIMEOUT_AFTER_SEND),
        (httpx.RemoteProtocolError("peer closed connection"), ErrorKind.TIMEOUT_AFTER_SEND),
    ],
)
def test_create_transport_failures_are_not_retried(exc: httpx.TransportError, kind: ErrorKind) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise exc

    harness = Harness(fail)
    with pytest.raises(PsaError) as raised:
        harness.connector.create_adjustment(ADJUSTMENT)
    assert raised.value.kind is kind
    assert len(harness.requests) == 1
    assert harness.exchanges[-1].status_code is None
    assert harness.exchanges[-1].error == raised.value.message


def test_reads_are_retried_a_bounded_number_of_times_then_fail() -> None:
    harness = Harness(lambda request: answer(503))
    with pytest.raises(PsaError) as raised:
        harness.connector.find_contract_services(100)
    assert raised.value.kind is ErrorKind.SERVER_ERROR
    assert len(harness.requests) == 1 + harness.settings.read_retries
    assert harness.sleeps == [1.0, 2.0]


def test_a_read_that_recovers_answers_normally() -> None:
    answers = iter([answer(503), answer(200, {"items": [], "pageDetails": {"nextPageUrl": None}})])
    harness = Harness(lambda request: next(answers))
    assert harness.connector.find_contract_services(100) == []


def test_thread_threshold_is_retried_after_a_backoff_even_for_a_create() -> None:
    answers = iter(
        [
            answer(429, {"errors": ["Thread Threshold Exceeded"]}),
            answer(429, {"errors": ["Thread Threshold Exceeded"]}),
            answer(200, {"itemId": 77}),
        ]
    )
    harness = Harness(lambda request: next(answers))
    assert harness.connector.create_adjustment(ADJUSTMENT) == 77
    assert harness.sleeps == [0.5, 1.0]


def test_thread_threshold_gives_up_after_the_bound() -> None:
    harness = Harness(lambda request: answer(429, {"errors": ["Thread Threshold Exceeded"]}))
    with pytest.raises(PsaError) as raised:
        harness.connector.create_adjustment(ADJUSTMENT)
    assert raised.value.kind is ErrorKind.THREAD_THRESHOLD
    assert len(harness.requests) == 1 + harness.settings.thread_threshold_retries


def test_a_success_with_an_unreadable_body_is_an_unknown_outcome() -> None:
    harness = Harness(lambda request: answer(200, raw="<html>proxy</html>"))
    with pytest.raises(PsaError) as raised:
        harness.connector.create_adjustment(ADJUSTMENT)
    assert raised.value.outcome_unknown


METHOD_NOT_ALLOWED = json.dumps({"Message": "The requested resource does not support http method 'GET'."})


def test_a_405_message_body_is_a_rejection_with_its_text() -> None:
    error = classify_response(405, METHOD_NOT_ALLOWED, what="GET /Contracts/query/next")
    assert error.kind is ErrorKind.REJECTED and error.status_code == 405 and error.final
    assert error.message == (
        "GET /Contracts/query/next: HTTP 405: The requested resource does not support http method 'GET'."
    )


@pytest.mark.parametrize(
    ("status", "body", "kind", "text"),
    [
        # A proxy's page says "invalid": still an unknown outcome, and the text is kept short.
        (
            502,
            "<html><body>Invalid gateway " + "x" * 400 + "</body></html>",
            ErrorKind.SERVER_ERROR,
            "Invalid gateway",
        ),
        (500, "<html>Required maintenance</html>", ErrorKind.SERVER_ERROR, "Required maintenance"),
        (400, "Bad Request - Invalid URL", ErrorKind.REJECTED, "Bad Request - Invalid URL"),
        (
            500,
            json.dumps({"message": "An error has occurred."}),
            ErrorKind.SERVER_ERROR,
            "An error has occurred.",
        ),
        (
            404,
            json.dumps({"Message": "No HTTP resource was found."}),
            ErrorKind.NOT_FOUND,
            "No HTTP resource",
        ),
    ],
)
def test_bodies_other_than_errors_become_typed_errors_with_their_text(
    status: int, body: str, kind: ErrorKind, text: str
) -> None:
    error = classify_response(status, body, what="POST /x")
    assert error.kind is kind and error.status_code == status
    assert text in error.message and len(error.message) < 300


def test_a_405_from_the_sandbox_reaches_the_caller_typed(sandbox: SandboxServer, admin: httpx.Client) -> None:
    """Adjustments cannot be read back: the sandbox answers a GET by id with ASP.NET's 405."""
    credentials = Credentials(sandbox.username, sandbox.secret, sandbox.integration_code)
    outbound = OutboundPolicy.allowing(sandbox.base_url)
    with (
        AutotaskClient(credentials, base_url=sandbox.api_url, outbound=outbound) as client,
        pytest.raises(PsaError) as raised,
    ):
        client.get("ContractServiceAdjustments", 500000)
    assert (raised.value.kind, raised.value.status_code) == (ErrorKind.REJECTED, 405)
    assert raised.value.message.endswith(
        "HTTP 405: The requested resource does not support http method 'GET'."
    )
