"""The demo's Partner Center: the Partner Center sandbox holding the demo reseller's new-commerce
subscriptions, a Partner Center source for that reseller, webhook delivery to the demo's API and
polling every minute. Changing seats in the sandbox (its page at /sandbox/ or its API) reaches the
Autotask sandbox with no other step: webhook → fetch → operation → worker → adjustment.
"""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import Any

from contractsync.adapters.partner_center.factory import client_for_source
from contractsync.demo_data import TENANT_IDS
from contractsync.partner_center_sandbox.server import PartnerCenterSandbox
from contractsync.partner_center_sandbox.state import SandboxConfig
from contractsync.service.actor import ADMIN, Actor
from contractsync.service.errors import NotFound
from contractsync.service.facade import ContractSync
from contractsync.service.partner_center import PartnerCenter
from contractsync.settings import Settings

DEMO_SOURCE_ID = "demo-partner-center"
DEMO_RESELLER = "northwind"
POLL_EVERY_SECONDS = 60


class PartnerCenterDemo:
    def __init__(self, settings: Settings) -> None:
        self.sandbox = PartnerCenterSandbox(settings.data_dir / "pc-sandbox", SandboxConfig())
        self.center: PartnerCenter | None = None
        self._poll: threading.Thread | None = None
        self._checked = 0.0

    def start_sandbox(self, settings: Settings) -> Settings:
        """Start the Partner Center sandbox; `settings` whose allow-list, certificate authorities and
        webhook certificates also take this run's sandbox (build the service from those)."""
        sandbox = self.sandbox.start()
        return settings.model_copy(
            update={
                "psa_allowed_hosts": _joined(settings.psa_allowed_hosts, sandbox.host_port),
                "partner_center_ca_file": str(sandbox.ca_file),
                "partner_center_webhook_certificates": _joined(
                    settings.partner_center_webhook_certificates, sandbox.webhook_certificate_url
                ),
                # The demo trusts the sandbox's test CA, and only it, for webhook signatures.
                "partner_center_webhook_trust_file": str(sandbox.webhook_ca_file),
                "partner_center_webhook_organization": sandbox.webhook_organization,
            }
        )

    def start(self, service: ContractSync) -> PartnerCenterDemo:
        """The demo source on the sandbox `start_sandbox` started, for a service built from its settings."""
        self.service = service
        sandbox = self.sandbox
        prices = self._mirror()
        context = service.context

        def client(row: Any, store: Any) -> Any:
            # The sandbox gets a free port on every start: the stored source always reaches this one.
            here = _Row(row, authority_host=sandbox.base_url, api_root=sandbox.api_root)
            return client_for_source(here, context.secrets, store, outbound=context.outbound)

        self.center = PartnerCenter(self.service, client)
        config = sandbox.config
        try:
            # This run's sandbox knows only its first refresh token, not the one the last run rotated to.
            self.center.update_source(ADMIN, DEMO_SOURCE_ID, {"refresh_token": config.refresh_token})
        except NotFound:
            self.center.create_source(
                ADMIN,
                {
                    "id": DEMO_SOURCE_ID, "reseller_id": DEMO_RESELLER, "tenant_id": config.partner_tenant,
                    "application_id": config.client_id, "secret": config.client_secret,
                    "refresh_token": config.refresh_token, "authority_host": sandbox.base_url,
                    "api_root": sandbox.api_root, "poll_minutes": 1, "price_list": prices,
                },
            )  # fmt: skip
        return self

    def _mirror(self) -> dict[str, str]:
        """Partner Center holds what the demo reseller bought through it: its customers with a
        tenant id and their new-commerce subscriptions, with the same ids, seats and terms."""
        actor = Actor(DEMO_RESELLER)
        prices: dict[str, str] = {}
        for customer in self.service.list_customers(actor):
            tenant = customer.get("tenant_id")
            if not tenant or tenant not in TENANT_IDS.values():
                continue
            self.sandbox.state.add_customer(tenant, customer["name"])
            page = self.service.list_subscriptions(actor, customer_id=customer["id"], page_size=200)
            for sub in page["items"]:
                if sub["kind"] != "nce" or sub["status"] not in ("active", "suspended"):
                    continue
                sku = ":".join(sub["offer_id"].split(":")[:2])
                prices[sku] = sub["list_price"]
                self.sandbox.state.add_subscription(
                    tenant, subscription_id=sub["id"], offer_id=sku, offer_name=sub["offer_name"],
                    quantity=sub["quantity"], start=date.fromisoformat(sub["start_date"]), term=sub["term"],
                    billing_cycle=sub["billing_cycle"], auto_renew=sub["auto_renew"], status=sub["status"],
                )  # fmt: skip
        return prices

    def register(self, api_base_url: str) -> None:
        """Partner Center sends subscription-updated events to the demo's API."""
        assert self.center is not None
        url = f"{api_base_url}/v1/partner-center/events?source_id={DEMO_SOURCE_ID}"
        self.center.register_webhook(ADMIN, DEMO_SOURCE_ID, url)

    def tick(self) -> None:
        """Between deliveries: a poll when one is due, in its own thread."""
        if self.center is None or (self._poll is not None and self._poll.is_alive()):
            return
        if time.monotonic() - self._checked < POLL_EVERY_SECONDS / 4:
            return
        self._checked = time.monotonic()
        self._poll = threading.Thread(target=self.center.polling.tick, name="demo-pc-poll", daemon=True)
        self._poll.start()

    def stop(self) -> None:
        self.sandbox.stop()


class _Row:
    def __init__(self, row: Any, **override: str) -> None:
        self._row, self._override = row, override

    def __getattr__(self, name: str) -> Any:
        return self._override[name] if name in self._override else getattr(self._row, name)


def _joined(listed: str, value: str) -> str:
    present = [v.strip() for v in listed.split(",") if v.strip()]
    return ",".join(present if value in present else [*present, value])
