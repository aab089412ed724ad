"""Fault injection and the thread limit. No timing asserts: held requests are released by
clearing the faults, and the tests poll the sandbox's in-flight counters."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from contractsync.sandbox import errors

from .conftest import Api, decode, make_contract

ENDPOINT = "ContractServiceAdjustments"


def adjustment(ids: dict[str, int], day: str = "2024-03-01", change: int = 1) -> dict[str, Any]:
    return {
        "contractID": ids["contract"],
        "contractServiceID": ids["contract_service"],
        "effectiveDate": day,
        "unitChange": change,
    }


def units_on(api: Api, ids: dict[str, int]) -> int:
    changes = api.admin("GET", f"contract-services/{ids['contract_service']}/timeline")["changes"]
    return int(changes[-1]["units"]) if changes else 0


def in_background(api: Api, body: dict[str, Any], results: list[Any]) -> threading.Thread:
    def send() -> None:
        try:
            results.append(api.post(ENDPOINT, body))
        except httpx.HTTPError as exc:
            results.append(exc)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def test_fourth_concurrent_request_gets_thread_threshold_exceeded(api: Api) -> None:
    ids = make_contract(api)
    api.admin("POST", "faults", {"endpoint": ENDPOINT, "kind": "timeout", "delay_seconds": 60})
    results: list[Any] = []
    threads = [in_background(api, adjustment(ids, f"2024-03-0{n + 1}"), results) for n in range(3)]
    api.wait_in_flight(ENDPOINT, 3)
    fourth = api.post(ENDPOINT, adjustment(ids, "2024-04-01"))
    assert fourth.status_code == 429 and decode(fourth) == {"errors": [errors.THREAD_THRESHOLD]}
    # Other endpoints and other integrations are not limited by it.
    assert api.get("Companies/1").status_code == 200
    api.admin("DELETE", "faults")  # releases the held requests
    for thread in threads:
        thread.join(timeout=30)
    assert [r.status_code for r in results] == [504, 504, 504]
    assert units_on(api, ids) == 0  # a "timeout" is never applied
    stats = api.admin("GET", "stats")
    assert stats["max_in_flight"][ENDPOINT] == 3 and stats["rejections"]["thread_threshold"] == 1


@pytest.mark.parametrize(
    ("kind", "status", "message"),
    [
        ("http_500", 500, None),
        ("http_503", 503, None),
        ("http_429", 429, "API request limit exceeded: 10000 requests per 60 minutes."),
        ("thread_threshold", 429, errors.THREAD_THRESHOLD),
    ],
)
def test_error_faults_do_not_apply(api: Api, kind: str, status: int, message: str | None) -> None:
    ids = make_contract(api)
    api.admin("POST", "faults", {"endpoint": ENDPOINT, "kind": kind, "count": 1})
    response = api.post(ENDPOINT, adjustment(ids))
    assert response.status_code == status
    found = decode(response)["errors"]
    assert found and (message is None or found == [message])
    assert units_on(api, ids) == 0
    # count=1: the next request goes through.
    assert api.post(ENDPOINT, adjustment(ids)).status_code == 200
    assert units_on(api, ids) == 1
    assert api.admin("GET", "stats")["faults_injected"] == {kind: 1}


def test_applied_then_500(api: Api) -> None:
    ids = make_contract(api)
    api.admin("POST", "faults", {"endpoint": "*", "kind": "applied_then_500", "count": 1})
    response = api.post(ENDPOINT, adjustment(ids))
    assert response.status_code == 500 and decode(response)["errors"]
    assert units_on(api, ids) == 1
    retry = api.post(ENDPOINT, adjustment(ids))  # a blind retry hits the same-date rule
    assert decode(retry) == {"errors": [errors.DUPLICATE_DATE]}


def test_connection_reset_gives_the_client_no_answer_and_applies_nothing(api: Api) -> None:
    ids = make_contract(api)
    api.admin("POST", "faults", {"endpoint": ENDPOINT, "kind": "connection_reset", "count": 1})
    with pytest.raises(httpx.TransportError):
        api.post(ENDPOINT, adjustment(ids))
    assert units_on(api, ids) == 0
    assert api.post(ENDPOINT, adjustment(ids)).status_code == 200


@pytest.mark.parametrize(("kind", "applied"), [("timeout", 0), ("timeout_after_apply", 1)])
def test_timeouts_hold_the_request(server: Any, api: Api, kind: str, applied: int) -> None:
    ids = make_contract(api)
    api.admin("POST", "faults", {"endpoint": ENDPOINT, "kind": kind, "count": 1, "delay_seconds": 60})
    impatient = Api(server, timeout=0.5)
    try:
        with pytest.raises(httpx.ReadTimeout):
            impatient.post(ENDPOINT, adjustment(ids))
    finally:
        impatient.close()
    api.admin("DELETE", "faults")
    api.wait_in_flight(ENDPOINT, 0)
    assert units_on(api, ids) == applied


def test_rate_faults_are_repeatable_with_the_seeded_rng(api: Api) -> None:
    def run() -> list[int]:
        api.admin("POST", "reset")
        api.admin("POST", "faults", {"endpoint": "Companies", "kind": "http_503", "rate": 0.5})
        codes = [api.get("Companies/1").status_code for _ in range(20)]
        api.admin("DELETE", "faults")
        return codes

    first = run()
    assert set(first) == {200, 503}
    assert run() == first
    # Faults only hit their endpoint.
    api.admin("POST", "faults", {"endpoint": "Companies", "kind": "http_500"})
    assert api.get("Contracts/1").status_code == 200


def test_bad_fault_definitions_are_refused(api: Api) -> None:
    response = api.admin_http.post("/sandbox/faults", json={"kind": "gremlins"})
    assert response.status_code == 400 and decode(response)["errors"]


def test_latency_holds_a_request_and_then_answers_it_normally(api: Api) -> None:
    ids = make_contract(api)
    api.admin("POST", "faults", {"endpoint": ENDPOINT, "kind": "latency", "count": 1, "delay_seconds": 60})
    results: list[Any] = []
    thread = in_background(api, adjustment(ids), results)
    api.wait_in_flight(ENDPOINT, 1)
    assert results == [] and units_on(api, ids) == 0  # held: not applied yet
    api.admin("DELETE", "faults")  # lets it go
    thread.join(timeout=30)
    assert [r.status_code for r in results] == [200] and "itemId" in decode(results[0])
    assert units_on(api, ids) == 1
