"""The client over MockTransport: headers, paging, exact money, zone discovery, redaction."""

from __future__ import annotations

import json
import logging
from datetime import date
from decimal import Decimal
from urllib.parse import quote, quote_plus

import httpx
import pytest
import structlog

from contractsync.adapters.autotask import ClientSettings
from contractsync.adapters.autotask.adjustments import AdjustmentRequest
from contractsync.adapters.autotask.wire import dumps
from contractsync.ports.psa import ErrorKind, PsaError

from .mock_autotask import BASE_URL, CREDENTIALS, SECRET_VALUES, Harness, answer, body_of


def _contract_service(i: int) -> dict[str, object]:
    return {"id": i, "contractID": 100, "serviceID": 5, "unitPrice": 1.5, "unitCost": 1}


def test_every_call_carries_the_auth_headers() -> None:
    harness = Harness(lambda request: answer(200, {"item": None}))
    with pytest.raises(PsaError):
        harness.connector.get_contract(1)
    headers = harness.requests[0].headers
    assert headers["ApiIntegrationCode"] == CREDENTIALS.integration_code
    assert headers["UserName"] == CREDENTIALS.username
    assert headers["Secret"] == CREDENTIALS.secret
    assert headers["Content-Type"] == "application/json"


def test_query_follows_next_page_urls_by_post_with_the_same_body_until_null() -> None:
    pages = {
        1: ([_contract_service(i) for i in range(0, 3)], f"{BASE_URL}/ContractServices/query/next?page=2"),
        2: ([_contract_service(i) for i in range(3, 6)], f"{BASE_URL}/ContractServices/query/next?page=3"),
        3: ([_contract_service(6)], None),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"  # Autotask answers a GET on a POST query's next page with 405
        page = int(request.url.params.get("page", 1))
        items, next_url = pages[page]
        return answer(
            200,
            {
                "items": items,
                "pageDetails": {
                    "count": len(items),
                    "requestCount": 3,
                    "prevPageUrl": None,
                    "nextPageUrl": next_url,
                },
            },
        )

    harness = Harness(handler, settings=ClientSettings(page_size=3))
    services = harness.connector.find_contract_services(100)
    assert [s.id for s in services] == list(range(7))
    assert [r.method for r in harness.requests] == ["POST", "POST", "POST"]
    for request in harness.requests:
        assert body_of(request) == {
            "filter": [{"op": "eq", "field": "contractID", "value": 100}],
            "MaxRecords": 3,
        }
    assert all(r.headers["Secret"] == CREDENTIALS.secret for r in harness.requests)


def test_paging_never_sends_credentials_to_another_host() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return answer(200, {"items": [], "pageDetails": {"nextPageUrl": "https://evil.example/next"}})

    harness = Harness(handler)
    with pytest.raises(PsaError, match="another host"):
        harness.connector.find_contract_services(100)
    assert len(harness.requests) == 1


def test_paging_that_repeats_itself_is_stopped() -> None:
    loop = f"{BASE_URL}/ContractServices/query/next?page=2"
    harness = Harness(lambda request: answer(200, {"items": [], "pageDetails": {"nextPageUrl": loop}}))
    with pytest.raises(PsaError, match="paging does not end"):
        harness.connector.find_contract_services(100)


def test_money_goes_out_digit_for_digit() -> None:
    harness = Harness(lambda request: answer(200, {"itemId": 9}))
    harness.connector.create_adjustment(
        AdjustmentRequest(100, 200, date(2026, 3, 1), -2, Decimal("12.3456"), Decimal("123456789.1200"))
    )
    raw = harness.requests[0].content.decode()
    assert '"adjustedUnitPrice":12.3456' in raw
    assert '"adjustedUnitCost":123456789.1200' in raw
    assert json.loads(raw, parse_float=Decimal)["adjustedUnitPrice"] == Decimal("12.3456")
    assert body_of(harness.requests[0]) == {
        "contractID": 100,
        "contractServiceID": 200,
        "effectiveDate": "2026-03-01T00:00:00",
        "unitChange": -2,
        "adjustedUnitPrice": 12.3456,
        "adjustedUnitCost": 123456789.12,
    }


def test_money_comes_back_exact() -> None:
    raw = (
        '{"items":[{"id":1,"contractID":100,"contractServiceID":200,"serviceID":5,'
        '"startDate":"2026-03-01T00:00:00","endDate":"2026-03-31T00:00:00","units":4,'
        '"price":12.3456,"cost":0.1,"approveAndPostDate":null}],"pageDetails":{"nextPageUrl":null}}'
    )
    harness = Harness(lambda request: answer(200, raw=raw))
    [period] = harness.connector.service_units(200, date(2026, 3, 1), date(2026, 3, 31))
    assert period.price == Decimal("12.3456")
    assert period.cost == Decimal("0.1")


@pytest.mark.parametrize("amount", [Decimal("1.23456"), Decimal("NaN"), Decimal("Infinity")])
def test_amounts_autotask_cannot_hold_are_refused_before_sending(amount: Decimal) -> None:
    harness = Harness(lambda request: answer(200, {"itemId": 1}))
    with pytest.raises(PsaError) as raised:
        harness.connector.create_adjustment(AdjustmentRequest(1, 2, date(2026, 1, 1), 1, amount, Decimal(1)))
    assert raised.value.kind is ErrorKind.REJECTED
    assert harness.requests == []


def test_zone_discovery_finds_the_tenants_api_once() -> None:
    zone = "https://webservices5.autotask.net/atservicesrest/"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/zoneInformation"):
            return answer(
                200, {"zoneName": "Zone 5", "url": zone, "webUrl": "https://ww5.autotask.net/", "ci": 5}
            )
        return answer(200, {"item": None})

    harness = Harness(handler, base_url=None, zone_root="https://webservices.autotask.net")
    for _ in range(2):
        with pytest.raises(PsaError):
            harness.connector.get_contract(3)
    urls = [str(r.url) for r in harness.requests]
    assert urls[0] == (
        "https://webservices.autotask.net/atservicesrest/v1.0/zoneInformation?user=api-user%40msp.example"
    )
    assert urls[1:] == ["https://webservices5.autotask.net/atservicesrest/v1.0/Contracts/3"] * 2


def test_secrets_stay_out_of_exchange_records_logs_and_exceptions(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # Autotask echoing the user name back must not leak it either.
    echo = {"errors": [f"Unable to authenticate {CREDENTIALS.username} with {CREDENTIALS.secret}"]}
    answers = iter([answer(503), answer(500, echo)])
    harness = Harness(
        lambda request: next(answers), base_url=None, zone_root="https://webservices.autotask.net"
    )
    with structlog.testing.capture_logs() as logs, pytest.raises(PsaError) as raised:
        harness.connector.find_contracts(1)
    texts = [str(raised.value), raised.value.message, repr(raised.value), caplog.text, repr(logs)]
    texts += [repr(record) for record in harness.exchanges]
    texts.append(repr(harness.client))
    texts.append(repr(CREDENTIALS))
    forms = {
        form for secret in SECRET_VALUES for form in (secret, quote(secret, safe=""), quote_plus(secret))
    }
    assert [(form, text) for text in texts for form in forms if form in text] == []
    assert "zoneInformation?user=***" in caplog.text  # httpx's own request line, masked
    assert harness.exchanges[0].request_headers["Secret"] == "***"
    assert "user=***" in harness.exchanges[0].url
    assert any(entry["event"] == "autotask.retry" for entry in logs)


def test_every_exchange_is_recorded_and_the_last_is_kept_per_thread() -> None:
    harness = Harness(lambda request: answer(200, {"itemId": 5}))
    harness.connector.create_adjustment(AdjustmentRequest(1, 2, date(2026, 1, 1), 1, Decimal(1), Decimal(1)))
    record = harness.connector.last_exchange
    assert record is not None and record == harness.exchanges[-1]
    assert (record.method, record.status_code, record.response_body) == ("POST", 200, '{"itemId": 5}')
    assert record.url == f"{BASE_URL}/ContractServiceAdjustments"
    assert record.request_body is not None and '"unitChange":1' in record.request_body


def test_the_wire_encoder_writes_exact_json_and_refuses_floats() -> None:
    body = {"a": [Decimal("0.0001"), Decimal("-12.5000"), 3, True, None, 'é"x'], "d": date(2026, 2, 28)}
    text = dumps(body)
    assert text == '{"a":[0.0001,-12.5000,3,true,null,"é\\"x"],"d":"2026-02-28T00:00:00"}'
    assert json.loads(text)["a"][5] == 'é"x'
    with pytest.raises(TypeError):
        dumps({"price": 12.3456})
