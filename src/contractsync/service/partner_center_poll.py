"""Polling a Partner Center source (issue 14, item 2): every customer (paged with continuation
tokens) and each customer's subscriptions, turned into the same operations as the file import
(`partner_center_import`), in groups of customers.

- New customers are created with their tenant id and name (`pc-<tenant id>`).
- A subscription whose seats dropped (or that ended) has its transitions read; a transition into
  a subscription contractsync does not know yet creates that subscription first with the seats it
  had before, so the transition applies as one `upgrade` and the target's own record then agrees.
- Operations derived from differences carry an idempotency key made of the subscription, the
  stored version it was computed from and the operation: two fetches of one change (a poll and a
  webhook) apply it once; a re-poll of an unchanged state finds no difference at all.
- Progress is saved after every group: a poll that stopped (a crash, throttling beyond its
  patience, a failure) resumes at the page and customer it reached, with the continuation token
  Partner Center gave for that page.
- New subscriptions get their list price from the source's price list; a subscription without
  one is not created and is listed as a manual action, never priced by guess.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

from contractsync.domain.bounds import WEBHOOK_URL_MAX_LENGTH
from contractsync.domain.enums import BillingCycle, SubscriptionStatus
from contractsync.ports.partner_center import PartnerCenterSource
from contractsync.ports.partner_center_api import ClientFactory, PartnerCenterApi, PartnerCenterError
from contractsync.ports.partner_center_documents import (
    DocumentKind,
    PartnerCenterDocument,
    PartnerCenterFormatError,
    PartnerCenterSubscription,
    PartnerCenterTransition,
    TransitionState,
    normalise_id,
)
from contractsync.service import validation as v
from contractsync.service.actor import ADMIN, Actor
from contractsync.service.context import ServiceContext
from contractsync.service.errors import Conflict, ServiceError
from contractsync.service.facade import ContractSync
from contractsync.service.partner_center_import import (
    CREATED,
    ENDED,
    FAILED,
    NEEDS_CUSTOMER,
    NEEDS_PRICE,
    ImportReport,
    creation_body,
    import_partner_center,
    plan_operations,
    price_lookup,
)
from contractsync.service.partner_center_source_queries import get_source
from contractsync.service.partner_center_sources import (
    load,
    next_poll,
    price_table,
    store_refresh_token,
)

log = logging.getLogger(__name__)
JSON = dict[str, Any]
COUNTERS = (
    "customers_seen", "customers_created", "subscriptions_seen", "subscriptions_created",
    "operations_applied", "records_failed", "requests", "throttled",
)  # fmt: skip


Fetch = Callable[[str], bytes]


class PollFailed(Exception):
    """A poll stopped (it resumes where it stopped next time); the message says why."""


@dataclass
class PartnerCenterPolling:
    service: ContractSync
    client_for: ClientFactory
    page_size: int = 100
    group_size: int = 25
    lease_seconds: int = 900
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def ctx(self) -> ServiceContext:
        return self.service.context

    # --- a whole poll ---------------------------------------------------------------------------
    def poll(self, actor: Actor, source_id: str) -> JSON:
        """Run (or resume) one poll of the source; answers the source with its poll state."""
        row = self._claim(actor, source_id)
        run: _Run | None = None
        try:
            client = self.client_for(row, lambda token: store_refresh_token(self.ctx, source_id, token))
            try:
                run = _Run(self, row, client)
                run.all_customers()
            finally:
                client.close()
        except Exception as error:
            self._stopped(source_id, run, error)
            log.warning("Partner Center poll of %s stopped: %s", source_id, error)
            raise PollFailed(str(error)) from error
        return get_source(self.ctx, actor, source_id)

    def due(self) -> list[str]:
        now = self.ctx.now()
        with self.ctx.units(commit=False) as uow:
            return uow.partner_center.due(now)

    def tick(self) -> list[str]:
        """For the worker: poll every source that is due; a failed poll is logged and resumes later."""
        polled = []
        for source_id in self.due():
            try:
                self.poll(ADMIN, source_id)
                polled.append(source_id)
            except (PollFailed, Conflict):
                continue
        return polled

    # --- one subscription (a webhook event) -----------------------------------------------------
    def refresh_subscription(self, source_id: str, customer_id: str, subscription_id: str) -> JSON:
        """Fetch the one subscription an event names and apply its state (the event is never trusted)."""
        with self.ctx.units(commit=False) as uow:
            row = load(uow.partner_center, ADMIN, source_id)
        client = self.client_for(row, lambda token: store_refresh_token(self.ctx, source_id, token))
        run = _Run(self, row, client)
        try:
            customer = client.customer(customer_id)
            report = run.customers([customer], lambda cid: client.subscription(cid, subscription_id))
        finally:
            client.close()
        return {"subscription_id": subscription_id, "records": report.records, "counts": report.counts}

    def register_webhook(self, actor: Actor, source_id: str, url: str) -> JSON:
        url = v.text(url, "url", WEBHOOK_URL_MAX_LENGTH)  # stored as the source's webhook_url
        with self.ctx.units(commit=False) as uow:
            row = load(uow.partner_center, actor, source_id)
        client = self.client_for(row, lambda token: store_refresh_token(self.ctx, source_id, token))
        try:
            registered = client.register_webhook(url, ["subscription-updated"])
        finally:
            client.close()
        with self.ctx.units() as uow:  # kept once Partner Center has it
            uow.partner_center.update(source_id, {"webhook_url": url})
        return registered

    # --- poll state -------------------------------------------------------------------------------
    def _claim(self, actor: Actor, source_id: str) -> PartnerCenterSource:
        now = self.ctx.now()
        with self.ctx.units() as uow:
            row = load(uow.partner_center, actor, source_id)
            poll = uow.partner_center.poll(source_id)
            values: JSON = {"status": "running", "lease_until": now + timedelta(seconds=self.lease_seconds)}
            if poll.status == "idle":  # a fresh poll; otherwise resume at the stored cursor
                values.update(
                    started_at=now, page_token=None, page_index=0, last_error=None,
                    progress=dict.fromkeys(COUNTERS, 0), manual_actions=[],
                )  # fmt: skip
            if not uow.partner_center.claim(source_id, now, values):
                raise Conflict(f"a poll of Partner Center source {source_id} is running")
            return row

    def _save(self, source_id: str, **values: Any) -> None:
        values.setdefault("lease_until", self.ctx.now() + timedelta(seconds=self.lease_seconds))
        with self.ctx.units() as uow:
            uow.partner_center.save_poll(source_id, values)

    def _stopped(self, source_id: str, run: _Run | None, error: Exception) -> None:
        kept = {} if run is None else {"progress": run.progress, "manual_actions": run.manual_actions}
        self._save(
            source_id,
            status="failed",
            lease_until=None,
            last_error=str(error)[:2000],
            next_poll_at=self.ctx.now() + timedelta(minutes=1),
            **kept,
        )


@dataclass
class _Run:
    polling: PartnerCenterPolling
    source: PartnerCenterSource
    client: PartnerCenterApi
    progress: JSON = field(default_factory=dict)
    manual_actions: list[JSON] = field(default_factory=list)
    _tenants: dict[str, list[JSON]] | None = None

    def __post_init__(self) -> None:
        with self.polling.ctx.units(commit=False) as uow:
            poll = uow.partner_center.poll(self.source.id)
        self.progress = {name: int((poll.progress or {}).get(name, 0)) for name in COUNTERS}
        self.manual_actions = list(poll.manual_actions or [])
        self._cursor = (poll.page_token, poll.page_index)
        self.actor = Actor(self.source.reseller_id, "partner-center poll")
        self._listed = price_lookup(price_table(self.source))
        self._orders: dict[str, tuple[str, str]] = {}  # subscription id → (customer id, order id)
        self._order_prices: dict[tuple[str, str], JSON] = {}
        self._requests0 = (self.client.counts.requests, self.client.counts.throttled)

    def all_customers(self) -> None:
        polling, source_id = self.polling, self.source.id
        token, index = self._cursor
        while True:
            items, next_token = self.client.customers_page(polling.page_size, token)
            while index < len(items):
                group = items[index : index + polling.group_size]
                self.customers(group, self.client.subscriptions)
                index += len(group)
                polling._save(source_id, page_token=token, page_index=index, progress=self.progress,
                              manual_actions=self.manual_actions)  # fmt: skip
            if next_token is None:
                break
            token, index = next_token, 0
            polling._save(source_id, page_token=token, page_index=0, progress=self.progress)
        now = polling.ctx.now()
        polling._save(
            source_id, status="idle", lease_until=None, finished_at=now, page_token=None, page_index=0,
            next_poll_at=next_poll(now, self.source.poll_minutes), last_error=None, progress=self.progress,
            manual_actions=self.manual_actions,
        )  # fmt: skip

    def customers(self, group: list[JSON], fetch: Fetch) -> ImportReport:
        """Fetch the group's subscriptions (and the transitions that explain lost seats), then import."""
        local: dict[str, JSON] = {}
        subscription_docs: list[PartnerCenterDocument] = []
        transition_docs: list[PartnerCenterDocument] = []
        for customer in group:
            tenant, name = _tenant_and_name(customer)
            if tenant is None:
                self._manual(None, None, NEEDS_CUSTOMER, "a Partner Center customer without a tenant id")
                continue
            self.progress["customers_seen"] += 1
            for found in self._local_customers(tenant, name):
                local[found["id"]] = found
            raw = fetch(customer.get("id") or tenant)
            document = self._parse(raw, f"customers/{tenant}/subscriptions")
            self._orders.update(
                {sid: (customer.get("id") or tenant, oid) for sid, oid in _order_ids(raw).items()}
            )
            document = _with_tenant(document, tenant)
            self.progress["subscriptions_seen"] += len(document.subscriptions)
            stored = _stored(self.polling, [s.id for s in document.subscriptions])
            customer_id = customer.get("id") or tenant
            transition_docs.append(self._transitions(customer_id, document, list(local.values()), stored))
            # What agrees with the stored state already needs no operation: only the rest is imported.
            document.subscriptions = [s for s in document.subscriptions if _differs(stored.get(s.id), s)]
            subscription_docs.append(document)
        report = import_partner_center(
            self.polling.service, self.actor, transition_docs + subscription_docs, preview=False,
            list_price_for=self.price, operation_key=operation_key, customers=list(local.values()),
        )  # fmt: skip
        self._count(report)
        return report

    # --- customers ---------------------------------------------------------------------------------
    def _parse(self, raw: bytes, source: str) -> PartnerCenterDocument:
        """The document; an unreadable one as a document carrying its error."""
        try:
            return self.polling.ctx.partner_center_kit.read_document(raw, source)
        except PartnerCenterFormatError as error:
            document = PartnerCenterDocument(source, DocumentKind.SUBSCRIPTIONS, "unreadable")
            document.errors.append(error)
            return document

    def _local_customers(self, tenant: str, name: str) -> list[JSON]:
        if self._tenants is None:
            with self.polling.ctx.units(commit=False) as uow:
                rows = uow.directory.customers(self.source.reseller_id)
            self._tenants = {}
            for row in rows:
                if row.tenant_id is not None:
                    self._tenants.setdefault(row.tenant_id.lower(), []).append(
                        {"id": row.id, "tenant_id": row.tenant_id}
                    )
        known = self._tenants.get(tenant)
        if known:
            return known
        body = {"id": f"pc-{tenant}", "reseller_id": self.source.reseller_id, "name": name[:300] or tenant,
                "tenant_id": tenant}  # fmt: skip
        try:
            self.polling.service.create_customer(self.actor, body)
        except ServiceError as error:
            self._manual(
                None, tenant, NEEDS_CUSTOMER, f"customer {name} ({tenant}) not created: {error.message}"
            )
            return []
        self.progress["customers_created"] += 1
        created = [{"id": body["id"], "tenant_id": tenant}]
        self._tenants[tenant] = created
        return created

    # --- transitions -------------------------------------------------------------------------------
    def _transitions(
        self,
        customer_id: str,
        document: PartnerCenterDocument,
        local_customers: list[JSON],
        stored: dict[str, JSON],
    ) -> PartnerCenterDocument:
        found = PartnerCenterDocument(
            f"customers/{customer_id}/transitions", DocumentKind.TRANSITIONS, "Collection"
        )
        by_id = {s.id: s for s in document.subscriptions}
        for pc in document.subscriptions:
            mine = stored.get(pc.id)
            if mine is None or SubscriptionStatus(mine["status"]) in ENDED:
                continue
            if pc.quantity >= mine["quantity"] and pc.status not in ENDED:
                continue  # no seats left it: no transition to look for
            raw = self.client.transitions(customer_id, pc.id)
            for transition in self._parse(
                raw, f"customers/{customer_id}/subscriptions/{pc.id}/transitions"
            ).transitions:
                transition = _with_ids(transition, pc, document.subscriptions)
                target = by_id.get(transition.to_subscription_id or "")
                if (
                    transition.state is not TransitionState.FAILED
                    and target is not None
                    and target.id not in stored
                    and transition.quantity is not None
                ):
                    self._create_before_transition(target, transition.quantity, local_customers, stored)
                found.transitions.append(transition)
        return found

    def _create_before_transition(
        self,
        target: PartnerCenterSubscription,
        moved: int,
        local_customers: list[JSON],
        stored: dict[str, JSON],
    ) -> None:
        """The transition's target with the seats it had before the transition (often none)."""
        price = self.price(target)
        owners = [
            c for c in local_customers if (c["tenant_id"] or "").lower() == (target.customer_tenant_id or "")
        ]
        if price is None or len(owners) != 1 or target.start_date is None or target.auto_renew is None:
            return  # the import reports what is missing when it reaches the target's record
        before = replace(target, quantity=max(target.quantity - moved, 0))
        try:
            self.polling.service.create_subscription(
                self.actor, creation_body(before, owners[0]["id"], price)
            )
        except ServiceError as error:
            self._manual(target.id, target.customer_tenant_id, FAILED, f"not created: {error.message}")
            return
        self.progress["subscriptions_created"] += 1
        stored.update(_stored(self.polling, [target.id]))

    # --- prices ---------------------------------------------------------------------------------------
    def price(self, subscription: PartnerCenterSubscription) -> Decimal | None:
        """The source's price list first; else the list price Partner Center shows on the order
        that bought the subscription (`lineItems[].pricing.listPrice`), for monthly billing only
        (the documented samples price a month); else None: a manual action, never a guess."""
        listed = self._listed(subscription)
        if listed is not None or subscription.billing_cycle is not BillingCycle.MONTHLY:
            return listed
        where = self._orders.get(subscription.id)
        if where is None:
            return None
        if where not in self._order_prices:
            try:
                self._order_prices[where] = self.client.order(*where)
            except PartnerCenterError:
                self._order_prices[where] = {}
        return _order_price(self._order_prices[where], subscription)

    # --- counting -----------------------------------------------------------------------------------
    def _count(self, report: ImportReport) -> None:
        for record in report.records:
            outcome = record["outcome"]
            if outcome == CREATED:
                self.progress["subscriptions_created"] += 1
            if outcome in (NEEDS_PRICE, NEEDS_CUSTOMER, FAILED):
                self.progress["records_failed"] += outcome == FAILED
                self._manual(record["subscription_id"], None, outcome, record["reason"] or outcome)
            self.progress["operations_applied"] += sum(
                1 for op in record["operations"]
                if op["type"] != "create" and op["status"] == "applied" and not op.get("replayed")
            )  # fmt: skip
        requests0, throttled0 = self._requests0
        self.progress["requests"] += self.client.counts.requests - requests0
        self.progress["throttled"] += self.client.counts.throttled - throttled0
        self._requests0 = (self.client.counts.requests, self.client.counts.throttled)

    def _manual(self, subscription_id: str | None, tenant: str | None, kind: str, reason: str) -> None:
        item = {"kind": kind, "subscription_id": subscription_id, "tenant_id": tenant, "reason": reason}
        if item not in self.manual_actions and len(self.manual_actions) < 5000:
            self.manual_actions.append(item)


