"""A full poll of a Partner Center tenant against the Partner Center sandbox (issue 14).

    python benchmarks/bench_partner_center_poll.py [--customers 1000] [--subscriptions 10] [--database URL]

Prints the time and the requests of a first poll (every customer and subscription created) and of
a second poll of the unchanged tenant (nothing to apply), beside what Partner Center documents
about its request limits.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from contractsync.bootstrap import build_app_service
from contractsync.partner_center_sandbox.server import PartnerCenterSandbox
from contractsync.partner_center_sandbox.state import OFFERS, SandboxConfig
from contractsync.service.actor import ADMIN
from contractsync.service.partner_center import PartnerCenter
from contractsync.settings import Settings

#: What Microsoft documents (see src/contractsync/partner_center_sandbox/README.md, "Throttling").
DOCUMENTED_LIMITS = """\
Partner Center's documented request limits (API throttling guidance,
https://learn.microsoft.com/partner-center/developer/api-throttling-guidance):
  - no fixed numbers are published for reads: limits "vary based on the scenario", are counted per
    partner tenant (and for some APIs per partner tenant and customer tenant), and Partner Center
    "dynamically adjusts the throttling limits"; GET /v1/customers/{id}/subscriptions is on the list
    of throttled operations;
  - a throttled request answers HTTP 429 with Retry-After (the sample: 57 seconds); wait that long;
  - the guidance warns that "continuously polling a resource" and "regularly scanning resource
    collections" lead to throttling, and recommends change notifications (webhooks) instead;
  - the one number published for webhooks: 2 requests per minute to post a test-created event.
So a poll's cost is its request count: 1 + ceil(customers / page size) + customers requests."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--subscriptions", type=int, default=10)
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: a new SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        seed = f"{args.customers}x{args.subscriptions}"
        with PartnerCenterSandbox(root / "pc", SandboxConfig(seed=seed)) as pc:
            settings = Settings(
                database_url=args.database or f"sqlite:///{root / 'bench.db'}",
                data_dir=root,
                psa_allowed_hosts=pc.host_port,
                partner_center_ca_file=str(pc.ca_file),
            )
            service = build_app_service(settings)
            service.create_reseller(ADMIN, {"id": "r1", "name": "Reseller"})
            center = PartnerCenter(service)
            prices = {":".join(offer.split(":")[:2]): "10.00" for offer, _ in OFFERS}
            config = pc.config
            center.create_source(
                ADMIN,
                {
                    "id": "pc1", "reseller_id": "r1", "tenant_id": config.partner_tenant,
                    "application_id": config.client_id, "secret": config.client_secret,
                    "refresh_token": config.refresh_token, "authority_host": pc.base_url,
                    "api_root": pc.api_root, "price_list": prices,
                },
            )  # fmt: skip
            print(f"Partner Center sandbox: {args.customers} customers x {args.subscriptions} subscriptions")
            for label in ("first poll (creates everything)", "second poll (unchanged: applies nothing)"):
                before = sum(pc.state.requests.values())
                started = time.perf_counter()
                answer = center.poll(ADMIN, "pc1")["poll"]
                seconds = time.perf_counter() - started
                requests = sum(pc.state.requests.values()) - before
                progress = answer["progress"]
                print(
                    f"{label}: {seconds:.1f} s, {requests} API requests "
                    f"({requests / seconds:.0f}/s, {requests / seconds * 60:.0f}/min); "
                    f"{progress['customers_seen']} customers, {progress['subscriptions_seen']} subscriptions, "
                    f"{progress['subscriptions_created']} created, {progress['operations_applied']} operations"
                )
            print(f"requests by route (both polls): {dict(pc.state.requests)}")
    print(DOCUMENTED_LIMITS)


if __name__ == "__main__":
    main()
