"""Accepting suggestions over HTTP: the routes build the commands from their bodies; each choice
is answered on its own, as the console's and Partner Center's callers are."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_partner_center_choices_are_answered_by_index(
    client: TestClient, seeded: dict[str, dict[str, str]]
) -> None:
    body = {"connection_id": "at1", "customers": [{"customer_id": "c1", "company_id": 5},
                                                 {"customer_id": "c2", "company_id": 6}]}  # fmt: skip
    answer = client.post("/v1/partner-center/suggestions/accept", json=body, headers=seeded["r1"])
    assert answer.status_code == 200, answer.text
    first, other = answer.json()["customers"]
    assert first == {"index": 0, "status": "mapped", "error": None}
    assert (other["index"], other["status"]) == (1, "refused") and "c2" in other["error"]
    assert answer.json()["subscriptions"] == []
    again = client.post("/v1/partner-center/suggestions/accept", json=body, headers=seeded["r1"]).json()
    assert again["customers"][0]["status"] == "refused" and "already mapped" in again["customers"][0]["error"]
    too_many = {"connection_id": "at1", "customers": [{"customer_id": "c1", "company_id": 5}] * 2001}
    refused = client.post("/v1/partner-center/suggestions/accept", json=too_many, headers=seeded["r1"])
    assert refused.status_code == 422


def test_a_chosen_subscription_is_answered_with_what_was_sent(
    client: TestClient, seeded: dict[str, dict[str, str]]
) -> None:
    chosen = {"subscription_id": "s2", "contract_id": 100, "service_id": 7, "contract_service_id": None}
    body = {"connection_id": "at1", "subscriptions": [chosen]}
    answer = client.post("/v1/mappings/subscription-suggestions/accept", json=body, headers=seeded["r1"])
    assert answer.status_code == 200, answer.text
    (result,) = answer.json()["subscriptions"]
    assert {k: result[k] for k in chosen} == chosen and result["status"] == "refused" and result["error"]
