"""Units, price and cost over time; periods split by adjustments; the vendor's rejections."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from contractsync.sandbox import errors

from .conftest import BILLING_CODE, Api, decode, make_contract


def rows(api: Api, contract_service_id: int) -> list[tuple[str, str, int, Decimal, Decimal]]:
    return [
        (row["startDate"][:10], row["endDate"][:10], row["units"], row["price"], row["cost"])
        for row in api.units(contract_service_id)
    ]


def errors_of(response: Any) -> list[str]:
    assert response.status_code == 500, response.text
    found: list[str] = decode(response)["errors"]
    return found


def test_adjustments_split_periods_and_carry_units_forward(api: Api) -> None:
    ids = make_contract(api, end="2024-04-30")
    cs, contract = ids["contract_service"], ids["contract"]
    assert rows(api, cs)[0] == ("2024-01-01", "2024-01-31", 0, Decimal(10), Decimal(8))
    assert (
        api.adjust(
            contractID=contract,
            contractServiceID=cs,
            effectiveDate="2024-01-15T00:00:00",
            unitChange=10,
            adjustedUnitPrice=12.5,
            adjustedUnitCost=10.25,
        ).status_code
        == 200
    )
    assert (
        api.adjust(
            contractID=contract,
            contractServiceID=cs,
            effectiveDate="2024-03-10",
            unitChange=-3,
            adjustedUnitPrice=12.5,
            adjustedUnitCost=10.25,
        ).status_code
        == 200
    )
    assert rows(api, cs) == [
        ("2024-01-01", "2024-01-14", 0, Decimal(10), Decimal(8)),
        ("2024-01-15", "2024-01-31", 10, Decimal("12.5"), Decimal("10.25")),
        ("2024-02-01", "2024-02-29", 10, Decimal("12.5"), Decimal("10.25")),
        ("2024-03-01", "2024-03-09", 10, Decimal("12.5"), Decimal("10.25")),
        ("2024-03-10", "2024-03-31", 7, Decimal("12.5"), Decimal("10.25")),
        ("2024-04-01", "2024-04-30", 7, Decimal("12.5"), Decimal("10.25")),
    ]
    # Every row carries the vendor's fields; ids are stable across reads.
    first = api.units(cs)
    assert {"id", "contractID", "contractServiceID", "serviceID", "approveAndPostDate"} <= set(first[0])
    assert [row["id"] for row in first] == [row["id"] for row in api.units(cs)]
    assert decode(api.get(f"ContractServiceUnits/{first[1]['id']}"))["item"]["units"] == 10


def test_an_adjustment_on_a_period_start_does_not_split_it(api: Api) -> None:
    ids = make_contract(api, end="2024-02-29", period_type=1)
    api.adjust(
        contractID=ids["contract"],
        contractServiceID=ids["contract_service"],
        effectiveDate="2024-02-01",
        unitChange=4,
    )
    assert [r[:3] for r in rows(api, ids["contract_service"])] == [
        ("2024-01-01", "2024-01-31", 0),
        ("2024-02-01", "2024-02-29", 4),
    ]


def test_quarterly_contract_rows_follow_its_periods(api: Api) -> None:
    ids = make_contract(api, start="2024-01-31", end="2024-12-31", period_type=2)
    api.adjust(
        contractID=ids["contract"],
        contractServiceID=ids["contract_service"],
        effectiveDate="2024-05-15",
        unitChange=2,
    )
    assert [r[:3] for r in rows(api, ids["contract_service"])] == [
        ("2024-01-31", "2024-04-29", 0),
        ("2024-04-30", "2024-05-14", 0),
        ("2024-05-15", "2024-07-30", 2),
        ("2024-07-31", "2024-10-30", 2),
        ("2024-10-31", "2024-12-31", 2),
    ]


def test_price_only_adjustment_changes_price_from_its_date_and_keeps_units(api: Api) -> None:
    ids = make_contract(api, end="2024-03-31")
    cs, contract = ids["contract_service"], ids["contract"]
    api.adjust(contractID=contract, contractServiceID=cs, effectiveDate="2024-01-01", unitChange=5)
    response = api.adjust(
        contractID=contract,
        contractServiceID=cs,
        effectiveDate="2024-02-10",
        unitChange=0,
        adjustedUnitPrice="11.1234",
    )
    assert response.status_code == 200, response.text
    assert rows(api, cs)[1:] == [
        ("2024-02-01", "2024-02-09", 5, Decimal(10), Decimal(8)),
        ("2024-02-10", "2024-02-29", 5, Decimal("11.1234"), Decimal(8)),
        ("2024-03-01", "2024-03-31", 5, Decimal("11.1234"), Decimal(8)),
    ]
    timeline = api.admin("GET", f"contract-services/{cs}/timeline")
    assert [(c["date"], c["units"], c["price"]) for c in timeline["changes"]] == [
        ("2024-01-01", 5, Decimal(10)),
        ("2024-02-10", 5, Decimal("11.1234")),
    ]


def test_units_read_back_per_date(api: Api) -> None:
    ids = make_contract(api)
    cs, contract = ids["contract_service"], ids["contract"]
    for day, change in [("2024-02-05", 3), ("2024-02-20", 2), ("2024-06-01", -5), ("2024-07-04", 1)]:
        assert (
            api.adjust(
                contractID=contract, contractServiceID=cs, effectiveDate=day, unitChange=change
            ).status_code
            == 200
        )
    expected = {
        "2024-01-31": 0,
        "2024-02-05": 3,
        "2024-02-19": 3,
        "2024-02-20": 5,
        "2024-05-31": 5,
        "2024-06-01": 0,
        "2024-07-03": 0,
        "2024-07-04": 1,
        "2024-12-31": 1,
    }
    for day, units in expected.items():
        found = api.query(
            "ContractServiceUnits",
            {"op": "eq", "field": "contractServiceID", "value": cs},
            {"op": "lte", "field": "startDate", "value": f"{day}T00:00:00"},
            {"op": "gte", "field": "endDate", "value": day},
        )
        assert [row["units"] for row in found] == [units], day


def test_same_date_adjustment_is_rejected(api: Api) -> None:
    ids = make_contract(api)
    body = {
        "contractID": ids["contract"],
        "contractServiceID": ids["contract_service"],
        "effectiveDate": "2024-03-01T00:00:00",
        "unitChange": 1,
    }
    assert api.post("ContractServiceAdjustments", body).status_code == 200
    assert errors_of(api.post("ContractServiceAdjustments", body | {"unitChange": 2})) == [
        errors.DUPLICATE_DATE
    ]
    assert rows(api, ids["contract_service"])[2][2] == 1
    assert api.admin("GET", "stats")["rejections"] == {"duplicate_date": 1}


def test_effective_date_outside_the_contract_is_rejected(api: Api) -> None:
    ids = make_contract(api, start="2024-01-01", end="2024-12-31")
    base = {"contractID": ids["contract"], "contractServiceID": ids["contract_service"], "unitChange": 1}
    for day in ("2023-12-31", "2025-01-01"):
        assert errors_of(api.adjust(**base, effectiveDate=day)) == [errors.OUTSIDE_CONTRACT]
    for day in ("2024-01-01", "2024-12-31"):
        assert api.adjust(**base, effectiveDate=day).status_code == 200


def test_posted_periods_cannot_change_and_become_billing_items(api: Api) -> None:
    ids = make_contract(api, unit_price="12.3456", unit_cost="9.99")
    cs, contract = ids["contract_service"], ids["contract"]
    api.adjust(contractID=contract, contractServiceID=cs, effectiveDate="2024-01-10", unitChange=3)
    result = api.admin("POST", "post-periods", {"through": "2024-02-29", "contractID": contract})
    assert result == {"postedPeriods": 2, "billingItems": 2}  # the 0-unit row 01-01..01-09 bills nothing
    posted = [row for row in api.units(cs) if row["approveAndPostDate"] is not None]
    assert [row["endDate"][:10] for row in posted] == ["2024-01-09", "2024-01-31", "2024-02-29"]
    for day in ("2024-01-05", "2024-02-29"):
        response = api.adjust(contractID=contract, contractServiceID=cs, effectiveDate=day, unitChange=1)
        assert errors_of(response) == [errors.POSTED_PERIOD]
    assert (
        api.adjust(
            contractID=contract, contractServiceID=cs, effectiveDate="2024-03-01", unitChange=1
        ).status_code
        == 200
    )
    items = api.query("BillingItems", {"op": "eq", "field": "contractServiceID", "value": cs})
    assert [(i["itemDate"][:10], i["quantity"], i["rate"], i["totalAmount"]) for i in items] == [
        ("2024-01-10", 3, Decimal("12.3456"), Decimal("37.0368")),
        ("2024-02-01", 3, Decimal("12.3456"), Decimal("37.0368")),
    ]
    # Posting again changes nothing.
    assert api.admin("POST", "post-periods", {"through": "2024-02-29"}) == {
        "postedPeriods": 0,
        "billingItems": 0,
    }


def test_service_id_instead_of_contract_service_id_adds_the_service(api: Api) -> None:
    ids = make_contract(api)
    other = api.create(
        "Services",
        {"name": "Azure plan", "unitPrice": 0, "unitCost": 0, "periodType": 1, "billingCodeID": BILLING_CODE},
    )
    response = api.post(
        f"Contracts/{ids['contract']}/ServiceAdjustments",
        {
            "serviceID": other,
            "effectiveDate": "2024-04-01",
            "unitChange": 2,
            "adjustedUnitPrice": 5,
            "adjustedUnitCost": 4,
        },
    )
    assert response.status_code == 200, response.text
    added = api.query("ContractServices", {"op": "eq", "field": "serviceID", "value": other})
    assert len(added) == 1 and added[0]["contractID"] == ids["contract"]
    assert [r[2:] for r in rows(api, added[0]["id"]) if r[0] == "2024-04-01"] == [(2, Decimal(5), Decimal(4))]
    # The next adjustment naming the service goes to the same contract service.
    api.adjust(contractID=ids["contract"], serviceID=other, effectiveDate="2024-05-01", unitChange=1)
    assert len(api.query("ContractServices", {"op": "eq", "field": "serviceID", "value": other})) == 1
    assert api.admin("GET", f"contract-services/{added[0]['id']}/timeline")["changes"][-1]["units"] == 3


def test_unknown_ids_and_bad_bodies_are_rejected_with_errors(api: Api) -> None:
    ids = make_contract(api)
    base = {"contractID": ids["contract"], "effectiveDate": "2024-03-01", "unitChange": 1}
    assert errors_of(api.adjust(**base, contractServiceID=999)) == [
        "contractServiceID: no ContractServices entity with id 999 exists."
    ]
    assert errors_of(
        api.adjust(**(base | {"contractID": 998}), contractServiceID=ids["contract_service"])
    ) == ["contractID: no Contracts entity with id 998 exists."]
    assert errors_of(api.adjust(**(base | {"unitChange": -1}), contractServiceID=ids["contract_service"]))
    assert errors_of(
        api.adjust(
            **(base | {"effectiveDate": "2024-03-01T10:30:00"}), contractServiceID=ids["contract_service"]
        )
    )
    malformed = api.http.post(api.url("ContractServiceAdjustments"), content=b"{not json")
    assert malformed.status_code == 400 and decode(malformed)["errors"]


def test_adjustments_are_create_only(api: Api) -> None:
    ids = make_contract(api)
    adjustment = api.create(
        "ContractServiceAdjustments",
        {
            "contractID": ids["contract"],
            "contractServiceID": ids["contract_service"],
            "effectiveDate": "2024-02-01",
            "unitChange": 1,
        },
    )
    for method, path in [
        ("GET", f"ContractServiceAdjustments/{adjustment}"),
        ("POST", "ContractServiceAdjustments/query"),
        ("PATCH", "ContractServiceAdjustments"),
        ("DELETE", f"ContractServiceAdjustments/{adjustment}"),
    ]:
        response = api.http.request(method, api.url(path), json={"filter": []})
        assert response.status_code == 405, (method, path)
        assert decode(response) == {
            "Message": f"The requested resource does not support http method '{method}'."
        }


def test_get_by_id(api: Api) -> None:
    ids = make_contract(api)
    contract = decode(api.get(f"Contracts/{ids['contract']}"))["item"]
    assert contract["startDate"] == "2024-01-01T00:00:00" and contract["contractPeriodType"] == 1
    unknown = api.get("Contracts/1")
    assert unknown.status_code == 200 and decode(unknown) == {"item": None}


def test_a_service_twice_on_a_contract_needs_the_contract_service_id(api: Api) -> None:
    ids = make_contract(api)
    second = api.create(f"Contracts/{ids['contract']}/Services", {"serviceID": ids["service"]})
    base = {
        "contractID": ids["contract"],
        "serviceID": ids["service"],
        "effectiveDate": "2024-02-01",
        "unitChange": 1,
    }
    assert "more than once" in errors_of(api.post("ContractServiceAdjustments", base))[0]
    assert api.adjust(**(base | {"serviceID": None}), contractServiceID=second).status_code == 200
    assert api.admin("GET", f"contract-services/{second}/timeline")["changes"][0]["units"] == 1


def test_money_is_kept_to_four_places(api: Api) -> None:
    ids = make_contract(api)
    api.adjust(
        contractID=ids["contract"],
        contractServiceID=ids["contract_service"],
        effectiveDate="2024-02-01",
        unitChange=1,
        adjustedUnitPrice="9.87655",
        adjustedUnitCost=1.23444,
    )
    change = api.admin("GET", f"contract-services/{ids['contract_service']}/timeline")["changes"][0]
    assert (change["price"], change["cost"]) == (Decimal("9.8766"), Decimal("1.2344"))