def _order_ids(raw: bytes) -> dict[str, str]:
    """Subscription id → `orderId` from a subscriptions answer (the reader keeps no order ids)."""
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    listed = data.get("items") if isinstance(data, dict) else None
    items: list[Any] = listed if isinstance(listed, list) else [data]
    found = {}
    for item in items:
        if isinstance(item, dict):
            fields = {str(k).lower(): v for k, v in item.items()}
            if isinstance(fields.get("id"), str) and isinstance(fields.get("orderid"), str):
                found[normalise_id(fields["id"])] = fields["orderid"]
    return found


def _order_price(order: JSON, subscription: PartnerCenterSubscription) -> Decimal | None:
    for line in order.get("lineItems") or []:
        if not isinstance(line, dict):
            continue
        same = normalise_id(str(line.get("subscriptionId") or "")) == subscription.id or (
            not line.get("subscriptionId")
            and str(line.get("offerId") or "").upper() == subscription.offer_id.upper()
        )
        price = (line.get("pricing") or {}).get("listPrice") if same else None
        if isinstance(price, int | Decimal) and not isinstance(price, bool) and price >= 0:
            return Decimal(price)
    return None


def operation_key(local: JSON, body: JSON) -> str:
    """The subscription, the stored version the difference was computed from, and the operation."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"partner-center:{local['id']}:v{local.get('version', 0)}:{body['type']}:{digest}"


def _tenant_and_name(customer: JSON) -> tuple[str | None, str]:
    lowered = {key.lower(): value for key, value in customer.items()}
    profile = {key.lower(): value for key, value in (lowered.get("companyprofile") or {}).items()}
    tenant = profile.get("tenantid") or lowered.get("id")
    name = profile.get("companyname") or ""
    return (str(tenant).strip().lower() or None) if tenant else None, str(name).strip()


def _with_tenant(document: PartnerCenterDocument, tenant: str) -> PartnerCenterDocument:
    """Subscriptions read from a customer's collection belong to that customer, whatever their links say."""
    document.subscriptions = [
        s if s.customer_tenant_id == tenant else replace(s, customer_tenant_id=tenant)
        for s in document.subscriptions
    ]
    return document


