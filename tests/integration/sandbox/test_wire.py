"""The REST envelope: zone discovery, auth, queries and paging, limits."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from contractsync.adapters.clock import ManualClock
from contractsync.sandbox.server import SandboxServer

from .conftest import Api, decode, make_contract


def test_zone_information_needs_no_auth(server: SandboxServer) -> None:
    response = httpx.get(f"{server.api_url}/zoneInformation", params={"user": server.username})
    assert response.status_code == 200
    assert response.json() == {
        "zoneName": "Sandbox",
        "url": f"{server.base_url}/atservicesrest/",
        "webUrl": server.base_url,
        "ci": 0,
    }


def test_bad_or_missing_credentials_get_an_empty_401(server: SandboxServer, api: Api) -> None:
    url = f"{server.api_url}/Companies/query"
    wrong = server.headers | {"Secret": "wrong"}
    for headers in (wrong, {}, server.headers | {"ApiIntegrationCode": "OTHER"}):
        response = httpx.post(url, json={"filter": []}, headers=headers)
        assert response.status_code == 401 and response.content == b""
    assert api.post("Companies/query", {"filter": []}).status_code == 200


def seed_many(api: Api, count: int) -> dict[str, Any]:
    company, contract, first_service = 7, 70, 1000
    body = {
        "companies": [{"id": company, "companyName": "Contoso Ltd", "companyType": 1}],
        "contracts": [
            {
                "id": contract,
                "companyID": company,
                "contractName": "Big",
                "contractType": 7,
                "startDate": "2024-01-01",
                "endDate": "2025-12-31",
            }
        ],
        "services": [
            {"id": first_service + n, "name": f"Service {n}", "unitPrice": "1.5", "unitCost": 1}
            for n in range(count)
        ],
        "contractServices": [{"contractID": contract, "serviceID": first_service + n} for n in range(count)],
    }
    created: dict[str, Any] = api.admin("POST", "seed", body)
    return created


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_paging_follows_next_page_url_over_1200_contract_services(api: Api, method: str) -> None:
    """Next pages are fetched with the method of the first request; a POST sends its body again."""
    created = seed_many(api, 1200)
    assert len(created["contractServices"]) == 1200
    query = {"filter": [{"op": "eq", "field": "contractid", "value": 70}], "MaxRecords": 500}

    def send(url: str) -> httpx.Response:
        if method == "POST":
            return api.http.post(url, json=query)
        return api.http.get(url, params=None if "?" in url else {"search": json.dumps(query)})

    response = send(api.url("ContractServices/query"))
    pages: list[list[int]] = []
    while True:
        assert response.status_code == 200, response.text
        body = decode(response)
        pages.append([item["id"] for item in body["items"]])
        assert body["pageDetails"]["count"] == len(body["items"])
        assert body["pageDetails"]["requestCount"] == 500
        next_url = body["pageDetails"]["nextPageUrl"]
        if next_url is None:
            break
        assert next_url.startswith("http://127.0.0.1:") and "/ContractServices/query/next?paging=" in next_url
        response = send(next_url)
    assert [len(page) for page in pages] == [500, 500, 200]
    ids = [item for page in pages for item in page]
    assert ids == sorted(ids) == sorted(created["contractServices"])
    # The last page links back to the one before it, by the same method.
    prev = send(body["pageDetails"]["prevPageUrl"])
    assert [item["id"] for item in decode(prev)["items"]] == pages[1]
    count = api.post(
        "ContractServices/query/count", {"filter": [{"op": "eq", "field": "contractID", "value": 70}]}
    )
    assert decode(count) == {"queryCount": 1200}


@pytest.mark.parametrize(("first", "other"), [("POST", "GET"), ("GET", "POST")])
def test_a_next_page_by_the_other_method_is_a_405(api: Api, first: str, other: str) -> None:
    seed_many(api, 501)
    query = {"filter": [{"op": "eq", "field": "contractID", "value": 70}]}
    if first == "POST":
        response = api.post("ContractServices/query", query)
    else:
        response = api.get("ContractServices/query", search=json.dumps(query))
    next_url = decode(response)["pageDetails"]["nextPageUrl"]
    wrong = api.http.request(other, next_url, json=query if other == "POST" else None)
    assert wrong.status_code == 405
    assert decode(wrong) == {"Message": f"The requested resource does not support http method '{other}'."}
    right = api.http.request(first, next_url, json=query if first == "POST" else None)
    assert right.status_code == 200 and len(decode(right)["items"]) == 1


def test_a_post_next_page_without_its_body_fails_like_a_query_without_filter(api: Api) -> None:
    seed_many(api, 501)
    first = api.post("ContractServices/query", {"filter": [{"op": "eq", "field": "contractID", "value": 70}]})
    response = api.http.post(decode(first)["pageDetails"]["nextPageUrl"], json={})
    assert response.status_code == 500
    assert decode(response) == {"errors": ["Value cannot be null.\r\nParameter name: filters"]}


@pytest.mark.parametrize("max_records", [0, 501, -1, "ten"])
def test_max_records_outside_1_to_500_is_an_error(api: Api, max_records: object) -> None:
    seed_many(api, 1)
    response = api.post(
        "Services/query", {"filter": [{"op": "exist", "field": "id"}], "MaxRecords": max_records}
    )
    assert response.status_code == 500
    assert decode(response) == {"errors": ["maxCountOfRecordsToReturn must be between 1 and 500"]}
    assert len(api.query("Services", MaxRecords=1)) == 1 and len(api.query("Services", MaxRecords=500)) == 1


def test_a_query_without_filter_fails_and_an_empty_filter_matches_nothing(api: Api) -> None:
    seed_many(api, 3)
    for body in ({}, {"MaxRecords": 10}, {"filter": None}):
        response = api.post("Services/query", body)
        assert response.status_code == 500
        assert decode(response) == {"errors": ["Value cannot be null.\r\nParameter name: filters"]}
    empty = api.post("Services/query", {"filter": []})
    assert empty.status_code == 200 and decode(empty)["items"] == []
    assert decode(api.post("Services/query/count", {"filter": []})) == {"queryCount": 0}
    by_get = api.get("Services/query", search=json.dumps({"filter": []}))
    assert by_get.status_code == 200 and decode(by_get)["items"] == []
    assert len(api.query("Services", {"op": "exist", "field": "id"})) == 3


def test_every_item_carries_user_defined_fields(api: Api) -> None:
    ids = make_contract(api)
    for entity in ("Companies", "Contracts", "Services", "ContractServices", "ContractServiceUnits"):
        items = api.query(entity)
        assert items and all(item["userDefinedFields"] == [] for item in items), entity
    item = decode(api.get(f"Contracts/{ids['contract']}"))["item"]
    assert item["userDefinedFields"] == []


def test_get_query_with_search_parameter_and_include_fields(api: Api) -> None:
    make_contract(api)
    search = json.dumps(
        {
            "filter": [{"op": "beginsWith", "field": "companyname", "value": "conTOSO"}],
            "IncludeFields": ["companyName"],
        }
    )
    response = api.get("Companies/query", search=search)
    assert response.status_code == 200, response.text
    items = decode(response)["items"]
    assert len(items) == 1 and set(items[0]) == {"id", "companyName", "userDefinedFields"}


def test_filter_operators_and_groups(api: Api) -> None:
    created = seed_many(api, 10)
    services = created["services"]

    def names(*filters: dict[str, Any]) -> list[str]:
        return [item["name"] for item in api.query("Services", *filters)]

    assert names({"op": "in", "field": "id", "value": services[:3]}) == [
        "Service 0",
        "Service 1",
        "Service 2",
    ]
    assert names({"op": "gte", "field": "id", "value": services[8]}) == ["Service 8", "Service 9"]
    assert names(
        {"op": "lt", "field": "id", "value": services[1]}, {"op": "noteq", "field": "name", "value": "x"}
    ) == ["Service 0"]
    assert names(
        {
            "op": "or",
            "items": [
                {"op": "eq", "field": "name", "value": "service 4"},
                {"op": "contains", "field": "name", "value": "ice 7"},
            ],
        }
    ) == ["Service 4", "Service 7"]
    assert names(
        {
            "op": "and",
            "items": [
                {"op": "gt", "field": "unitPrice", "value": 1.4},
                {"op": "lte", "field": "id", "value": services[0]},
            ],
        }
    ) == ["Service 0"]
    assert names({"op": "exist", "field": "sku"}) == []
    assert len(names({"op": "notExist", "field": "sku"})) == 10
    bad = api.post("Services/query", {"filter": [{"op": "eq", "field": "nope", "value": 1}]})
    assert bad.status_code == 500 and decode(bad)["errors"]


def test_request_budget_over_a_rolling_hour(api: Api, clock: ManualClock) -> None:
    api.admin("POST", "limits", {"budget": 5})
    for _ in range(5):
        assert api.get("Companies/1").status_code == 200
    clock.advance(30 * 60)
    refused = api.get("Companies/1")
    assert refused.status_code == 429
    assert decode(refused) == {"errors": ["API request limit exceeded: 5 requests per 60 minutes."]}
    clock.advance(30 * 60)  # the first five leave the window
    assert api.get("ThresholdInformation").status_code == 200
    assert decode(api.get("ThresholdInformation")) == {
        "externalRequestThreshold": 5,
        "requestThresholdTimeframe": 60,
        "currentTimeframeRequestCount": 2,
    }
    assert api.admin("GET", "stats")["rejections"] == {"budget": 1}


def test_reset_empties_the_sandbox(api: Api) -> None:
    make_contract(api)
    api.admin("POST", "reset")
    assert api.query("Companies") == []


def test_demo_seed(api: Api) -> None:
    first = api.admin("POST", "seed/demo")
    assert set(first["companies"]) == {"Contoso Ltd", "Fabrikam Inc"}
    assert api.admin("POST", "seed/demo") == first  # idempotent
    contracts = api.query("Contracts", {"op": "eq", "field": "contractType", "value": 7})
    assert [(c["startDate"], c["endDate"], c["contractPeriodType"]) for c in contracts] == [
        ("2024-01-01T00:00:00", "2027-12-31T00:00:00", 1)
    ] * 2
    customers = api.query("Companies", {"op": "eq", "field": "companyType", "value": 1})
    assert len(customers) == 2


def test_seed_can_carry_adjustment_history(api: Api) -> None:
    created = seed_many(api, 1)
    body = {
        "adjustments": [
            {
                "contractID": 70,
                "contractServiceID": created["contractServices"][0],
                "effectiveDate": "2024-02-01",
                "unitChange": 4,
            }
        ]
    }
    assert len(api.admin("POST", "seed", body)["adjustments"]) == 1
    response = api.admin_http.post("/sandbox/seed", json=body)
    assert response.status_code == 500 and decode(response)["errors"] == [
        "Attempt to insert duplicate data into contract_service_period."
    ]


def test_contract_child_collections(api: Api) -> None:
    ids = make_contract(api)
    contract = ids["contract"]
    # Contract services are created through the parent only, as at the vendor.
    direct = api.post("ContractServices", {"contractID": contract, "serviceID": ids["service"]})
    assert direct.status_code == 405
    assert decode(direct) == {"Message": "The requested resource does not support http method 'POST'."}
    listed = decode(api.get(f"Contracts/{contract}/Services"))
    assert [item["id"] for item in listed["items"]] == [ids["contract_service"]]
    one = decode(api.get(f"Contracts/{contract}/Services/{ids['contract_service']}"))["item"]
    assert one["serviceID"] == ids["service"] and one["unitPrice"] == 10
    assert decode(api.get(f"Contracts/{contract}/Services/1")) == {"item": None}
    units = decode(api.get(f"Contracts/{contract}/ServiceUnits"))["items"]
    assert len(units) == 12 and {row["contractServiceID"] for row in units} == {ids["contract_service"]}
    mismatch = api.post(
        f"Contracts/{contract}/Services", {"contractID": contract + 1, "serviceID": ids["service"]}
    )
    assert mismatch.status_code == 500
    assert api.admin("GET", "stats")["requests"]["ContractServices"] >= 4


def test_patch_extends_a_contract_but_not_over_posted_periods(api: Api) -> None:
    ids = make_contract(api, end="2024-06-30")
    contract = ids["contract"]
    patched = api.http.patch(api.url("Contracts"), json={"id": contract, "endDate": "2024-12-31T00:00:00"})
    assert decode(patched) == {"itemId": contract}
    assert decode(api.get(f"Contracts/{contract}"))["item"]["endDate"] == "2024-12-31T00:00:00"
    assert len(api.units(ids["contract_service"])) == 12
    api.admin("POST", "post-periods", {"through": "2024-02-29"})
    moved = api.http.patch(api.url("Contracts"), json={"id": contract, "startDate": "2024-01-15"})
    assert moved.status_code == 500 and "approved and posted" in decode(moved)["errors"][0]


def test_date_filters_accept_dates_and_datetimes(api: Api) -> None:
    ids = make_contract(api)
    cs = {"op": "eq", "field": "contractServiceID", "value": ids["contract_service"]}
    noon = api.query(
        "ContractServiceUnits", cs, {"op": "gte", "field": "endDate", "value": "2024-03-15T12:00:00"}
    )
    plain = api.query("ContractServiceUnits", cs, {"op": "gt", "field": "endDate", "value": "2024-03-15"})
    assert [r["startDate"] for r in noon] == [r["startDate"] for r in plain]
    assert noon[0]["startDate"] == "2024-03-01T00:00:00" and len(noon) == 10
    unposted = api.query("ContractServiceUnits", cs, {"op": "notExist", "field": "approveAndPostDate"})
    assert len(unposted) == 12
