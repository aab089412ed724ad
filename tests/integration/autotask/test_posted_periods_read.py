"""`AutotaskConnector.posted_through`: which periods of a contract Autotask has approved and posted,
in one paged ContractServiceUnits query for the whole contract, checked against the vendor's
document (conftest.py) and the sandbox over HTTP."""

from __future__ import annotations

from datetime import date

import httpx

from tests.integration.autotask.conftest import CONTRACT_ID, SERVICE_ID, Connect, seed_basic, stats

#: Two more services on the contract: one query covers them all.
MORE_SERVICES = [
    {"id": 8, "contractID": CONTRACT_ID, "serviceID": 4, "unitPrice": 0, "unitCost": 0},
    {"id": 9, "contractID": CONTRACT_ID, "serviceID": SERVICE_ID, "unitPrice": 1, "unitCost": 1},
]


def test_the_last_posted_day_from_a_date_on_in_one_query(admin: httpx.Client, connect: Connect) -> None:
    seed_basic(admin, contractServices=MORE_SERVICES)
    connector = connect()
    assert connector.posted_through(CONTRACT_ID, date(2026, 2, 10)) is None  # nothing posted yet
    admin.post("/sandbox/post-periods", json={"through": "2026-03-31"}).raise_for_status()
    before = stats(admin)["requests"].get("ContractServiceUnits", 0)
    assert connector.posted_through(CONTRACT_ID, date(2026, 2, 10)) == date(2026, 3, 31)
    assert stats(admin)["requests"]["ContractServiceUnits"] - before == 1
    assert connector.posted_through(CONTRACT_ID, date(2026, 4, 1)) is None  # April is open
    assert connector.posted_through(CONTRACT_ID + 1, date(2026, 2, 10)) is None  # another contract
