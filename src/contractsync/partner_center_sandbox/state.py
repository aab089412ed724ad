"""What the Partner Center sandbox holds: customers, their subscriptions and transitions, tokens,
the webhook registration, injected faults and request counts. One lock guards it all.

Shapes follow Microsoft's documented resources (see README.md): a Customer has `id` and a
`companyProfile` with `tenantId` and `companyName`; a Subscription carries `offerId`, `quantity`,
`status`, `autoRenewEnabled`, `termDuration`, `billingCycle`, `commitmentEndDate`, `links.self`.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

JSON = dict[str, Any]

PARTNER_TENANT = "8a5d3b2e-4f1c-4e7a-9b6d-2c1f0e9d8a7b"
CLIENT_ID = "5f8e2d1c-7b6a-4c3d-9e8f-1a2b3c4d5e6f"
CLIENT_SECRET = "sandbox-client-secret"
REFRESH_TOKEN = "sandbox-refresh-token"
SEED_NAMESPACE = uuid.UUID("0b6f1f8e-2d1a-4c55-9f0e-6e1d2c3b4a59")

#: A few real new-commerce offers (product:sku:availability) to seed with, and their names.
OFFERS = (
    ("CFQ7TTC0LH18:0001:CFQ7TTC0K971", "Microsoft 365 Business Basic"),
    ("CFQ7TTC0LDPB:0001:CFQ7TTC0LGNT", "Microsoft 365 Business Standard"),
    ("CFQ7TTC0LCHC:0002:CFQ7TTC0KDLD", "Microsoft 365 Business Premium"),
    ("CFQ7TTC0LF8Q:0001:CFQ7TTC0K39X", "Office 365 E1"),
    ("CFQ7TTC0LF8R:0001:CFQ7TTC0KCSV", "Office 365 E3"),
    ("CFQ7TTC0LF8S:0001:CFQ7TTC0K9G9", "Office 365 E5"),
    ("CFQ7TTC0LH0R:0001:CFQ7TTC0K8P5", "Exchange Online (Plan 1)"),
    ("CFQ7TTC0LHSF:0001:CFQ7TTC0K8T1", "Teams Essentials"),
    ("CFQ7TTC0LHXK:0001:CFQ7TTC0K5BR", "Microsoft Defender for Business"),
    ("CFQ7TTC0LHWT:0001:CFQ7TTC0K5CG", "Visio Plan 2"),
)

STATUSES = ("active", "suspended", "deleted", "expired")


class SandboxFault(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass
class Fault:
    status: int  # 429 or a 5xx
    remaining: int
    retry_after: int = 1
    path_contains: str = ""


@dataclass
class SandboxConfig:
    partner_tenant: str = PARTNER_TENANT
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    refresh_token: str = REFRESH_TOKEN
    token_seconds: int = 3600
    #: "demo", or "CUSTOMERSxSUBSCRIPTIONS" (e.g. "200x5"), or None (empty)
    seed: str | None = None
    #: list prices by productId:skuId that orders show in `lineItems[].pricing.listPrice`
    list_prices: dict[str, str] = field(default_factory=dict)
    today: Callable[[], date] = field(default_factory=lambda: lambda: datetime.now(UTC).date())


@dataclass
class SandboxState:
    config: SandboxConfig
    customers: dict[str, JSON] = field(default_factory=dict)
    subscriptions: dict[str, dict[str, JSON]] = field(default_factory=dict)
    transitions: dict[str, list[JSON]] = field(default_factory=dict)
    access_tokens: dict[str, datetime] = field(default_factory=dict)
    refresh_tokens: set[str] = field(default_factory=set)
    registration: JSON | None = None
    faults: list[Fault] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    deliveries: list[JSON] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.refresh_tokens.add(self.config.refresh_token)

    # --- faults --------------------------------------------------------------------------------
    def take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.remaining > 0 and fault.path_contains in path:
                    fault.remaining -= 1
                    return fault
            self.faults = [f for f in self.faults if f.remaining > 0]
        return None

    # --- tokens --------------------------------------------------------------------------------
    def issue_tokens(self, client_id: str, client_secret: str, refresh_token: str | None) -> JSON:
        """The refresh-token grant: a new access token and a new (rotated) refresh token."""
        with self.lock:
            if client_id != self.config.client_id or client_secret != self.config.client_secret:
                raise SandboxFault(401, "invalid_client")
            if refresh_token is None or refresh_token not in self.refresh_tokens:
                raise SandboxFault(400, "invalid_grant")
            access = "pcs-at-" + secrets.token_urlsafe(24)
            rotated = "pcs-rt-" + secrets.token_urlsafe(24)
            self.refresh_tokens.add(rotated)  # the old one stays valid until it expires, as Entra's do
            expires = datetime.now(UTC) + timedelta(seconds=self.config.token_seconds)
            self.access_tokens[access] = expires
        return {
            "token_type": "Bearer",
            "scope": "https://api.partnercenter.microsoft.com/user_impersonation",
            "expires_in": self.config.token_seconds,
            "ext_expires_in": self.config.token_seconds,
            "access_token": access,
            "refresh_token": rotated,
        }

    def check_bearer(self, authorization: str | None) -> None:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise SandboxFault(401, "Authorization header with a bearer token is required")
        token = authorization.split(" ", 1)[1].strip()
        with self.lock:
            expires = self.access_tokens.get(token)
        if expires is None or expires <= datetime.now(UTC):
            raise SandboxFault(401, "the access token is not valid or has expired")

    def revoke_access_tokens(self) -> None:
        with self.lock:
            self.access_tokens.clear()

    # --- customers and subscriptions ----------------------------------------------------------
    def add_customer(self, tenant_id: str, name: str, domain: str | None = None) -> JSON:
        customer = {
            "id": tenant_id,
            "commerceId": str(uuid.uuid5(SEED_NAMESPACE, "commerce" + tenant_id)),
            "companyProfile": {
                "tenantId": tenant_id,
                "domain": domain or f"{name.lower().replace(' ', '')[:40] or 'customer'}.onmicrosoft.com",
                "companyName": name,
                "attributes": {"objectType": "CustomerCompanyProfile"},
            },
            "relationshipToPartner": "reseller",
            "links": {"self": {"uri": f"/customers/{tenant_id}", "method": "GET", "headers": []}},
            "attributes": {"objectType": "Customer"},
        }
        with self.lock:
            self.customers[tenant_id] = customer
            self.subscriptions.setdefault(tenant_id, {})
        return customer

    def add_subscription(
        self,
        customer_id: str,
        *,
        subscription_id: str,
        offer_id: str,
        offer_name: str,
        quantity: int,
        start: date,
        term: str = "P1Y",
        billing_cycle: str = "monthly",
        auto_renew: bool = True,
        status: str = "active",
    ) -> JSON:
        with self.lock:
            if customer_id not in self.customers:
                raise SandboxFault(404, f"customer {customer_id} not found")
            subscription = {
                "id": subscription_id,
                "offerId": offer_id,
                "offerName": offer_name,
                "friendlyName": offer_name,
                "productType": {"id": "OnlineServicesNCE", "displayName": "OnlineServicesNCE"},
                "quantity": quantity,
                "unitType": "Licenses",
                "hasPurchasableAddons": False,
                "creationDate": _stamp(start),
                "effectiveStartDate": _stamp(start),
                "commitmentEndDate": _stamp(_term_end(start, term)),
                "status": status,
                "autoRenewEnabled": auto_renew,
                "isTrial": False,
                "billingType": "license",
                "billingCycle": billing_cycle,
                "termDuration": term,
                "renewalTermDuration": "",
                "isMicrosoftProduct": True,
                "partnerId": "",
                "attentionNeeded": False,
                "actionTaken": False,
                "contractType": "subscription",
                "orderId": secrets.token_hex(6),
                "links": {
                    "self": {
                        "uri": f"/customers/{customer_id}/subscriptions/{subscription_id}",
                        "method": "GET",
                        "headers": [],
                    }
                },
                "publisherName": "Microsoft Corporation",
                "attributes": {"etag": _etag(), "objectType": "Subscription"},
            }
            self.subscriptions[customer_id][subscription_id] = subscription
        return subscription

    def subscription(self, customer_id: str, subscription_id: str) -> JSON:
        with self.lock:
            found = self.subscriptions.get(customer_id, {}).get(subscription_id)
        if found is None:
            raise SandboxFault(404, f"subscription {subscription_id} not found for customer {customer_id}")
        return found

    def patch_subscription(self, customer_id: str, subscription_id: str, body: JSON) -> JSON:
        """PATCH: quantity, status (active / suspended / deleted) and autoRenewEnabled."""
        with self.lock:
            subscription = self.subscription(customer_id, subscription_id)
            changes: JSON = {}
            for key, value in body.items():
                name = key[0].lower() + key[1:]
                if name == "quantity":
                    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 300_000:
                        raise SandboxFault(400, "quantity must be a whole number from 1 to 300000")
                    changes["quantity"] = value
                elif name == "status":
                    if value not in ("active", "suspended", "deleted"):
                        raise SandboxFault(
                            400, f"status {value!r} cannot be set (active, suspended, deleted)"
                        )
                    if subscription["status"] in ("deleted", "expired") and value != subscription["status"]:
                        raise SandboxFault(409, f"the subscription is {subscription['status']}")
                    changes["status"] = value
                elif name == "autoRenewEnabled":
                    if not isinstance(value, bool):
                        raise SandboxFault(400, "autoRenewEnabled must be true or false")
                    changes["autoRenewEnabled"] = value
                elif name == "friendlyName" and isinstance(value, str):
                    changes["friendlyName"] = value
                # Other fields of the resource are sent back unchanged by clients: ignored.
            subscription.update(changes)
            if changes:
                subscription["attributes"]["etag"] = _etag()
            return subscription

    def renew(self, customer_id: str, subscription_id: str) -> JSON:
        """Partner Center renews a subscription at its term end: the commitment moves one term on."""
        with self.lock:
            subscription = self.subscription(customer_id, subscription_id)
            end = date.fromisoformat(subscription["commitmentEndDate"][:10])
            subscription["commitmentEndDate"] = _stamp(
                _term_end(end + timedelta(days=1), subscription["termDuration"])
            )
            subscription["attributes"]["etag"] = _etag()
            return subscription

    def transition(self, customer_id: str, subscription_id: str, body: JSON) -> JSON:
        """POST …/transitions: `quantity` seats move to `toCatalogItemId` (a new subscription, or
        `toSubscriptionId` when given); the source keeps the rest, or is cancelled when none is left."""
        lowered = {key.lower(): value for key, value in body.items()}
        quantity = lowered.get("quantity")
        target_offer = lowered.get("tocatalogitemid")
        with self.lock:
            source = self.subscription(customer_id, subscription_id)
            if source["status"] != "active":
                raise SandboxFault(400, "only an active subscription can be transitioned")
            if (
                isinstance(quantity, bool)
                or not isinstance(quantity, int)
                or not 1 <= quantity <= source["quantity"]
            ):
                raise SandboxFault(400, f"quantity must be from 1 to {source['quantity']}")
            target_id = lowered.get("tosubscriptionid")
            if target_id:
                target = self.subscription(customer_id, target_id)
                target["quantity"] += quantity
                target["attributes"]["etag"] = _etag()
            else:
                if not isinstance(target_offer, str) or not target_offer:
                    raise SandboxFault(400, "toCatalogItemId is required")
                name = next(
                    (n for o, n in OFFERS if o.split(":")[:2] == target_offer.split(":")[:2]), target_offer
                )
                target = self.add_subscription(
                    customer_id,
                    subscription_id=str(uuid.uuid4()),
                    offer_id=target_offer,
                    offer_name=name,
                    quantity=quantity,
                    start=self.config.today(),
                    term=source["termDuration"],
                    billing_cycle=source["billingCycle"],
                    auto_renew=source["autoRenewEnabled"],
                )
            source["quantity"] -= quantity
            if source["quantity"] == 0:
                source["status"] = "deleted"
                source["quantity"] = quantity  # a cancelled subscription keeps its last count
            source["attributes"]["etag"] = _etag()
            now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
            record = {
                "id": str(uuid.uuid4()),
                "operationId": str(uuid.uuid4()),
                "fromCatalogItemId": source["offerId"],
                "toCatalogItemId": target["offerId"],
                "fromSubscriptionId": source["id"],
                "toSubscriptionId": target["id"],
                "quantity": quantity,
                "termDuration": target["termDuration"],
                "billingCycle": target["billingCycle"],
                "transitionType": lowered.get("transitiontype") or "transition_only",
                "events": [
                    {"name": "Conversion", "status": "Started", "timestamp": now},
                    {"name": "Conversion", "status": "Completed", "timestamp": now},
                ],
                "attributes": {"objectType": "Transition"},
            }
            self.transitions.setdefault(subscription_id, []).append(record)
            return record

    def order(self, customer_id: str, order_id: str) -> JSON:
        """GET …/orders/{id}: the order's line items (one per subscription it bought), with the
        list price when the sandbox knows one for the offer."""
        with self.lock:
            lines = [s for s in self.subscriptions.get(customer_id, {}).values() if s["orderId"] == order_id]
            if not lines:
                raise SandboxFault(404, f"order {order_id} not found for customer {customer_id}")
            items = []
            for number, sub in enumerate(lines):
                item: JSON = {
                    "lineItemNumber": number, "offerId": sub["offerId"], "subscriptionId": sub["id"],
                    "termDuration": sub["termDuration"], "billingCycle": sub["billingCycle"],
                    "friendlyName": sub["friendlyName"], "quantity": sub["quantity"],
                }  # fmt: skip
                price = self.config.list_prices.get(":".join(sub["offerId"].split(":")[:2]))
                if price is not None:
                    item["pricing"] = {"listPrice": float(price)}
                items.append(item)
            return {
                "id": order_id, "referenceCustomerId": customer_id, "billingCycle": lines[0]["billingCycle"],
                "currencyCode": "USD", "currencySymbol": "$", "lineItems": items,
                "creationDate": lines[0]["creationDate"], "status": "completed",
                "attributes": {"objectType": "Order"},
            }  # fmt: skip

    # --- seeding -------------------------------------------------------------------------------
    def seed_generated(self, customers: int, per_customer: int) -> None:
        """Deterministic customers and subscriptions (the same ids every time), for tests and benchmarks."""
        start = self.config.today() - timedelta(days=40)
        for c in range(customers):
            tenant = str(uuid.uuid5(SEED_NAMESPACE, f"customer-{c}"))
            self.add_customer(tenant, f"Customer {c:05d} Ltd")
            for s in range(per_customer):
                offer_id, name = OFFERS[s % len(OFFERS)]
                self.add_subscription(
                    tenant,
                    subscription_id=str(uuid.uuid5(SEED_NAMESPACE, f"subscription-{c}-{s}")),
                    offer_id=offer_id,
                    offer_name=name,
                    quantity=1 + (c + s) % 25,
                    start=start,
                )


def _stamp(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _term_end(start: date, term: str) -> date:
    months = {"P1M": 1, "P1Y": 12, "P3Y": 36}.get(term.upper(), 12)
    return start + relativedelta(months=months) - timedelta(days=1)


def _etag() -> str:
    return secrets.token_hex(8)
