"""An in-memory `ContractSync` for testing the HTTP layer alone.

It keeps the façade's contract where the API depends on it: answer shapes, tenant isolation
(another reseller's ids are NotFound), Forbidden for non-admin reseller creation, Conflict on
duplicate ids, and it never returns a connection's secret. Every use-case call is recorded in
`calls`, so a test can assert that a refused request reached nothing.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

from contractsync.service.actor import Actor
from contractsync.service.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from contractsync.service.facade import JSON, ContractSync

ADMIN_TOKEN = "admin-token"


class FakeContractSync(ContractSync):
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.tokens: dict[str, str | None] = {ADMIN_TOKEN: None}
        self.resellers: dict[str, JSON] = {}
        self.connections: dict[str, JSON] = {}
        self.customers: dict[str, JSON] = {}
        self.subscriptions: dict[str, JSON] = {}
        self.operations: dict[int, JSON] = {}
        self._ids = itertools.count(1)
        self.healthy = True

    # --- helpers --------------------------------------------------------------------------------
    def _call(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))

    @staticmethod
    def _visible(actor: Actor, table: dict[Any, JSON], key: Any, what: str) -> JSON:
        row = table.get(key)
        if row is None or not actor.can_see(row["reseller_id"]):
            raise NotFound(f"no {what} {key}")
        return row

    def _reseller(self, actor: Actor, reseller_id: str) -> JSON:
        row = self.resellers.get(reseller_id)
        if row is None or not actor.can_see(reseller_id):
            raise NotFound(f"no reseller {reseller_id}")
        return row

    def _record(self, subscription: JSON, type_: str, preview: bool = False) -> JSON:
        record = {
            "id": next(self._ids),
            "connection_id": (subscription.get("mapping") or {}).get("connection_id"),
            "subscription_id": subscription["id"],
            "customer_id": subscription["customer_id"],
            "reseller_id": subscription["reseller_id"],
            "operation_key": f"k{len(self.operations)}",
            "type": type_,
            "status": "pending",
            "reason": None,
            "notes": [],
            "effective_date": "2024-05-20",
            "created_at": "2024-05-20T10:00:00Z",
            "updated_at": "2024-05-20T10:00:00Z",
            "preview": preview,
            "adjustments": [],
            "can_retry": False,
        }
        if not preview:
            self.operations[record["id"]] = record
        return self._public(record)

    @staticmethod
    def _public(record: JSON) -> JSON:
        return {k: v for k, v in record.items() if k != "reseller_id"}

    @staticmethod
    def _page(items: list[JSON], page: int, page_size: int) -> JSON:
        start = (page - 1) * page_size
        return {
            "items": items[start : start + page_size],
            "page": page,
            "page_size": page_size,
            "total": len(items),
        }

    # --- the façade -----------------------------------------------------------------------------
    def create_reseller(self, actor: Actor, body: JSON) -> JSON:
        self._call("create_reseller", actor, body)
        if not actor.is_admin:
            raise Forbidden("only the provider creates resellers")
        if body["id"] in self.resellers:
            raise Conflict(f"reseller {body['id']} exists already")
        self.resellers[body["id"]] = {**body, "approved_through": None}
        return copy.deepcopy(self.resellers[body["id"]])

    def list_resellers(self, actor: Actor) -> list[JSON]:
        self._call("list_resellers", actor)
        return [copy.deepcopy(r) for r in self.resellers.values() if actor.can_see(r["id"])]

    def approve_billing(self, actor: Actor, reseller_id: str, body: JSON) -> JSON:
        self._call("approve_billing", actor, reseller_id, body)
        reseller = self._reseller(actor, reseller_id)
        reseller["approved_through"] = body["approved_through"]
        return copy.deepcopy(reseller)

    def create_connection(self, actor: Actor, body: JSON) -> JSON:
        self._call("create_connection", actor, body)
        self._reseller(actor, body["reseller_id"])
        if body["id"] in self.connections:
            raise Conflict(f"connection {body['id']} exists already")
        policies = {"upgrade": "manual", "legacy_suspend": "manual", "reseller_change": "manual"}
        policies.update(body.get("policies") or {})
        self.connections[body["id"]] = {
            "id": body["id"],
            "reseller_id": body["reseller_id"],
            "kind": body["kind"],
            "username": body["username"],
            "integration_code": body["integration_code"],
            "base_url": body.get("base_url"),
            "timezone": body["timezone"],
            "settle_seconds": body.get("settle_seconds") or 600,
            "policies": policies,
            "created_at": "2024-05-20T10:00:00Z",
        }
        return copy.deepcopy(self.connections[body["id"]])

    def list_connections(self, actor: Actor) -> list[JSON]:
        self._call("list_connections", actor)
        return [copy.deepcopy(c) for c in self.connections.values() if actor.can_see(c["reseller_id"])]

    def create_customer(self, actor: Actor, body: JSON) -> JSON:
        self._call("create_customer", actor, body)
        self._reseller(actor, body["reseller_id"])
        if body["id"] in self.customers:
            raise Conflict(f"customer {body['id']} exists already")
        self.customers[body["id"]] = {
            "id": body["id"],
            "reseller_id": body["reseller_id"],
            "name": body["name"],
            "tenant_id": body.get("tenant_id"),
            "provider_margins": dict(body.get("provider_margins") or {}),
            "mapping": None,
        }
        return copy.deepcopy(self.customers[body["id"]])

    def list_customers(self, actor: Actor) -> list[JSON]:
        self._call("list_customers", actor)
        return [copy.deepcopy(c) for c in self.customers.values() if actor.can_see(c["reseller_id"])]

    def set_provider_margin(self, actor: Actor, customer_id: str, provider: str, body: JSON) -> list[JSON]:
        self._call("set_provider_margin", actor, customer_id, provider, body)
        customer = self._visible(actor, self.customers, customer_id, "customer")
        if not body.get("preview"):
            customer["provider_margins"][provider] = body["margin_percent"]
        return [
            self._record(s, "UpdateCustomerMarginsOnConnection", bool(body.get("preview")))
            for s in self.subscriptions.values()
            if s["customer_id"] == customer_id and s["mapping"] is not None
        ]

    def create_subscription(self, actor: Actor, body: JSON) -> JSON:
        self._call("create_subscription", actor, body)
        customer = self._visible(actor, self.customers, body["customer_id"], "customer")
        if body["id"] in self.subscriptions:
            raise Conflict(f"subscription {body['id']} exists already")
        self.subscriptions[body["id"]] = {
            "friendly_name": None,
            "promotion": None,
            "price_margin_percent": None,
            **body,
            "reseller_id": customer["reseller_id"],
            "status": "active",
            "unit_cost": body["list_price"],
            "unit_price": body["list_price"],
            "sync_state": "unmapped",
            "mapping": None,
            "open_manual_actions": 0,
        }
        return copy.deepcopy(self.subscriptions[body["id"]])

    def get_subscription(self, actor: Actor, subscription_id: str) -> JSON:
        self._call("get_subscription", actor, subscription_id)
        return copy.deepcopy(self._visible(actor, self.subscriptions, subscription_id, "subscription"))

    def list_subscriptions(
        self,
        actor: Actor,
        customer_id: str | None = None,
        sync_state: str | None = None,
        page: int = 1,
        page_size: int = 50,
    ) -> JSON:
        self._call("list_subscriptions", actor, customer_id, sync_state, page, page_size)
        items = [
            copy.deepcopy(s)
            for s in self.subscriptions.values()
            if actor.can_see(s["reseller_id"])
            and customer_id in (None, s["customer_id"])
            and sync_state in (None, s["sync_state"])
        ]
        return self._page(items, page, page_size)

    def apply_operation(self, actor: Actor, subscription_id: str, body: JSON) -> list[JSON]:
        self._call("apply_operation", actor, subscription_id, body)
        subscription = self._visible(actor, self.subscriptions, subscription_id, "subscription")
        if body["type"] == "update_quantity" and not body.get("preview"):
            subscription["quantity"] = body["quantity"]
        return [
            self._record(subscription, "UpdateSubscriptionQuantityOnConnection", bool(body.get("preview")))
        ]

    def apply_operations(self, actor: Actor, body: JSON) -> JSON:
        self._call("apply_operations", actor, body)
        preview = bool(body.get("preview"))
        results: list[JSON] = []
        for index, entry in enumerate(body["operations"]):
            subscription = self.subscriptions.get(str(entry.get("subscription_id")))
            if subscription is None or not actor.can_see(subscription["reseller_id"]):
                error = {
                    "code": "not_found",
                    "message": f"subscription {entry.get('subscription_id')} not found",
                }
                results.append({"index": index, "subscription_id": str(entry.get("subscription_id")),
                                "type": entry.get("type"), "status": "refused", "error": error, "records": [],
                                "replayed": False})  # fmt: skip
                continue
            record = self._record(subscription, "UpdateSubscriptionQuantityOnConnection", preview)
            results.append({"index": index, "subscription_id": subscription["id"], "type": entry.get("type"),
                            "status": "previewed" if preview else "applied", "error": None, "records": [record],
                            "replayed": False})  # fmt: skip
        refused = sum(1 for r in results if r["error"])
        return {"preview": preview, "applied": len(results) - refused, "refused": refused, "results": results}

    def list_operations(
        self,
        actor: Actor,
        subscription_id: str | None = None,
        status: str | None = None,
        type: str | None = None,
        page: int = 1,
        page_size: int = 50,
    ) -> JSON:
        self._call("list_operations", actor, subscription_id, status, type, page, page_size)
        items = [
            self._public(o)
            for o in reversed(self.operations.values())
            if actor.can_see(o["reseller_id"])
            and subscription_id in (None, o["subscription_id"])
            and status in (None, o["status"])
            and type in (None, o["type"])
        ]
        return self._page(items, page, page_size)

    def get_operation(self, actor: Actor, operation_id: int) -> JSON:
        self._call("get_operation", actor, operation_id)
        return self._public(self._visible(actor, self.operations, operation_id, "operation"))

    def retry_operation(self, actor: Actor, operation_id: int) -> JSON:
        self._call("retry_operation", actor, operation_id)
        record = self._visible(actor, self.operations, operation_id, "operation")
        if record["status"] != "failed":
            raise Conflict(f"operation {operation_id} is {record['status']}, not failed")
        return self._public(record)

    def map_customer(self, actor: Actor, body: JSON) -> JSON:
        self._call("map_customer", actor, body)
        customer = self._visible(actor, self.customers, body["customer_id"], "customer")
        self._visible(actor, self.connections, body["connection_id"], "connection")
        customer["mapping"] = {"connection_id": body["connection_id"], "company_id": body["company_id"]}
        record = self._record(
            {
                "id": None,
                "customer_id": customer["id"],
                "reseller_id": customer["reseller_id"],
                "mapping": None,
            },
            "CreateConnectionCustomerMapping",
        )
        return {**record, "connection_id": body["connection_id"], "status": "succeeded"}

    def map_subscription(self, actor: Actor, body: JSON) -> JSON:
        self._call("map_subscription", actor, body)
        subscription = self._visible(actor, self.subscriptions, body["subscription_id"], "subscription")
        self._visible(actor, self.connections, body["connection_id"], "connection")
        subscription["mapping"] = {
            "connection_id": body["connection_id"],
            "contract_id": body["contract_id"],
            "contract_service_id": body.get("contract_service_id"),
            "service_id": body["service_id"],
            "mapped_on": "2024-05-20",
        }
        subscription["sync_state"] = "out_of_sync"
        return self._record(subscription, "CreateConnectionSubscriptionMapping")

    def unmap_subscription(self, actor: Actor, subscription_id: str) -> None:
        self._call("unmap_subscription", actor, subscription_id)
        subscription = self._visible(actor, self.subscriptions, subscription_id, "subscription")
        if subscription["mapping"] is None:
            raise Invalid(f"subscription {subscription_id} is not mapped")
        subscription["mapping"] = None
        subscription["sync_state"] = "unmapped"

    def search_contracts(self, actor: Actor, connection_id: str, company_id: int | None = None) -> list[JSON]:
        self._call("search_contracts", actor, connection_id, company_id)
        self._visible(actor, self.connections, connection_id, "connection")
        return [
            {
                "id": 100,
                "name": "Managed services",
                "company_id": company_id or 1,
                "start_date": "2024-01-01",
                "end_date": "2026-12-31",
            }
        ]

    def search_contract_services(self, actor: Actor, connection_id: str, contract_id: int) -> list[JSON]:
        self._call("search_contract_services", actor, connection_id, contract_id)
        self._visible(actor, self.connections, connection_id, "connection")
        return [
            {
                "id": 1000,
                "contract_id": contract_id,
                "service_id": 7,
                "service_name": "M365 E5",
                "unit_price": "12.0000",
                "unit_cost": "10.0000",
            }
        ]

    def search_services(self, actor: Actor, connection_id: str, name: str | None = None) -> list[JSON]:
        self._call("search_services", actor, connection_id, name)
        self._visible(actor, self.connections, connection_id, "connection")
        return [{"id": 7, "name": name or "M365 E5", "unit_price": "12.0000", "unit_cost": "10.0000"}]

    def sweep(self, actor: Actor, body: JSON) -> JSON:
        self._call("sweep", actor, body)
        return {"date": body["date"], "operations": [], "preview": bool(body.get("preview"))}

    def run_deliveries(self, actor: Actor) -> JSON:
        self._call("run_deliveries", actor)
        return {"sent": 0, "failed": 0, "retrying": 0, "verified": 0}

    def reconciliation(self, actor: Actor, connection_id: str, fix: bool = False) -> JSON:
        self._call("reconciliation", actor, connection_id, fix)
        self._visible(actor, self.connections, connection_id, "connection")
        return {"connection_id": connection_id, "differences": [], "fixed": 0}

    def list_manual_actions(self, actor: Actor) -> list[JSON]:
        self._call("list_manual_actions", actor)
        return []

    def list_alerts(self, actor: Actor) -> list[JSON]:
        self._call("list_alerts", actor)
        return []

    def create_token(self, reseller_id: str | None) -> str:
        self._call("create_token", reseller_id)
        if reseller_id is not None and reseller_id not in self.resellers:
            raise NotFound(f"no reseller {reseller_id}")
        token = f"token-{next(self._ids)}"
        self.tokens[token] = reseller_id
        return token

    def authenticate(self, token: str) -> Actor:
        if token not in self.tokens:
            raise Unauthorized("unknown token")
        return Actor(self.tokens[token])

    def health(self) -> bool:
        return self.healthy

    # --- for tests --------------------------------------------------------------------------------
    def use_case_calls(self) -> list[str]:
        return [name for name, _ in self.calls]
