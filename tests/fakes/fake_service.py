"""An in-memory `ContractSync` for the API, CLI and console tests: no database, no Autotask.

It keeps the façade's contract where callers depend on it: answer shapes, tenant isolation
(another reseller's ids are NotFound), Forbidden for non-admin reseller creation, Conflict on
duplicate ids and on mapping twice, a retry refused when the record cannot be retried, and it
never returns a connection's secret. Every use-case call is recorded in `calls`, so a test can
assert that a refused request reached nothing.

`FakeContractSync()` starts empty; `FakeContractSync.with_sample_data()` holds one reseller with
customers, subscriptions in every sync state, operation records with adjustments, a manual
action, an alert and a reconciliation difference: enough for every console page.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import secrets
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from contractsync.domain.batch_command import BatchCommand
from contractsync.domain.commands import CreateSubscription, SetProviderMargin
from contractsync.domain.model import Promotion
from contractsync.domain.operations import OperationCommand
from contractsync.service.actor import ADMIN, Actor
from contractsync.service.batch_input import as_batch
from contractsync.service.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError, Unauthorized
from contractsync.service.facade import JSON, ContractSync

ADMIN_TOKEN = "admin-token"
RESELLER_TOKEN = "reseller-token"  # reseller r1's, in the sample data only
TODAY = "2026-11-25"
NOW = f"{TODAY}T14:00:00Z"
QUANTITY_CHANGE = "UpdateSubscriptionQuantityOnConnection"

# The Autotask catalogue every connection answers with.
CONTRACTS: list[JSON] = [
    {"id": 100, "name": "Contoso Ltd - Microsoft CSP", "company_id": 1,
     "start_date": "2024-01-01", "end_date": "2027-12-31"},
    {"id": 200, "name": "Fabrikam Inc - Microsoft CSP", "company_id": 2,
     "start_date": "2024-01-01", "end_date": "2027-12-31"},
]  # fmt: skip
SERVICES: list[JSON] = [
    {"id": 7, "name": "Microsoft 365 Business Standard", "unit_price": "15.0000", "unit_cost": "12.5000"},
    {"id": 9, "name": "Azure plan", "unit_price": "0.0000", "unit_cost": "0.0000"},
]


COMPANIES = {1: "Contoso Ltd", 2: "Fabrikam Inc", 3: "Litware Inc"}


class FakeContractSync(ContractSync):
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.tokens: dict[str, str | None] = {ADMIN_TOKEN: None}  # token -> reseller id
        self.token_names: dict[str, str] = {}  # token -> name, when it has one
        self.console_sessions: dict[str, str] = {}  # session secret -> token
        self.resellers: dict[str, JSON] = {}
        self.connections: dict[str, JSON] = {}
        self.customers: dict[str, JSON] = {}
        self.subscriptions: dict[str, JSON] = {}
        # Rows below carry their `reseller_id` for visibility; answers leave it out.
        self.operations: dict[int, JSON] = {}
        self.manual_actions: list[JSON] = []
        self.alerts: list[JSON] = []
        self.differences: dict[str, list[JSON]] = {}  # connection id -> reconciliation differences
        self.currencies: dict[str, str] = {}  # connection id -> its stored currency
        self.pc_sources: list[JSON] = []  # Partner Center sources with their poll
        self.dashboard_answer: JSON = {"today": "2026-11-25", "connections": [], "customers": [],
                                       "unmapped": {}, "trend": {}, "open_alerts": 0,
                                       "open_manual_actions": 0}  # fmt: skip
        self._record_ids = itertools.count(1)
        self._adjustment_ids = itertools.count(1)
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

    @staticmethod
    def _mine(actor: Actor, rows: Iterable[JSON]) -> list[JSON]:
        return [copy.deepcopy(row) for row in rows if actor.can_see(row["reseller_id"])]

    @staticmethod
    def _public(row: JSON) -> JSON:
        return copy.deepcopy({k: v for k, v in row.items() if k != "reseller_id"})

    @staticmethod
    def _insert(table: dict[str, JSON], row: JSON, what: str) -> JSON:
        if row["id"] in table:
            raise Conflict(f"{what} {row['id']} exists already")
        table[row["id"]] = row
        return copy.deepcopy(row)

    def _reseller(self, actor: Actor, reseller_id: str) -> JSON:
        row = self.resellers.get(reseller_id)
        if row is None or not actor.can_see(reseller_id):
            raise NotFound(f"no reseller {reseller_id}")
        return row

    def _record(self, subscription: JSON, type_: str, *, preview: bool = False, **fields: Any) -> JSON:
        """An operation record about `subscription`, stored unless a preview; `fields` override."""
        record_id = next(self._record_ids)
        record = {
            "id": record_id,
            "connection_id": (subscription.get("mapping") or {}).get("connection_id"),
            "subscription_id": subscription["id"],
            "customer_id": subscription["customer_id"],
            "reseller_id": subscription["reseller_id"],
            "operation_key": f"k{record_id}",
            "type": type_,
            "status": "pending",
            "reason": None,
            "notes": [],
            "actor": None,
            "effective_date": TODAY,
            "created_at": NOW,
            "updated_at": NOW,
            "preview": preview,
            "adjustments": [],
            "can_retry": False,
            **fields,
        }
        if not preview:
            self.operations[record_id] = record
        return self._public(record)

    def _adjustment(self, subscription: JSON, target_units: int, unit_change: int, **fields: Any) -> JSON:
        mapping = subscription["mapping"]
        return {
            "id": next(self._adjustment_ids),
            "contract_id": mapping["contract_id"],
            "contract_service_id": mapping["contract_service_id"],
            "effective_date": TODAY,
            "target_units": target_units,
            "unit_change": unit_change,
            "adjusted_unit_price": subscription["unit_price"],
            "adjusted_unit_cost": subscription["unit_cost"],
            "status": "pending",
            "attempts": 0,
            "error": None,
            "due_at": NOW,
            "sent_at": None,
            **fields,
        }

    def _apply(self, actor: Actor, subscription_id: str, body: JSON) -> JSON:
        subscription = self._visible(actor, self.subscriptions, subscription_id, "subscription")
        preview = bool(body.get("preview"))
        adjustments = []
        if body["type"] == "update_quantity":
            if subscription["status"] == "canceled":
                raise Invalid("A canceled subscription's quantity cannot change.")
            if subscription["mapping"] is not None:
                change = body["quantity"] - subscription["quantity"]
                adjustments.append(self._adjustment(subscription, body["quantity"], change))
            if not preview:
                subscription["quantity"] = body["quantity"]
                if subscription["mapping"] is not None:
                    subscription["sync_state"] = "out_of_sync"
        return self._record(
            subscription, QUANTITY_CHANGE, preview=preview, adjustments=adjustments, actor=actor.name
        )

    @staticmethod
    def _page(items: list[JSON], page: int, page_size: int) -> JSON:
        start = (page - 1) * page_size
        return {"items": items[start : start + page_size], "page": page, "page_size": page_size,
                "total": len(items)}  # fmt: skip

    # --- resellers, connections, customers, subscriptions -----------------------------------------
    def create_reseller(self, actor: Actor, body: JSON) -> JSON:
        self._call("create_reseller", actor, body)
        if not actor.is_admin:
            raise Forbidden("only the provider creates resellers")
        return self._insert(self.resellers, {**body, "approved_through": None}, "reseller")

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
        policies = {"upgrade": "manual", "legacy_suspend": "manual", "reseller_change": "manual"}
        policies.update(body.get("policies") or {})
        connection = {
            "id": body["id"],
            "reseller_id": body["reseller_id"],
            "kind": body["kind"],
            "username": body["username"],
            "integration_code": body["integration_code"],
            "base_url": body.get("base_url"),
            "timezone": body["timezone"],
            "settle_seconds": body.get("settle_seconds") or 600,
            "policies": policies,
            "created_at": NOW,
            "paused": None,
        }
        return self._insert(self.connections, connection, "connection")

    def list_connections(self, actor: Actor) -> list[JSON]:
        self._call("list_connections", actor)
        return self._mine(actor, self.connections.values())

    def update_credentials(self, actor: Actor, connection_id: str, body: JSON) -> JSON:
        """The secret is dropped like at creation; a paused connection is due for a probe now."""
        self._call("update_credentials", actor, connection_id, body)
        connection = self._visible(actor, self.connections, connection_id, "connection")
        connection.update({k: body[k] for k in ("username", "integration_code") if body.get(k) is not None})
        if connection["paused"] is not None:
            connection["paused"]["next_probe_at"] = NOW
        return copy.deepcopy(connection)

    def create_customer(self, actor: Actor, body: JSON) -> JSON:
        self._call("create_customer", actor, body)
        self._reseller(actor, body["reseller_id"])
        customer = {
            "id": body["id"],
            "reseller_id": body["reseller_id"],
            "name": body["name"],
            "tenant_id": body.get("tenant_id"),
            "provider_margins": dict(body.get("provider_margins") or {}),
            "mapping": None,
        }
        return self._insert(self.customers, customer, "customer")

    def list_customers(self, actor: Actor) -> list[JSON]:
        self._call("list_customers", actor)
        return self._mine(actor, self.customers.values())

    def set_provider_margin(
        self, actor: Actor, customer_id: str, provider: str, command: SetProviderMargin | JSON
    ) -> list[JSON]:
        body = _json_of(command)
        self._call("set_provider_margin", actor, customer_id, provider, body)
        customer = self._visible(actor, self.customers, customer_id, "customer")
        preview = bool(body.get("preview"))
        if not preview:
            customer["provider_margins"][provider] = body["margin_percent"]
        return [
            self._record(s, "UpdateCustomerMarginsOnConnection", preview=preview)
            for s in self.subscriptions.values()
            if s["customer_id"] == customer_id and s["mapping"] is not None
        ]

    def create_subscription(self, actor: Actor, command: CreateSubscription | JSON) -> JSON:
        body = _json_of(command)
        self._call("create_subscription", actor, body)
        customer = self._visible(actor, self.customers, body["customer_id"], "customer")
        subscription = {
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
        return self._insert(self.subscriptions, subscription, "subscription")

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
            s
            for s in self._mine(actor, self.subscriptions.values())
            if customer_id in (None, s["customer_id"]) and sync_state in (None, s["sync_state"])
        ]
        return self._page(items, page, page_size)

    # --- operations and the audit log ---------------------------------------------------------------
    def apply_operation(
        self, actor: Actor, subscription_id: str, operation: OperationCommand | JSON
    ) -> list[JSON]:
        # Recorded as the API.md body the command stands for, so tests compare what a client sent.
        body = operation.as_json() if isinstance(operation, OperationCommand) else operation
        self._call("apply_operation", actor, subscription_id, body)
        return [self._apply(actor, subscription_id, body)]

    def apply_operations(self, actor: Actor, batch: BatchCommand | JSON) -> JSON:
        batch = as_batch(batch)
        self._call("apply_operations", actor, batch)
        preview = batch.preview
        results: list[JSON] = []
        for index, entry in enumerate(batch.entries):
            subscription_id = entry.subscription_id
            result = {"index": index, "subscription_id": subscription_id, "type": entry.type,
                      "status": "previewed" if preview else "applied", "error": None, "records": [],
                      "replayed": False}  # fmt: skip
            try:
                if entry.command is None:
                    raise Invalid(str(entry.malformed))
                body = {"subscription_id": subscription_id, **entry.command.as_json(), "preview": preview}
                result["records"] = [self._apply(actor, subscription_id, body)]
            except ServiceError as error:
                result |= {"status": "refused", "error": {"code": error.code, "message": error.message}}
            results.append(result)
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
        """A failed record that `can_retry` goes back to pending; otherwise Conflict with its reason."""
        self._call("retry_operation", actor, operation_id)
        record = self._visible(actor, self.operations, operation_id, "operation")
        if record["status"] != "failed":
            raise Conflict(f"operation {operation_id} is {record['status']}, not failed")
        if not record["can_retry"]:
            raise Conflict(record["reason"] or f"operation {operation_id} cannot be retried")
        record["status"], record["can_retry"] = "pending", False
        return self._public(record)

    # --- mappings and the Autotask catalogue ----------------------------------------------------
    def map_customer(self, actor: Actor, body: JSON) -> JSON:
        self._call("map_customer", actor, body)
        customer = self._visible(actor, self.customers, body["customer_id"], "customer")
        self._visible(actor, self.connections, body["connection_id"], "connection")
        if customer["mapping"] is not None:
            raise Conflict(f"customer {customer['id']} is mapped already")
        customer["mapping"] = {"connection_id": body["connection_id"], "company_id": body["company_id"]}
        about = {"id": None, "customer_id": customer["id"], "reseller_id": customer["reseller_id"]}
        return self._record(
            about, "CreateConnectionCustomerMapping", connection_id=body["connection_id"], status="succeeded"
        )

    def map_subscription(self, actor: Actor, body: JSON) -> JSON:
        self._call("map_subscription", actor, body)
        subscription = self._visible(actor, self.subscriptions, body["subscription_id"], "subscription")
        self._visible(actor, self.connections, body["connection_id"], "connection")
        if subscription["mapping"] is not None:
            raise Conflict(f"subscription {subscription['id']} is mapped already")
        subscription["mapping"] = {
            "connection_id": body["connection_id"],
            "contract_id": body["contract_id"],
            "contract_service_id": body.get("contract_service_id") or 3000,  # else added to the contract
            "service_id": body["service_id"],
            "mapped_on": TODAY,
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
        return [dict(c) for c in CONTRACTS if company_id in (None, c["company_id"])]

    def search_contract_services(self, actor: Actor, connection_id: str, contract_id: int) -> list[JSON]:
        self._call("search_contract_services", actor, connection_id, contract_id)
        self._visible(actor, self.connections, connection_id, "connection")
        service = SERVICES[0]
        return [{"id": 1001, "contract_id": contract_id, "service_id": service["id"],
                 "service_name": service["name"], "unit_price": service["unit_price"],
                 "unit_cost": service["unit_cost"]}]  # fmt: skip

    def search_services(self, actor: Actor, connection_id: str, name: str | None = None) -> list[JSON]:
        self._call("search_services", actor, connection_id, name)
        self._visible(actor, self.connections, connection_id, "connection")
        return [dict(s) for s in SERVICES if not name or name.lower() in s["name"].lower()]

    # --- daily work, delivery, reconciliation ----------------------------------------------------
    def sweep(self, actor: Actor, body: JSON) -> JSON:
        self._call("sweep", actor, body)
        return {"date": body["date"], "operations": [], "preview": bool(body.get("preview"))}

    def health(self) -> bool:
        return self.healthy

    def run_deliveries(self, actor: Actor) -> JSON:
        self._call("run_deliveries", actor)
        return {"sent": 0, "failed": 0, "retrying": 0, "verified": 0}

    def reconciliation(self, actor: Actor, connection_id: str, fix: bool = False) -> JSON:
        self._call("reconciliation", actor, connection_id, fix)
        self._visible(actor, self.connections, connection_id, "connection")
        differences = copy.deepcopy(self.differences.get(connection_id, []))
        return {
            "connection_id": connection_id,
            "differences": differences,
            "fixed": len(differences) if fix else 0,
        }

    def list_manual_actions(self, actor: Actor) -> list[JSON]:
        self._call("list_manual_actions", actor)
        return [self._public(a) for a in self._mine(actor, self.manual_actions)]

    def list_alerts(self, actor: Actor, state: str = "open") -> list[JSON]:
        self._call("list_alerts", actor)
        found = [self._public(a) for a in self._mine(actor, self.alerts)]
        if state == "acknowledged":
            return [a for a in found if a.get("acknowledged_at")]
        return found if state in ("open", "all") else []

    def acknowledge_alert(self, actor: Actor, alert_id: int) -> JSON:
        self._call("acknowledge_alert", actor, alert_id)
        for alert in self.alerts:
            if alert["id"] == alert_id and actor.can_see(alert["reseller_id"]):
                alert.setdefault("acknowledged_at", NOW)
                return self._public(alert)
        raise NotFound(f"alert {alert_id} not found")

    def reconciliation_runs(self, actor: Actor, connection_id: str, limit: int = 50) -> JSON:
        self._call("reconciliation_runs", actor, connection_id, limit)
        self._visible(actor, self.connections, connection_id, "connection")
        schedule = {"every_hours": 24, "enabled": True, "currency": "USD"}
        return {"connection_id": connection_id, "schedule": schedule, "items": []}

    def set_reconciliation_schedule(self, actor: Actor, connection_id: str, body: JSON) -> JSON:
        self._call("set_reconciliation_schedule", actor, connection_id, body)
        self._visible(actor, self.connections, connection_id, "connection")
        every = int(body.get("every_hours", 24))
        schedule = {"every_hours": every, "enabled": every > 0, "currency": body.get("currency", "USD")}
        return {"connection_id": connection_id, "schedule": schedule}

    def autotask_today(self, actor: Actor, subscription_id: str) -> JSON | None:
        self._call("autotask_today", actor, subscription_id)
        return None

    def connection_currencies(self, actor: Actor) -> dict[str, str]:
        return {
            c["id"]: self.currencies[c["id"]]
            for c in self._mine(actor, self.connections.values())
            if c["id"] in self.currencies
        }

    def all_subscriptions(self, actor: Actor, customer_id: str | None = None) -> list[JSON]:
        return [
            self._public(s)
            for s in self._mine(actor, self.subscriptions.values())
            if customer_id is None or s["customer_id"] == customer_id
        ]

    def export_operations(self, actor: Actor, filters: JSON) -> list[JSON]:
        self._call("export_operations", actor, filters)
        return self.search_operations(actor, filters, 1, 200)["items"]

    def search_operations(self, actor: Actor, filters: JSON, page: int = 1, page_size: int = 50) -> JSON:
        self._call("search_operations", actor, filters)
        part = (filters.get("subscription") or "").lower()
        found = [
            self._public(r)
            for r in sorted(self._mine(actor, self.operations.values()), key=lambda r: -r["id"])
            if part in (r.get("subscription_id") or "").lower()
            and filters.get("customer_id") in (None, r.get("customer_id"))
            and filters.get("status") in (None, r["status"])
            and filters.get("type") in (None, r["type"])
        ]
        return self._page(found, page, page_size)

    def map_customer_to_company(self, actor: Actor, body: JSON) -> JSON:
        if body.get("company_id") not in COMPANIES:
            raise Invalid(f"Autotask has no customer company {body.get('company_id')}")
        return self.map_customer(actor, body)

    def _mapped_customer(self, actor: Actor, customer_id: str, connection_id: str | None) -> JSON:
        customer = self._visible(actor, self.customers, customer_id, "customer")
        mapping = customer["mapping"]
        if mapping is None or connection_id not in (None, mapping["connection_id"]):
            raise NotFound(f"customer {customer_id} is not mapped")
        return customer

    def _customer_record(self, customer: JSON, connection_id: str, reason: str, actor: Actor) -> JSON:
        about = {"id": None, "customer_id": customer["id"], "reseller_id": customer["reseller_id"]}
        return self._record(about, "CreateConnectionCustomerMapping", connection_id=connection_id,
                            status="succeeded", reason=reason, actor=actor.name)  # fmt: skip

    def unmap_customer(self, actor: Actor, customer_id: str, connection_id: str | None = None) -> JSON:
        customer = self._mapped_customer(actor, customer_id, connection_id)
        mapping, customer["mapping"] = customer["mapping"], None
        reason = f"unmapped from Autotask company {mapping['company_id']}; it has no mapped subscriptions"
        return self._customer_record(customer, mapping["connection_id"], reason, actor)

    def remap_customer(self, actor: Actor, body: JSON) -> JSON:
        customer = self._mapped_customer(actor, body["customer_id"], body["connection_id"])
        if body["company_id"] not in COMPANIES:
            raise Invalid(f"Autotask has no customer company {body['company_id']}")
        if customer["mapping"]["company_id"] == body["company_id"]:
            raise Conflict(
                f"customer {customer['id']} is already mapped to Autotask company {body['company_id']}"
            )
        before, customer["mapping"]["company_id"] = customer["mapping"]["company_id"], body["company_id"]
        reason = f"remapped from Autotask company {before} to {body['company_id']}"
        return self._customer_record(customer, body["connection_id"], reason, actor)

    def accept_subscription_suggestions(
        self, actor: Actor, connection_id: str, chosen: list[JSON]
    ) -> list[JSON]:
        results = []
        for item in chosen:
            try:
                self.map_subscription(actor, {**item, "connection_id": connection_id})
            except ServiceError as error:
                results.append(item | {"status": "refused", "error": error.message})
            else:
                results.append(item | {"status": "mapped", "error": None})
        return results

    def issue_token(self, actor: Actor, body: JSON) -> JSON:
        if not actor.is_admin:
            raise Forbidden("only the provider's admin token may do this")
        name = str(body["name"]).strip()
        if not name or not name.isprintable():
            raise Invalid("name: must be printable, not empty")
        if name in self.token_names.values():
            raise Conflict(f"a token named {name!r} exists already")
        token = self.create_token(body.get("reseller_id"), name=name)
        [listed] = [t for t in self.list_tokens(actor) if t["id"] == self._token_id(token)]
        return listed | {"source": "api", "token": token}

    def autotask_names(
        self, actor: Actor, connection_id: str, refresh: bool = False, wanted: JSON | None = None
    ) -> JSON:
        self._visible(actor, self.connections, connection_id, "connection")
        return {"companies": dict(COMPANIES), "contracts": {100: "Contoso managed services 2026"},
                "services": {s["id"]: s["name"] for s in SERVICES}}  # fmt: skip

    def subscription_suggestions(self, actor: Actor, connection_id: str) -> JSON:
        self._visible(actor, self.connections, connection_id, "connection")
        return {"connection_id": connection_id, "subscriptions": [], "subscriptions_skipped": []}

    def partner_center_sources(self, actor: Actor) -> list[JSON]:
        return [self._public(s) for s in self._mine(actor, self.pc_sources)]

    def company_names(
        self, actor: Actor, connection_id: str, wanted: list[int] | None = None
    ) -> dict[int, str]:
        return dict(COMPANIES)

    def dashboard(self, actor: Actor) -> JSON:
        self._call("dashboard", actor)
        return copy.deepcopy(self.dashboard_answer)

    # --- tokens ---------------------------------------------------------------------------------
    def create_token(self, reseller_id: str | None, expires_at: Any = None, name: str | None = None) -> str:
        self._call("create_token", reseller_id)
        if reseller_id is not None and reseller_id not in self.resellers:
            raise NotFound(f"no reseller {reseller_id}")
        token = f"token-{len(self.tokens)}"
        self.tokens[token] = reseller_id
        if name is not None:
            self.token_names[token] = name
        return token

    def authenticate(self, token: str) -> Actor:
        if token not in self.tokens:
            raise Unauthorized("unknown token")
        return Actor(self.tokens[token], f"token #{self._token_id(token)}")

    def _token_ids(self) -> dict[int, str]:
        return {self._token_id(token): token for token in self.tokens}

    @staticmethod
    def _token_id(token: str) -> int:
        return sum(ord(c) * 31**i for i, c in enumerate(token)) % 1_000_000 + 1

    def list_tokens(self, actor: Actor) -> list[JSON]:
        self._call("list_tokens", actor)
        if not actor.is_admin:
            raise Forbidden("only the provider's admin token may do this")
        return [
            {"id": token_id, "kind": "admin" if self.tokens[token] is None else "reseller",
             "reseller_id": self.tokens[token], "source": "cli", "hint": f"{token[:4]}…",
             "name": self.token_names.get(token),
             "created_at": NOW, "expires_at": None, "last_used_at": None}
            for token_id, token in sorted(self._token_ids().items())
        ]  # fmt: skip

    def revoke_token(self, actor: Actor, token_id: int) -> None:
        self._call("revoke_token", actor, token_id)
        if not actor.is_admin:
            raise Forbidden("only the provider's admin token may do this")
        token = self._token_ids().get(token_id)
        if token is None:
            raise NotFound(f"token {token_id} not found")
        del self.tokens[token]
        self.console_sessions = {k: v for k, v in self.console_sessions.items() if v != token}

    def start_console_session(self, token: str, policy: Any) -> tuple[str, Actor]:
        actor = self.authenticate(token)
        session_id = secrets.token_urlsafe(16)
        self.console_sessions[session_id] = token
        return session_id, actor

    def console_actor(self, session_secret: str) -> Actor | None:
        token = self.console_sessions.get(session_secret)
        if token is None or token not in self.tokens:
            return None
        return Actor(self.tokens[token], f"console (token #{self._token_id(token)})")

    def end_console_session(self, session_secret: str) -> None:
        self.console_sessions.pop(session_secret, None)

    # --- for tests --------------------------------------------------------------------------------
    def use_case_calls(self) -> list[str]:
        return [name for name, _ in self.calls]

    def calls_to(self, name: str) -> list[tuple[Any, ...]]:
        """The arguments of each call of use case `name`, in order."""
        return [args for called, args in self.calls if called == name]

    @classmethod
    def with_sample_data(cls) -> FakeContractSync:
        """Reseller r1 (also RESELLER_TOKEN's) with connection at1; customers c1 (mapped to company 1)
        and c2; subscriptions s1 (synced), s2 (out of sync, a failed operation) and s3 (unmapped);
        operation #1 sent, #2 failed and retryable, #3 failed and not retryable."""
        fake = cls()
        fake.tokens[RESELLER_TOKEN] = "r1"
        fake.create_reseller(ADMIN, {"id": "r1", "name": "Reseller One", "promotion_setting": "keep"})
        fake.create_connection(
            ADMIN,
            {"id": "at1", "reseller_id": "r1", "kind": "autotask", "username": "sandbox@example.com",
             "secret": "s", "integration_code": "SANDBOX", "timezone": "UTC", "settle_seconds": 5},
        )  # fmt: skip
        for customer_id, name, margins in [
            ("c1", "Contoso Ltd", {"microsoft": "20"}),
            ("c2", "Fabrikam Inc", {}),
        ]:
            fake.create_customer(
                ADMIN, {"id": customer_id, "reseller_id": "r1", "name": name, "provider_margins": margins}
            )
        fake.customers["c1"]["mapping"] = {"connection_id": "at1", "company_id": 1}
        for subscription_id, customer_id, name, quantity, kind in [
            ("s1", "c1", "Microsoft 365 Business Standard", 10, "nce"),
            ("s2", "c1", "Microsoft 365 E3", 25, "legacy"),
            ("s3", "c2", "Azure plan", 1, "azure_plan"),
        ]:
            fake.create_subscription(
                ADMIN,
                {"id": subscription_id, "customer_id": customer_id, "offer_id": "CFQ7TTC0LDPB:0001",
                 "offer_name": name, "kind": kind, "quantity": quantity, "term": "P1Y",
                 "billing_cycle": "monthly", "start_date": "2026-01-15", "end_date": "2027-01-14",
                 "auto_renew": True, "list_price": "12.5000"},
            )  # fmt: skip
        s1, s2 = fake.subscriptions["s1"], fake.subscriptions["s2"]
        for n, subscription in enumerate([s1, s2], start=1):
            subscription["unit_price"] = "15.0000"  # the 20% margin of c1
            subscription["mapping"] = {"connection_id": "at1", "contract_id": 100,
                                       "contract_service_id": 1000 + n, "service_id": 7,
                                       "mapped_on": "2026-02-01"}  # fmt: skip
        s1["sync_state"], s2["sync_state"], s2["open_manual_actions"] = "synced", "out_of_sync", 1
        sent = fake._adjustment(s1, 10, 2, status="sent", attempts=1, sent_at=NOW)
        fake._record(s1, QUANTITY_CHANGE, status="succeeded", adjustments=[sent])
        refused = "Autotask: The effective date is outside the contract."
        failed = fake._adjustment(s2, 25, 5, status="failed", attempts=1, error=refused)
        outside = "The adjustment falls outside contract 100's dates (2024-01-01 – 2026-10-31)."
        fake._record(
            s2, QUANTITY_CHANGE, status="failed", adjustments=[failed], reason=outside, can_retry=True
        )
        later = "A later adjustment for contract service 1001 was sent already (operation #1)."
        fake._record(s1, QUANTITY_CHANGE, status="failed", reason=later)
        fake.manual_actions.append(
            {"id": 1, "reseller_id": "r1", "connection_id": "at1", "operation_id": 2, "subscription_id": "s2",
             "contract_service_id": 1002, "effective_date": "2026-11-20", "unit_change": -3,
             "instruction": "In Autotask, add an adjustment to contract service 1002 effective 2026-11-20: "
             "unit change -3 (legacy suspension).", "status": "open", "created_at": NOW}
        )  # fmt: skip
        fake.alerts.append(
            {"id": 1, "reseller_id": "r1", "kind": "contract_ends_before_term",
             "message": "Contract 100 ends 2026-10-31, before subscription s2's term ends on 2027-01-14.",
             "connection_id": "at1", "subscription_id": "s2", "created_at": NOW}
        )  # fmt: skip
        fake.differences["at1"] = [
            {"subscription_id": "s2", "contract_service_id": 1002, "date": "2026-11-01", "expected_units": 25,
             "autotask_units": 20, "expected_price": "15.0000", "autotask_price": "15.0000",
             "money_impact": "-75.0000"}
        ]  # fmt: skip
        fake.calls.clear()
        return fake


def _json_of(command: object) -> JSON:
    """A command as the API.md body it stands for (the fake keeps JSON, as a client sent it)."""
    if isinstance(command, dict):
        return command
    assert dataclasses.is_dataclass(command) and not isinstance(command, type)
    body: JSON = {}
    for name, value in vars(command).items():
        if isinstance(value, Promotion):
            value = {"id": value.id, "discount_percent": str(value.discount_percent)}
        elif isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, StrEnum):
            value = value.value
        if value is not None or name not in {
            "effective_date",
            "friendly_name",
            "promotion",
            "price_margin_percent",
        }:
            body[name] = value
    return body
