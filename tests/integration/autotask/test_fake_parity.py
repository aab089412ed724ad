"""The port-level fake (tests/fakes/fake_autotask.py) answers as the connector over the sandbox.

Worker and service tests use the fake (its state survives a SIGKILL of worker processes); this
test runs one story through both and asks for the same answers: the same refusals, in the same
words, and the same ContractServiceUnits rows. Paging and the thread limit live below the port,
in the HTTP layer the fake stands in for; the connector tests prove those against the sandbox.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx

from contractsync.ports.psa import (
    ErrorKind,
    PsaConnector,
    PsaError,
    Refusal,
    ServiceTarget,
    ServiceUnitsPeriod,
)
from tests.fakes.fake_autotask import FakeAutotask

from .conftest import Connect

START, END, POSTED_THROUGH = date(2024, 1, 1), date(2024, 12, 31), date(2024, 3, 31)
PRICE, COST = Decimal("12.5000"), Decimal("10.0000")


def _story(autotask: PsaConnector, contract: int, contract_service: int, post: object) -> list[object]:
    """What a caller of the port sees: each target's change of units or typed refusal, and the
    units rows read back."""

    def adjust(day: date, units: int, held: int) -> object:
        try:
            applied = autotask.apply_target(
                ServiceTarget(contract, contract_service, day, units, PRICE, COST, held)
            )
            return ("created", applied.unit_change)
        except PsaError as error:
            return (error.kind, error.refusal, error.message)

    def units() -> list[ServiceUnitsPeriod]:
        return autotask.service_units(contract_service, date(2024, 2, 1), date(2024, 5, 31))

    seen: list[object] = [
        adjust(date(2024, 2, 1), 3, 0),
        adjust(date(2024, 2, 1), 4, 3),
        adjust(date(2025, 1, 15), 4, 3),
    ]
    post()  # type: ignore[operator]
    seen += [
        adjust(date(2024, 3, 1), 5, 3),
        adjust(date(2024, 4, 15), 2, 3),
        adjust(date(2024, 6, 1), -3, 2),
        units(),
    ]
    return seen


def test_the_fake_and_the_sandbox_answer_the_same_story(
    admin: httpx.Client, connect: Connect, tmp_path: Path
) -> None:
    seeded = admin.post(
        "/sandbox/seed",
        json={
            "companies": [{"companyName": "Contoso Ltd", "companyType": 1}],
            "services": [{"name": "Microsoft 365 E3", "unitPrice": 12.5, "unitCost": 10}],
        },
    ).json()
    contract = admin.post(
        "/sandbox/seed",
        json={
            "contracts": [
                {
                    "companyID": seeded["companies"][0],
                    "contractName": "CSP",
                    "contractType": 7,
                    "contractPeriodType": 1,
                    "startDate": START.isoformat(),
                    "endDate": END.isoformat(),
                }
            ]
        },
    ).json()["contracts"][0]
    contract_service = admin.post(
        "/sandbox/seed",
        json={
            "contractServices": [
                {"contractID": contract, "serviceID": seeded["services"][0], "unitPrice": 12.5}
            ]
        },
    ).json()["contractServices"][0]

    def post_sandbox() -> None:
        admin.post("/sandbox/post-periods", json={"through": POSTED_THROUGH.isoformat()}).raise_for_status()

    fake = FakeAutotask(tmp_path / "autotask.db")
    fake.set_contract(contract, START, END)

    def post_fake() -> None:
        fake.set_contract(contract, START, END, posted_through=POSTED_THROUGH)

    sandbox_story = _story(connect(), contract, contract_service, post_sandbox)
    fake_story = _story(fake, contract, contract_service, post_fake)

    assert fake_story == sandbox_story
    created, duplicate, outside, posted, split, negative, rows = sandbox_story
    assert (created, split) == (("created", 3), ("created", -1))
    assert [duplicate, outside, posted, negative] == [
        (
            ErrorKind.REJECTED,
            Refusal.DUPLICATE_DATE,
            "Attempt to insert duplicate data into contract_service_period.",
        ),
        (
            ErrorKind.REJECTED,
            Refusal.OUTSIDE_CONTRACT,
            "The effective date must be within the contract's start and end dates.",
        ),
        (
            ErrorKind.REJECTED,
            Refusal.POSTED_PERIOD,
            "Unable to make changes as it would result in the deletion/modification of an already approved "
            "and posted contract period.",
        ),
        (
            ErrorKind.REJECTED,
            Refusal.NEGATIVE_UNITS,
            "unitChange: the adjustment would leave the contract service with fewer than 0 units.",
        ),
    ]
    assert [(r.start_date, r.end_date, r.units, r.posted) for r in rows] == [  # type: ignore[attr-defined]
        (date(2024, 2, 1), date(2024, 2, 29), 3, True),
        (date(2024, 3, 1), date(2024, 3, 31), 3, True),
        (date(2024, 4, 1), date(2024, 4, 14), 3, False),
        (date(2024, 4, 15), date(2024, 4, 30), 2, False),
        (date(2024, 5, 1), date(2024, 5, 31), 2, False),
    ]
