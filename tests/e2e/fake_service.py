"""An in-memory ContractSync for console tests that need no database or Autotask.

It keeps just enough behaviour to exercise every page: tokens, resellers, customers,
subscriptions with sync states, operation records with adjustments, retry (refused when a later
adjustment was sent), mappings with a small contract/service catalogue, manual actions, alerts
and a reconciliation report.
"""

from __future__ import annotations

import copy
import threading

from contractsync.service.actor import Actor
from contractsync.service.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from contractsync.service.facade import JSON, ContractSync

ADMIN_TOKEN = "admin-token-for-tests"
RESELLER_TOKEN = "reseller-token-for-tests"
NOW = "2026-11-25T14:00:00Z"


def _adjustment(
    adj_id: int, units: int, change: int, status: str, *, sent: bool, error: str | None = None
) -> JSON:
    return {
        "id": adj_id,
        "contract_id": 100,
        "contract_service_id": 1000,
        "effective_date": "2026-11-25",
        "target_units": units,
        "unit_change": change,
        "adjusted_unit_price": "15.0000",
        "adjusted_unit_cost": "12.5000",
        "status": status,
        "attempts": 1,
        "error": error,
        "due_at": NOW,
        "sent_at": NOW if sent else None,
    }


class FakeContractSync(ContractSync):
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tokens = {ADMIN_TOKEN: Actor(None), RESELLER_TOKEN: Actor("r1")}
        self.connections: list[JSON] = [
            {
                "id": "at1",
                "reseller_id": "r1",
                "kind": "autotask",
                "username": "sandbox@example.com",
                "integration_code": "SANDBOX",
                "base_url": None,
                "timezone": "UTC",
                "settle_seconds": 5,
                "policies": {"upgrade": "manual", "legacy_suspend": "manual", "reseller_change": "manual"},
                "created_at": NOW,
            }
        ]
        self.customers: list[JSON] = [
            {
                "id": "c1",
                "reseller_id": "r1",
                "name": "Contoso Ltd",
                "tenant_id": None,
                "provider_margins": {"microsoft": "20"},
                "mapping": {"connection_id": "at1", "company_id": 1},
            },
            {
                "id": "c2",
                "reseller_id": "r1",
                "name": "Fabrikam Inc",
                "tenant_id": None,
                "provider_margins": {},
                "mapping": None,
            },
        ]
        self.subscriptions: dict[str, JSON] = {}
        for sub_id, customer, name, qty, kind, mapped in [
            ("s1", "c1", "Microsoft 365 Business Standard", 10, "nce", True),
            ("s2", "c1", "Microsoft 365 E3", 25, "legacy", True),
            ("s3", "c2", "Azure plan", 1, "azure_plan", False),
        ]:
            self.subscriptions[sub_id] = {
                "id": sub_id,
                "customer_id": customer,
                "reseller_id": "r1",
                "offer_id": "CFQ7TTC0LDPB:0001",
                "offer_name": name,
                "kind": kind,
                "quantity": qty,
                "status": "active",
                "term": "P1Y",
                "billing_cycle": "monthly",
                "start_date": "2026-01-15",
                "end_date": "2027-01-14",
                "auto_renew": True,
                "friendly_name": None,
                "list_price": "12.5000",
                "promotion": None,
                "price_margin_percent": None,
                "unit_cost": "12.5000",
                "unit_price": "15.0000",
                "sync_state": "synced" if mapped else "unmapped",
                "mapping": {
                    "connection_id": "at1",
                    "contract_id": 100,
                    "contract_service_id": 1000 + int(sub_id[1:]),
                    "service_id": 7,
                    "mapped_on": "2026-02-01",
                }
                if mapped
                else None,
                "open_manual_actions": 1 if sub_id == "s2" else 0,
            }
        self.operations: list[JSON] = [
            self._record(1, "s1", "succeeded", [_adjustment(1, 10, 2, "sent", sent=True)]),
            self._record(
                2,
                "s2",
                "failed",
                [
                    _adjustment(
                        2,
                        25,
                        5,
                        "failed",
                        sent=False,
                        error="Autotask: The effective date is outside the contract.",
                    )
                ],
                reason="The adjustment falls outside contract 100's dates (2024-01-01 – 2026-10-31).",
                can_retry=True,
            ),
            self._record(3, "s1", "failed", [], reason="later adjustment sent", can_retry=True),
        ]
        self.subscriptions["s2"]["sync_state"] = "out_of_sync"
        self.mapped_calls: list[JSON] = []
        self.quantity_calls: list[tuple[str, JSON]] = []

    @staticmethod
    def _record(
        op_id: int,
        sub_id: str,
        status: str,
        adjustments: list[JSON],
        *,
        reason: str | None = None,
        can_retry: bool = False,
    ) -> JSON:
        return {
            "id": op_id,
            "connection_id": "at1",
            "subscription_id": sub_id,
            "customer_id": "c1",
            "operation_key": f"k{op_id}",
            "type": "UpdateSubscriptionQuantityOnConnection",
            "status": status,
            "reason": reason,
            "notes": [],
            "effective_date": "2026-11-25",
            "created_at": NOW,
            "updated_at": NOW,
            "preview": False,
            "adjustments": adjustments,
            "can_retry": can_retry,
        }

    # --- access ---------------------------------------------------------------------------------
    def authenticate(self, token: str) -> Actor:
        if token not in self.tokens:
            raise Unauthorized("unknown token")
        return self.tokens[token]

    def create_token(self, reseller_id: str | None) -> str:
        token = f"token-{len(self.tokens)}"
        self.tokens[token] = Actor(reseller_id)
        return token

    def _sub(self, actor: Actor, subscription_id: str) -> JSON:
        sub = self.subscriptions.get(subscription_id)
        if sub is None or not actor.can_see(sub["reseller_id"]):
            raise NotFound(f"subscription {subscription_id} does not exist")
        return sub

    # --- reads ----------------------------------------------------------------------------------
    def list_customers(self, actor: Actor) -> list[JSON]:
        return copy.deepcopy([c for c in self.customers if actor.can_see(c["reseller_id"])])

    def list_connections(self, actor: Actor) -> list[JSON]:
        return copy.deepcopy([c for c in self.connections if actor.can_see(c["reseller_id"])])

    def list_subscriptions(
        self,
        actor: Actor,
        customer_id: str | None = None,
        sync_state: str | None = None,
        page: int = 1,
        page_size: int = 50,
    ) -> JSON:
        items = [
            s
            for s in self.subscriptions.values()
            if actor.can_see(s["reseller_id"])
            and customer_id in (None, s["customer_id"])
            and sync_state in (None, s["sync_state"])
        ]
        start = (page - 1) * page_size
        return {
            "items": copy.deepcopy(items[start : start + page_size]),
            "page": page,
            "page_size": page_size,
            "total": len(items),
        }

    def get_subscription(self, actor: Actor, subscription_id: str) -> JSON:
        return copy.deepcopy(self._sub(actor, subscription_id))

    def list_operations(
        self,
        actor: Actor,
        subscription_id: str | None = None,
        status: str | None = None,
        type: str | None = None,
        page: int = 1,
        page_size: int = 50,
    ) -> JSON:
        items = [
            op
            for op in reversed(self.operations)
            if subscription_id in (None, op["subscription_id"])
            and status in (None, op["status"])
            and type in (None, op["type"])
        ]
        return {"items": copy.deepcopy(items), "page": page, "page_size": page_size, "total": len(items)}

    def list_manual_actions(self, actor: Actor) -> list[JSON]:
        return [
            {
                "id": 1,
                "connection_id": "at1",
                "operation_id": 2,
                "subscription_id": "s2",
                "contract_service_id": 1002,
                "effective_date": "2026-11-20",
                "unit_change": -3,
                "instruction": "In Autotask, add an adjustment to contract service 1002 effective 2026-11-20: "
                "unit change -3 (legacy suspension).",
                "status": "open",
                "created_at": NOW,
            }
        ]

    def list_alerts(self, actor: Actor) -> list[JSON]:
        return [
            {
                "id": 1,
                "kind": "contract_ends_before_term",
                "message": "Contract 100 ends 2026-10-31, before subscription s2's term ends on 2027-01-14.",
                "connection_id": "at1",
                "subscription_id": "s2",
                "created_at": NOW,
            }
        ]

    def reconciliation(self, actor: Actor, connection_id: str, fix: bool = False) -> JSON:
        if connection_id != "at1":
            raise NotFound(f"connection {connection_id} does not exist")
        return {
            "connection_id": "at1",
            "differences": [
                {
                    "subscription_id": "s2",
                    "contract_service_id": 1002,
                    "date": "2026-11-01",
                    "expected_units": 25,
                    "autotask_units": 20,
                    "expected_price": "15.0000",
                    "autotask_price": "15.0000",
                    "money_impact": "-75.0000",
                }
            ],
            "fixed": 1 if fix else 0,
        }

    # --- writes ---------------------------------------------------------------------------------
    def apply_operation(self, actor: Actor, subscription_id: str, body: JSON) -> list[JSON]:
        sub = self._sub(actor, subscription_id)
        if body.get("type") != "update_quantity":
            raise Invalid("only update_quantity in the fake")
        if sub["status"] == "canceled":
            raise Invalid("A canceled subscription's quantity cannot change.")
        with self.lock:
            old = sub["quantity"]
            record = self._record(
                len(self.operations) + 1,
                subscription_id,
                "pending",
                [
                    _adjustment(
                        100 + len(self.operations),
                        body["quantity"],
                        body["quantity"] - old,
                        "pending",
                        sent=False,
                    )
                ],
            )
            if body.get("preview"):
                return [record | {"preview": True}]
            self.quantity_calls.append((subscription_id, body))
            sub["quantity"] = body["quantity"]
            if sub["mapping"]:
                sub["sync_state"] = "out_of_sync"
            self.operations.append(record)
            return [copy.deepcopy(record)]

    def retry_operation(self, actor: Actor, operation_id: int) -> JSON:
        op = next((o for o in self.operations if o["id"] == operation_id), None)
        if op is None:
            raise NotFound(f"operation {operation_id} does not exist")
        if operation_id == 3:
            raise Conflict("A later adjustment for contract service 1001 was sent already (operation #1).")
        op["status"], op["can_retry"] = "pending", False
        return copy.deepcopy(op)

    def search_contracts(self, actor: Actor, connection_id: str, company_id: int | None = None) -> list[JSON]:
        contracts = [
            {
                "id": 100,
                "name": "Contoso Ltd - Microsoft CSP",
                "company_id": 1,
                "start_date": "2024-01-01",
                "end_date": "2027-12-31",
            },
            {
                "id": 200,
                "name": "Fabrikam Inc - Microsoft CSP",
                "company_id": 2,
                "start_date": "2024-01-01",
                "end_date": "2027-12-31",
            },
        ]
        return [c for c in contracts if company_id in (None, c["company_id"])]

    def search_contract_services(self, actor: Actor, connection_id: str, contract_id: int) -> list[JSON]:
        return [
            {
                "id": 1001,
                "contract_id": contract_id,
                "service_id": 7,
                "service_name": "Microsoft 365 Business Standard",
                "unit_price": "15.0000",
                "unit_cost": "12.5000",
            }
        ]

    def search_services(self, actor: Actor, connection_id: str, name: str | None = None) -> list[JSON]:
        services = [
            {
                "id": 7,
                "name": "Microsoft 365 Business Standard",
                "unit_price": "15.0000",
                "unit_cost": "12.5000",
            },
            {"id": 9, "name": "Azure plan", "unit_price": "0.0000", "unit_cost": "0.0000"},
        ]
        return [s for s in services if not name or name.lower() in s["name"].lower()]

    def map_subscription(self, actor: Actor, body: JSON) -> JSON:
        sub = self._sub(actor, body["subscription_id"])
        if sub["mapping"] is not None:
            raise Conflict(f"subscription {sub['id']} is mapped already")
        if not actor.is_admin and actor.reseller_id != sub["reseller_id"]:
            raise Forbidden("not yours")
        self.mapped_calls.append(body)
        sub["mapping"] = {
            "connection_id": body["connection_id"],
            "contract_id": body["contract_id"],
            "contract_service_id": body.get("contract_service_id") or 3000,
            "service_id": body["service_id"],
            "mapped_on": "2026-11-25",
        }
        sub["sync_state"] = "out_of_sync"
        return self._record(len(self.operations) + 1, sub["id"], "pending", [])

    def map_customer(self, actor: Actor, body: JSON) -> JSON:
        customer = next((c for c in self.customers if c["id"] == body["customer_id"]), None)
        if customer is None or not actor.can_see(customer["reseller_id"]):
            raise NotFound(f"customer {body['customer_id']} does not exist")
        if customer["mapping"] is not None:
            raise Conflict(f"customer {customer['id']} is mapped already")
        customer["mapping"] = {"connection_id": body["connection_id"], "company_id": body["company_id"]}
        return self._record(len(self.operations) + 1, "", "succeeded", [])

    def unmap_subscription(self, actor: Actor, subscription_id: str) -> None:
        sub = self._sub(actor, subscription_id)
        sub["mapping"], sub["sync_state"] = None, "unmapped"
