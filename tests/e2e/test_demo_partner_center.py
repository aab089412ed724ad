"""`contractsync demo` wires the Partner Center sandbox: seats changed there reach the Autotask
sandbox with no other step (signed webhook → fetch → operation → worker → adjustment)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx

from contractsync.demo_data import TENANT_IDS
from tests.e2e.test_demo_command import DELIVERY_SECONDS, STARTUP_SECONDS, DemoProcess, demo, wait_healthy

__all__ = ["demo"]
AUTOTASK = {"ApiIntegrationCode": "SANDBOX", "UserName": "sandbox@example.com", "Secret": "sandbox-secret"}


def test_seats_changed_in_partner_center_reach_autotask(demo: DemoProcess) -> None:
    base = f"http://127.0.0.1:{demo.port}"
    token = demo.wait_for_line(r"admin token:\s+(\S+)", STARTUP_SECONDS).group(1)
    autotask = demo.wait_for_line(r"sandbox:\s+(http://\S+)", 5).group(1)
    partner_center = demo.wait_for_line(r"Partner Center sandbox:\s+(https://\S+)/sandbox/", 5).group(1)
    wait_healthy(base)
    auth = {"Authorization": f"Bearer {token}"}
    subscription = httpx.get(f"{base}/v1/subscriptions/contoso-m365-standard", headers=auth, timeout=5).json()
    contract_service_id = subscription["mapping"]["contract_service_id"]
    seats = subscription["quantity"] + 4
    ca = demo.cwd / ".contractsync" / "pc-sandbox" / "pc-sandbox-tls.pem"
    # The sandbox's own page: the form a person uses to change seats in "Partner Center".
    changed = httpx.post(
        f"{partner_center}/sandbox/seats/{TENANT_IDS['contoso']}/contoso-m365-standard",
        data={"quantity": str(seats)},
        verify=str(ca),
        timeout=10,
    )
    assert changed.status_code == 200, changed.text
    query = {"filter": [{"op": "eq", "field": "contractServiceID", "value": contract_service_id}]}
    today = datetime.now(UTC).date().isoformat()

    def units_today() -> int | None:
        rows = httpx.post(
            f"{autotask}/atservicesrest/v1.0/ContractServiceUnits/query",
            json=query,
            headers=AUTOTASK,
            timeout=5,
        ).json()["items"]
        return next(
            (int(r["units"]) for r in rows if r["startDate"][:10] <= today <= r["endDate"][:10]), None
        )

    deadline = time.monotonic() + DELIVERY_SECONDS
    while units_today() != seats:
        assert time.monotonic() < deadline, f"Autotask never showed {seats} units; it has {units_today()}"
        time.sleep(0.5)
    source = httpx.get(
        f"{base}/v1/partner-center/sources/demo-partner-center", headers=auth, timeout=5
    ).json()
    assert source["webhook_url"].endswith("/v1/partner-center/events?source_id=demo-partner-center")
