"""A sandbox with a data file answers the same after a restart."""

from __future__ import annotations

from pathlib import Path

from contractsync.adapters.clock import ManualClock
from contractsync.sandbox import errors
from contractsync.sandbox.server import SandboxServer
from contractsync.sandbox.state import SandboxConfig

from .conftest import COMPANY, Api, decode, make_contract


def test_state_survives_a_restart(tmp_path: Path, clock: ManualClock) -> None:
    data = tmp_path / "sandbox.sqlite"
    config = SandboxConfig(data_file=data, clock=clock)
    with SandboxServer(config) as server:
        api = Api(server)
        ids = make_contract(api, unit_price="10.1234")
        cs = ids["contract_service"]
        api.adjust(
            contractID=ids["contract"],
            contractServiceID=cs,
            effectiveDate="2024-01-20",
            unitChange=7,
            adjustedUnitPrice="10.1234",
            adjustedUnitCost="7.0001",
        )
        api.adjust(contractID=ids["contract"], contractServiceID=cs, effectiveDate="2024-02-10", unitChange=1)
        api.admin("POST", "post-periods", {"through": "2024-01-31"})
        before = api.units(cs)
        billing = api.query("BillingItems")
        api.close()

    with SandboxServer(SandboxConfig(data_file=data, clock=clock)) as server:
        api = Api(server)
        assert api.units(cs) == before
        assert api.query("BillingItems") == billing
        posted = api.adjust(
            contractID=ids["contract"], contractServiceID=cs, effectiveDate="2024-01-25", unitChange=1
        )
        assert decode(posted) == {"errors": [errors.POSTED_PERIOD]}
        duplicate = api.adjust(
            contractID=ids["contract"], contractServiceID=cs, effectiveDate="2024-02-10", unitChange=1
        )
        assert decode(duplicate) == {"errors": [errors.DUPLICATE_DATE]}
        # New ids continue after the stored ones.
        assert api.create("Companies", COMPANY | {"companyName": "Fabrikam Inc"}) > ids["company"]
        api.close()


def test_demo_seed_on_a_data_file_is_not_duplicated(tmp_path: Path) -> None:
    data = tmp_path / "demo.sqlite"
    for _ in range(2):
        with SandboxServer(SandboxConfig(data_file=data, seed="demo")) as server:
            api = Api(server)
            assert len(api.query("Companies")) == 2
            assert len(api.query("Services")) == 5
            api.close()
