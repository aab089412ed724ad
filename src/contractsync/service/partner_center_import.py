"""X3: turn Partner Center subscription state into contractsync operations.

For every subscription in the documents: when contractsync does not know it, it is created (only
when its customer is found by tenant id and a list price is known; otherwise the report says what
is missing). When contractsync knows it, the difference from the stored state becomes lifecycle
operations through `ContractSync.apply_operation` — the same path as the API, so the same rules,
audit records and preview. Transitions / upgrades become `upgrade` operations.

Order matters. Transitions go first, and only between subscriptions known before the import:
subscription records carry absolute state (quantities after the transition), so applying them
afterwards converges, and a subscription created by this import already holds its moved seats.
Within one subscription a reactivation comes first (the other changes then apply to a live
subscription) and a suspension, cancellation or expiry last.

Nothing here guesses: a difference no operation can express (a term or offer changed without a
renewal, an ended subscription that Partner Center shows live again) fails that record with the
reason, and the other records are still imported.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from contractsync.domain.enums import SubscriptionStatus
from contractsync.ports.partner_center_documents import (
    DocumentKind,
    PartnerCenterDocument,
    PartnerCenterSubscription,
    PartnerCenterTransition,
    TransitionState,
)
from contractsync.service.actor import Actor
from contractsync.service.batch_input import read_batch
from contractsync.service.errors import NotFound, ServiceError
from contractsync.service.facade import ContractSync

JSON = dict[str, Any]
PriceLookup = Callable[[PartnerCenterSubscription], Decimal | None]
Progress = Callable[[int, int], None]
#: (stored subscription, operation body) → the idempotency key to apply it under, or None
OperationKey = Callable[[JSON, JSON], str | None]

#: The end date stored for an open-ended subscription (Partner Center's `9999-12-..` sentinel).
#: Not `date.max`: the expiry and renewal rules compute E+1, which must still be a date.
OPEN_ENDED_END_DATE = date(9999, 12, 30)

ENDED = (SubscriptionStatus.CANCELED, SubscriptionStatus.EXPIRED)

# Outcomes of one record, as the report names them.
CREATED = "created"  # a new subscription was stored
NEW = "new"  # preview: it would be created
UPDATED = "updated"  # operations applied (or previewed)
UNCHANGED = "unchanged"
NEEDS_CUSTOMER = "needs_customer"
NEEDS_PRICE = "needs_price"
SKIPPED = "skipped"  # nothing to do, with the reason
FAILED = "failed"


@dataclass
class ImportReport:
    preview: bool
    files: list[JSON] = field(default_factory=list)
    records: list[JSON] = field(default_factory=list)

    @property
    def errors(self) -> list[JSON]:
        return [
            {
                "file": r["file"],
                "record": r["record"],
                "subscription_id": r["subscription_id"],
                "field": r.get("field"),  # the Partner Center field, for a record that could not be read
                "message": r["reason"],
            }
            for r in self.records
            if r["outcome"] == FAILED
        ]

    @property
    def counts(self) -> dict[str, int]:
        return dict(Counter(r["outcome"] for r in self.records))

    @property
    def failed(self) -> bool:
        return any(r["outcome"] == FAILED for r in self.records)

    def as_json(self) -> JSON:
        return {
            "preview": self.preview,
            "note": "preview: nothing was stored or sent; each operation was computed on the stored state"
            if self.preview
            else None,
            "counts": self.counts,
            "files": self.files,
            "records": self.records,
            "errors": self.errors,
        }


def import_partner_center(
    service: ContractSync,
    actor: Actor,
    documents: Iterable[PartnerCenterDocument],
    *,
    preview: bool,
    list_price_for: PriceLookup | None = None,
    effective_date: date | None = None,
    progress: Progress | None = None,
    operation_key: OperationKey | None = None,
    customers: list[JSON] | None = None,
) -> ImportReport:
    """Import parsed documents. `effective_date` (default: today in the connection's time zone) dates
    the operations derived from state differences; a transition keeps the date Partner Center gives.
    `operation_key` keys the operations derived from differences (polling: two fetches of the same
    change, a poll and a webhook, apply it once). `customers` ({id, tenant_id} each): the customers
    to find tenants among, when the caller has them already (default: `list_customers`)."""
    docs = list(documents)
    run = _Run(service, actor, preview, list_price_for, effective_date, operation_key, customers)
    report = ImportReport(preview=preview, files=[_file_summary(d) for d in docs])
    incoming = {s.id for d in docs for s in d.subscriptions}
    total = sum(d.record_count for d in docs)
    done = 0

    def step(record: JSON) -> None:
        nonlocal done
        report.records.append(record)
        done += 1
        if progress is not None:
            progress(done, total)

    for document in docs:
        for error in document.errors:
            unreadable = _record(error.source, error.record, None, "unreadable", FAILED, str(error))
            step({**unreadable, "field": error.field})
    for document in docs:
        for transition in document.transitions:
            step(run.transition(transition, incoming))
    for document in docs:
        for subscription in document.subscriptions:
            step(run.subscription(subscription))
    return report


def _file_summary(document: PartnerCenterDocument) -> JSON:
    return {
        "file": document.source,
        "kind": document.kind.value,
        "object_type": document.object_type,
        "subscriptions": len(document.subscriptions),
        "transitions": len(document.transitions),
        "errors": len(document.errors),
        "ignored_reason": document.ignored_reason if document.kind is DocumentKind.IGNORED else None,
    }


def _record(
    file: str, record: str, subscription_id: str | None, kind: str, outcome: str, reason: str | None
) -> JSON:
    return {
        "file": file,
        "record": record,
        "kind": kind,
        "subscription_id": subscription_id,
        "outcome": outcome,
        "reason": reason,
        "operations": [],
        "notes": [],
    }


@dataclass
class _Run:
    service: ContractSync
    actor: Actor
    preview: bool
    list_price_for: PriceLookup | None
    effective_date: date | None
    operation_key: OperationKey | None = None
    _customers: list[JSON] | None = None

    # --- subscriptions -------------------------------------------------------------------------
    def subscription(self, pc: PartnerCenterSubscription) -> JSON:
        result = _record(pc.source, pc.record, pc.id, "subscription", UNCHANGED, None)
        result["notes"] += list(pc.defaults)
        if pc.scheduled_next_term is not None:
            # No operation stores next-term instructions yet; the renewal (R7) uses what is stored.
            result["notes"].append(f"scheduled next term in Partner Center (not stored): {_next_term(pc)}")
        local = self._find(pc.id)
        if local is None:
            return self._new(pc, result)
        plan = plan_operations(local, pc)
        result["subscription_id"] = local["id"]
        result["notes"] += plan.notes
        for body in plan.operations:
            key = self.operation_key(local, body) if self.operation_key is not None else None
            keyed = body if key is None else {**body, "idempotency_key": key}
            result["operations"].append(self._apply(local["id"], keyed))
        failures = plan.problems + [op["error"] for op in result["operations"] if op["error"]]
        if failures:
            result["outcome"], result["reason"] = FAILED, "; ".join(failures)
        elif plan.operations:
            result["outcome"] = UPDATED
        return result

    def _find(self, subscription_id: str) -> JSON | None:
        # GUIDs are case-insensitive; the parser lower-cases them, an older record may not be.
        for candidate in dict.fromkeys((subscription_id, subscription_id.upper())):
            try:
                return self.service.get_subscription(self.actor, candidate)
            except NotFound:
                continue
        return None

    def _new(self, pc: PartnerCenterSubscription, result: JSON) -> JSON:
        if pc.status in ENDED:
            result["outcome"] = SKIPPED
            result["reason"] = (
                f"not known locally and {pc.partner_center_status} in Partner Center: nothing to bill"
            )
            return result
        customer, missing_customer = self._customer(pc)
        price = self.list_price_for(pc) if self.list_price_for is not None else None
        missing = [
            m for m in (missing_customer, None if price is not None else "no list price is known") if m
        ]
        if customer is None or price is None:
            result["outcome"] = NEEDS_CUSTOMER if customer is None else NEEDS_PRICE
            result["reason"] = "not created: " + "; ".join(missing)
            return result
        if pc.start_date is None or pc.auto_renew is None:
            name = "effectiveStartDate" if pc.start_date is None else "autoRenewEnabled"
            result["outcome"], result["reason"] = FAILED, f"not created: {name} is missing"
            return result
        body = creation_body(pc, customer["id"], price)
        result["operations"].append({"type": "create", "body": body, "status": "previewed", "error": None})
        if self.preview:
            result["outcome"] = NEW
            then = " (then suspended)" if pc.status is SubscriptionStatus.SUSPENDED else ""
            result["reason"] = f"would be created for customer {customer['id']}{then}"
            return result
        try:
            self.service.create_subscription(self.actor, body)
        except ServiceError as error:
            result["operations"][-1].update(status="refused", error=error.message)
            result["outcome"], result["reason"] = FAILED, f"not created: {error.message}"
            return result
        result["operations"][-1]["status"] = "applied"
        result["outcome"] = CREATED
        if pc.status is SubscriptionStatus.SUSPENDED:
            suspended = self._apply(pc.id, {"type": "suspend"})
            result["operations"].append(suspended)
            if suspended["error"]:
                result["outcome"], result["reason"] = FAILED, f"created, but {suspended['error']}"
        return result

    def _customer(self, pc: PartnerCenterSubscription) -> tuple[JSON | None, str | None]:
        """(the customer with the record's tenant id, else None and why)."""
        if pc.customer_tenant_id is None:
            return None, "the record names no customer tenant id"
        if self._customers is None:
            self._customers = self.service.list_customers(self.actor)
        tenant = pc.customer_tenant_id.lower()
        found = [c for c in self._customers if (c.get("tenant_id") or "").lower() == tenant]
        if not found:
            return None, f"no customer has tenant id {pc.customer_tenant_id}"
        if len(found) > 1:
            ids = ", ".join(c["id"] for c in found)
            return None, f"customers {ids} share tenant id {pc.customer_tenant_id}: which one is it?"
        return found[0], None

    # --- transitions ---------------------------------------------------------------------------
    def transition(self, t: PartnerCenterTransition, incoming: set[str]) -> JSON:
        result = _record(t.source, t.record, t.from_subscription_id, "transition", SKIPPED, None)
        result["notes"] += list(t.errors)
        if t.state is TransitionState.FAILED:
            result["reason"] = "Partner Center reports this transition failed: nothing moved"
            return result
        if t.from_subscription_id is None or t.to_subscription_id is None:
            result["reason"] = (
                "names catalog items only, not subscriptions: import the subscriptions' current state instead"
            )
            return result
        source = self._find(t.from_subscription_id)
        target = self._find(t.to_subscription_id)
        if source is None:
            result["reason"] = (
                f"source subscription {t.from_subscription_id} is not known locally: nothing to move"
            )
            return result
        result["subscription_id"] = source["id"]
        if target is None:
            if t.to_subscription_id in incoming:
                result["reason"] = (
                    f"target {t.to_subscription_id} is new in this import: its record and the source's "
                    "record carry the quantities after the transition"
                )
            else:
                result["outcome"] = FAILED
                result["reason"] = (
                    f"target subscription {t.to_subscription_id} is not known locally: import it first"
                )
            return result
        # A legacy UpgradeResult has no quantity: a legacy upgrade moves the whole subscription.
        quantity = t.quantity if t.quantity is not None else int(source["quantity"])
        if quantity == 0:
            # Only possible for a legacy result: every seat left already, i.e. it was imported before.
            result["reason"] = f"source subscription {source['id']} has no seats left to move"
            return result
        body: JSON = {"type": "upgrade", "target_subscription_id": target["id"], "quantity": quantity}
        if t.occurred_on is not None:
            body["effective_date"] = t.occurred_on.isoformat()
        if t.operation_id is not None:
            # Importing the same transition again must not move its seats twice.
            body["idempotency_key"] = f"partner-center-transition:{t.operation_id}"
        operation = self._apply(source["id"], body)
        result["operations"].append(operation)
        if operation["replayed"]:
            result["outcome"] = UNCHANGED
            result["reason"] = f"transition {t.operation_id} was imported before; its seats moved then"
            return result
        if t.state is TransitionState.STARTED:
            result["notes"].append("Partner Center had started the transition; applied as done")
        result["outcome"] = FAILED if operation["error"] else UPDATED
        result["reason"] = operation["error"]
        return result

    # --- applying ------------------------------------------------------------------------------
    def _apply(self, subscription_id: str, body: JSON) -> JSON:
        body = dict(body)
        if self.effective_date is not None and "effective_date" not in body:
            body["effective_date"] = self.effective_date.isoformat()
        try:
            batch = read_batch([{"subscription_id": subscription_id, **body}], preview=self.preview)
            [result] = self.service.apply_operations(self.actor, batch)["results"]
        except ServiceError as error:
            result = {
                "status": "refused",
                "error": {"message": error.message},
                "records": [],
                "replayed": False,
            }
        return {
            "type": body["type"],
            "body": {**body, "preview": True} if self.preview else body,
            "status": result["status"],
            "error": result["error"]["message"] if result["error"] else None,
            "replayed": result["replayed"],
            "records": [_record_summary(r) for r in result["records"]],
        }


def _record_summary(record: JSON) -> JSON:
    return {
        "type": record["type"],
        "status": record["status"],
        "reason": record.get("reason"),
        "adjustments": [
            {
                "contract_service_id": a["contract_service_id"],
                "effective_date": a["effective_date"],
                "unit_change": a["unit_change"],
                "adjusted_unit_price": a["adjusted_unit_price"],
                "adjusted_unit_cost": a["adjusted_unit_cost"],
            }
            for a in record.get("adjustments", [])
        ],
    }


def _next_term(pc: PartnerCenterSubscription) -> str:
    nxt = pc.scheduled_next_term
    assert nxt is not None
    parts = [
        f"offer {nxt.offer_id}" if nxt.offer_id else None,
        f"term {nxt.term}" if nxt.term else None,
        f"billing cycle {nxt.billing_cycle}" if nxt.billing_cycle else None,
        f"quantity {nxt.quantity}" if nxt.quantity is not None else None,
        f"ends {nxt.custom_term_end_date.isoformat()}" if nxt.custom_term_end_date else None,
    ]
    return ", ".join(p for p in parts if p) or "no changes"


def price_lookup(table: dict[str, Decimal]) -> PriceLookup:
    """List prices by full offer id or by productId:skuId (the SKU; SPEC §1), keys case-insensitive."""
    upper = {key.upper(): price for key, price in table.items()}

    def lookup(subscription: PartnerCenterSubscription) -> Decimal | None:
        offer = subscription.offer_id.upper()
        return upper.get(offer, upper.get(":".join(offer.split(":")[:2])))

    return lookup


def creation_body(pc: PartnerCenterSubscription, customer_id: str, list_price: Decimal) -> JSON:
    """The `create_subscription` body (API.md) for a Partner Center subscription."""
    assert pc.start_date is not None and pc.auto_renew is not None
    body: JSON = {
        "id": pc.id,
        "customer_id": customer_id,
        "offer_id": pc.offer_id,
        "offer_name": pc.offer_name or pc.friendly_name or pc.offer_id,
        "kind": pc.kind.value,
        "quantity": pc.quantity,
        "term": pc.term.value,
        "billing_cycle": pc.billing_cycle.value,
        "start_date": pc.start_date.isoformat(),
        "end_date": (pc.end_date or OPEN_ENDED_END_DATE).isoformat(),
        "auto_renew": pc.auto_renew,
        "list_price": str(list_price),
    }
    if pc.friendly_name:
        body["friendly_name"] = pc.friendly_name
    return body


# --- the difference between stored and Partner Center state ----------------------------------------


@dataclass
class Plan:
    operations: list[JSON] = field(default_factory=list)
    #: differences no operation can express: the record fails with these
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def plan_operations(local: JSON, pc: PartnerCenterSubscription) -> Plan:
    """The operations that take the stored subscription (`get_subscription` view) to Partner Center's state."""
    plan = Plan()
    status = SubscriptionStatus(local["status"])
    if status in ENDED:
        if pc.status not in ENDED:
            plan.problems.append(
                f"{status.value} locally but {pc.partner_center_status} in Partner Center: "
                "an ended subscription cannot come back"
            )
        elif pc.status is not status:
            plan.notes.append(
                f"already {status.value} locally ({pc.partner_center_status} in Partner Center)"
            )
        return plan
    if pc.status in ENDED:
        # The last operation a subscription takes: its other differences no longer matter.
        plan.operations.append({"type": "cancel" if pc.status is SubscriptionStatus.CANCELED else "expire"})
        return plan
    if local["kind"] != pc.kind.value:
        plan.problems.append(f"kind is {local['kind']} locally but {pc.kind.value} in Partner Center")
    if status is SubscriptionStatus.SUSPENDED and pc.status is SubscriptionStatus.ACTIVE:
        plan.operations.append({"type": "reactivate"})
    renewal = _renewal(local, pc, plan)
    if renewal is not None:
        plan.operations.append(renewal)
    else:
        _mid_term(local, pc, plan)
    if pc.auto_renew is not None and pc.auto_renew != local["auto_renew"]:
        plan.operations.append({"type": "update_auto_renew", "auto_renew": pc.auto_renew})
    if pc.friendly_name is not None and pc.friendly_name != local["friendly_name"]:
        plan.operations.append({"type": "update_friendly_name", "friendly_name": pc.friendly_name})
    if status is SubscriptionStatus.ACTIVE and pc.status is SubscriptionStatus.SUSPENDED:
        plan.operations.append({"type": "suspend"})
    return plan


def _renewal(local: JSON, pc: PartnerCenterSubscription, plan: Plan) -> JSON | None:
    """A `renew` when Partner Center's term ends later than the stored one (R7), carrying what changed."""
    stored_end = date.fromisoformat(local["end_date"])
    if pc.end_date is None or stored_end >= OPEN_ENDED_END_DATE:
        if (pc.end_date is None) != (stored_end >= OPEN_ENDED_END_DATE):
            shown = "no end" if pc.end_date is None else pc.end_date.isoformat()
            plan.notes.append(f"term end {shown} in Partner Center, {local['end_date']} locally: not changed")
        return None
    if pc.end_date < stored_end:
        plan.problems.append(
            f"Partner Center's term ends {pc.end_date.isoformat()}, before the stored end {local['end_date']}: "
            "no operation shortens a term"
        )
        return None
    if pc.end_date == stored_end:
        return None
    body: JSON = {"type": "renew", "end_date": pc.end_date.isoformat()}
    if pc.quantity != local["quantity"]:
        body["quantity"] = pc.quantity
    if pc.term.value != local["term"]:
        body["term"] = pc.term.value
    if pc.billing_cycle.value != local["billing_cycle"]:
        body["billing_cycle"] = pc.billing_cycle.value
    if not _same_offer(local["offer_id"], pc.offer_id):
        body["offer_id"] = pc.offer_id
    return body


def _mid_term(local: JSON, pc: PartnerCenterSubscription, plan: Plan) -> None:
    """Differences within the current term: quantity and billing cycle have operations; term and offer do not."""
    if pc.quantity != local["quantity"]:
        plan.operations.append({"type": "update_quantity", "quantity": pc.quantity})
    if pc.billing_cycle.value != local["billing_cycle"]:
        plan.operations.append({"type": "update_billing_cycle", "billing_cycle": pc.billing_cycle.value})
    if pc.term.value != local["term"]:
        plan.problems.append(
            f"term is {local['term']} locally but {pc.term.value} in Partner Center without a renewal: "
            "no operation changes a term mid-term"
        )
    if not _same_offer(local["offer_id"], pc.offer_id):
        plan.problems.append(
            f"offer is {local['offer_id']} locally but {pc.offer_id} in Partner Center without a renewal or "
            "transition: no operation changes an offer mid-term"
        )


def _same_offer(stored: str, incoming: str) -> bool:
    """Offers match on productId:skuId (SPEC §1): the availability part changes between terms."""

    def sku(offer_id: str) -> str:
        return ":".join(offer_id.upper().split(":")[:2])

    return sku(stored) == sku(incoming)
