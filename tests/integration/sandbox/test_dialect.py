"""How the sandbox answers where Autotask answers in its own way: zone discovery of an unknown
user, field metadata, required fields and picklists on creates, the contract-service child
routes, unsupported methods, and requests really served side by side."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import pytest

from contractsync.sandbox import errors
from contractsync.sandbox.server import SandboxServer
from tests.contract.generate_schemas import EXTRACT

from .conftest import BILLING_CODE, COMPANY, Api, decode, make_contract


def test_zone_information_of_an_unknown_user_is_not_a_zone(server: SandboxServer) -> None:
    for params in ({"user": "someone-else@example.com"}, {}):
        response = httpx.get(f"{server.api_url}/zoneInformation", params=params)
        assert response.status_code == 500
        assert response.json() == {"errors": ["Zone information could not be determined"]}
    known = httpx.get(f"{server.api_url}/zoneInformation", params={"user": server.username.upper()})
    assert known.status_code == 200 and known.json()["url"].endswith("/atservicesrest/")


def _fields(api: Api, path: str) -> dict[str, dict[str, Any]]:
    response = api.get(f"{path}/entityInformation/fields")
    assert response.status_code == 200, response.text
    return {field["name"]: field for field in decode(response)["fields"]}


@pytest.mark.skipif(not EXTRACT.exists(), reason=f"reference data not at {EXTRACT}")
@pytest.mark.parametrize(
    "entity",
    [
        "Companies",
        "Contracts",
        "Services",
        "ContractServices",
        "ContractServiceAdjustments",
        "ContractServiceUnits",
    ],
)
def test_required_flags_are_those_of_the_reference_data(api: Api, entity: str) -> None:
    reference = json.loads(EXTRACT.read_text(encoding="utf-8"))["entities"][entity]["fields"]
    fields = _fields(api, entity)
    for name, field in fields.items():
        if name in reference:
            assert field["isRequired"] is bool(reference[name]["requiredPerLiveFieldInfo"]), (entity, name)
    required = {name for name, f in reference.items() if f["requiredPerLiveFieldInfo"]}
    assert required <= set(fields), "every required field of the reference is a sandbox field"


def test_entity_information_fields_answer_picklists_references_and_read_only(api: Api) -> None:
    contracts = _fields(api, "Contracts")
    contract_type = contracts["contractType"]
    assert contract_type["isPickList"] is True
    recurring = [v for v in contract_type["picklistValues"] if v["value"] == "7"]
    assert recurring == [
        {
            "value": "7",
            "label": "Recurring Service",
            "isDefaultValue": True,
            "sortOrder": 5,
            "parentValue": "",
            "isActive": True,
            "isSystem": True,
        }
    ]
    assert (
        contracts["companyID"]["referenceEntityType"] == "Company" and contracts["companyID"]["isReference"]
    )
    assert contracts["contractName"]["length"] == 100 and contracts["contractName"]["isPickList"] is False
    assert contracts["id"]["isReadOnly"] and contracts["lastModifiedDateTime"]["isReadOnly"]
    assert not contracts["contractName"]["isReadOnly"]
    units = _fields(api, "ContractServiceUnits")
    assert all(f["isReadOnly"] for f in units.values())  # query only


@pytest.mark.parametrize(
    ("child", "entity"),
    [
        ("Services", "ContractServices"),
        ("ServiceUnits", "ContractServiceUnits"),
        ("ServiceAdjustments", "ContractServiceAdjustments"),
    ],
)
def test_child_routes_answer_the_same_entity_information(api: Api, child: str, entity: str) -> None:
    ids = make_contract(api)
    assert _fields(api, f"Contracts/{ids['contract']}/{child}") == _fields(api, entity)
    info = decode(api.get(f"Contracts/{ids['contract']}/{child}/entityInformation"))["info"]
    assert info["name"] == entity
    assert decode(api.get(f"Contracts/{ids['contract']}/{child}/entityInformation/userDefinedFields")) == {
        "fields": []
    }


@pytest.mark.parametrize(
    ("entity", "body", "missing"),
    [
        ("Companies", {"companyName": "Contoso", "companyType": 1, "phone": "1"}, "ownerResourceID"),
        ("Companies", {"companyName": "Contoso", "companyType": 1, "ownerResourceID": 5}, "phone"),
        ("Services", {"name": "M365", "unitPrice": 1, "periodType": 1}, "billingCodeID"),
    ],
)
def test_creates_refuse_a_missing_required_field(
    api: Api, entity: str, body: dict[str, Any], missing: str
) -> None:
    response = api.post(entity, body)
    assert response.status_code == 500
    # Autotask's words name no field (README, "Behaviours and where they come from").
    assert decode(response) == {"errors": [errors.UNEXPECTED_ERROR]}
    assert api.query(entity) == []  # nothing written
    assert api.admin("GET", "stats")["rejections"]["required_field"] == 1


def test_a_required_picklist_left_out_is_answered_as_an_unknown_value(api: Api) -> None:
    """As Autotask answered a Task create without its required `taskType` (README, "Evidence")."""
    response = api.post("Services", {"name": "M365", "unitPrice": 1, "billingCodeID": BILLING_CODE})
    assert response.status_code == 500
    assert decode(response) == {"errors": ["Value does not reference an existing entity for periodType . "]}
    assert api.query("Services") == []  # nothing written


def test_contract_creates_need_status_and_time_reporting_and_known_picklist_values(api: Api) -> None:
    ids = make_contract(api)
    contract = {
        "companyID": ids["company"],
        "contractName": "Second",
        "contractType": 7,
        "startDate": "2024-01-01T00:00:00",
        "endDate": "2024-12-31T00:00:00",
        "status": 1,
        "timeReportingRequiresStartAndStopTimes": 0,
    }
    for missing in ("contractName", "status", "timeReportingRequiresStartAndStopTimes"):
        response = api.post("Contracts", {k: v for k, v in contract.items() if k != missing})
        assert response.status_code == 500
        assert decode(response) == {
            "errors": [
                errors.UNEXPECTED_ERROR
                if missing == "contractName"  # not a picklist
                else f"Value does not reference an existing entity for {missing} . "
            ]
        }
    for field, value in (("contractType", 2), ("status", 5), ("contractPeriodType", 9)):
        response = api.post("Contracts", contract | {field: value})
        assert response.status_code == 500
        assert decode(response) == {"errors": [f"Value does not reference an existing entity for {field} . "]}
    assert len(api.query("Contracts")) == 1
    assert api.post("Contracts", contract).status_code == 200
    bad_type = api.post("Companies", COMPANY | {"companyName": "X", "companyType": 5})
    assert decode(bad_type) == {"errors": ["Value does not reference an existing entity for companyType . "]}
    patched = api.http.patch(api.url("Contracts"), json={"id": ids["contract"], "status": 3})
    assert patched.status_code == 500 and "status" in decode(patched)["errors"][0]


def test_put_replaces_and_patch_merges_a_contract_service(api: Api) -> None:
    ids = make_contract(api)
    path = f"Contracts/{ids['contract']}/Services"
    cs = ids["contract_service"]

    def current() -> dict[str, Any]:
        item: dict[str, Any] = decode(api.get(f"{path}/{cs}"))["item"]
        return item

    patched = api.http.patch(api.url(path), json={"id": cs, "internalDescription": "seat pool"})
    assert patched.status_code == 200 and decode(patched) == {"itemId": cs}
    assert current()["internalDescription"] == "seat pool"
    assert current()["invoiceDescription"] == "Microsoft 365 Business Standard"  # merged: kept
    put = api.http.put(api.url(path), json={"id": cs, "serviceID": ids["service"], "unitPrice": 11})
    assert put.status_code == 200 and decode(put) == {"itemId": cs}
    after = current()
    assert after["unitPrice"] == 11
    assert after["internalDescription"] is None and after["invoiceDescription"] is None  # replaced
    assert after["unitCost"] is None and after["contractID"] == ids["contract"]
    # A replacement still needs the required fields; the service of a contract service is fixed.
    no_service = api.http.put(api.url(path), json={"id": cs, "unitPrice": 11})
    assert no_service.status_code == 500 and decode(no_service) == {"errors": [errors.UNEXPECTED_ERROR]}
    other = api.http.patch(api.url(path), json={"id": cs, "serviceID": ids["service"] + 1})
    assert other.status_code == 500 and "cannot be changed" in decode(other)["errors"][0]
    wrong_parent = api.http.patch(api.url(f"Contracts/{ids['contract'] + 1}/Services"), json={"id": cs})
    assert wrong_parent.status_code == 500


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "Contracts"),
        ("DELETE", "Contracts/{contract}"),
        ("PUT", "ContractServices"),
        ("GET", "ContractServiceAdjustments"),
        ("PATCH", "Contracts/{contract}/ServiceUnits"),
        ("POST", "Contracts/{contract}/Services/entityInformation"),
        ("DELETE", "Companies/query"),
    ],
)
def test_a_routes_unsupported_method_is_a_405_message(api: Api, method: str, path: str) -> None:
    ids = make_contract(api)
    response = api.http.request(method, api.url(path.format(**ids)), json={"id": 1})
    assert response.status_code == 405
    assert decode(response) == {"Message": f"The requested resource does not support http method '{method}'."}


def _busy(api: Api, results: list[int], path: str, body: dict[str, Any]) -> threading.Thread:
    def send() -> None:
        results.append(api.post(path, body).status_code)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def test_requests_are_served_side_by_side_and_a_fourth_in_flight_is_refused(
    server: SandboxServer, api: Api
) -> None:
    """No fault involved: three queries are busy in the sandbox (waiting for its data, which the
    test holds), the server still answers others, and a fourth query on the same endpoint is
    refused with the thread-threshold error while the three are in flight."""
    make_contract(api)
    query = {"filter": [{"op": "exist", "field": "id"}]}
    results: list[int] = []
    with server.state.store.lock:
        threads = [_busy(api, results, "Contracts/query", query) for _ in range(3)]
        api.wait_in_flight("Contracts", 3)
        fourth = api.post("Contracts/query", query)
        assert fourth.status_code == 429 and decode(fourth) == {"errors": [errors.THREAD_THRESHOLD]}
        # Another endpoint is another limit, and is answered while the three are busy.
        assert api.get("ThresholdInformation").status_code == 200
    for thread in threads:
        thread.join(timeout=30)
    assert results == [200, 200, 200]
    stats = api.admin("GET", "stats")
    assert stats["max_in_flight"]["Contracts"] == 3 and stats["rejections"]["thread_threshold"] == 1
    assert api.post("Contracts/query", query).status_code == 200  # slots are given back


def test_a_top_level_put_replaces_and_needs_the_required_fields(api: Api) -> None:
    ids = make_contract(api)
    company = ids["company"]
    full = COMPANY | {"id": company, "companyName": "Contoso Ltd"}
    assert api.http.patch(api.url("Companies"), json={"id": company, "city": "Oslo"}).status_code == 200
    assert decode(api.get(f"Companies/{company}"))["item"]["city"] == "Oslo"  # PATCH merges
    assert api.http.put(api.url("Companies"), json=full).status_code == 200
    item = decode(api.get(f"Companies/{company}"))["item"]
    assert item["city"] is None and item["companyName"] == "Contoso Ltd"  # PUT replaces
    assert item["createDate"] is not None  # read-only fields are kept
    partial = api.http.put(api.url("Companies"), json={"id": company, "companyName": "X"})
    assert partial.status_code == 500 and decode(partial) == {"errors": [errors.UNEXPECTED_ERROR]}
    assert decode(api.get(f"Companies/{company}"))["item"]["companyName"] == "Contoso Ltd"