def _with_ids(
    transition: PartnerCenterTransition,
    source: PartnerCenterSubscription,
    others: list[PartnerCenterSubscription],
) -> PartnerCenterTransition:
    """Transitions read for a subscription start from it; a target named only by its catalog item is
    the customer's one other subscription of that product and SKU (none or several: left unnamed)."""
    if transition.from_subscription_id is None:
        transition = replace(transition, from_subscription_id=source.id)
    if transition.to_subscription_id is None and transition.to_offer_id:
        sku = ":".join(transition.to_offer_id.upper().split(":")[:2])
        matches = [
            s for s in others if s.id != source.id and ":".join(s.offer_id.upper().split(":")[:2]) == sku
        ]
        if len(matches) == 1:
            transition = replace(transition, to_subscription_id=matches[0].id)
    return transition


def _stored(polling: PartnerCenterPolling, ids: list[str]) -> dict[str, JSON]:
    """The stored subscriptions among `ids`, with the fields `plan_operations` compares."""
    if not ids:
        return {}
    with polling.ctx.units(commit=False) as uow:
        found = [s.value for s in uow.directory.subscriptions(ids)]
    return {
        r.id: {
            "id": r.id, "quantity": r.quantity, "status": r.status.value, "kind": r.kind.value,
            "auto_renew": r.auto_renew, "friendly_name": r.friendly_name, "end_date": r.end_date.isoformat(),
            "term": r.term.value, "billing_cycle": r.billing_cycle.value, "offer_id": r.offer_id,
        }
        for r in found
    }  # fmt: skip


def _differs(stored: JSON | None, pc: PartnerCenterSubscription) -> bool:
    """New to contractsync, or some difference an operation (or a failure) must answer."""
    if stored is None:
        return True
    plan = plan_operations(stored, pc)
    return bool(plan.operations or plan.problems)
