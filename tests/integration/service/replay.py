"""Replays a scenario file through the real service, database and worker, against Autotask (the
sandbox, in-process, through the real connector).

The same events as `contractsync plan`, but every step goes through the façade (one transaction
each, the transactional outbox) and the worker delivers at each adjustment's settle time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update

from contractsync.adapters.autotask.adjustments import adjustment_for, adjustment_record, refusal_of
from contractsync.adapters.clock import ManualClock
from contractsync.adapters.db.tables import adjustments, connection_operations, contracts
from contractsync.bootstrap import build_app_service
from contractsync.ports.psa import ErrorKind, PsaError, ServiceTarget, ServiceUnitsPeriod, TargetApplied
from contractsync.service.actor import ADMIN
from contractsync.service.errors import Invalid
from contractsync.service.facade import ContractSync
from contractsync.settings import Settings
from tests.sandbox_autotask import SandboxAutotask


class RejectingAutotask:
    """Autotask through the PSA port, refusing the next N creates for a contract service (scenario
    `autotask_rejects`). Port only, as the scenarios are written: posted periods are learned from
    Autotask's refusals, not read before sending."""

    def __init__(self, sandbox: SandboxAutotask) -> None:
        self.sandbox = sandbox
        self.rejections: dict[int, list[str]] = {}

    def request_record(self, target: ServiceTarget) -> dict[str, Any]:
        return adjustment_record(adjustment_for(target))

    def apply_target(self, target: ServiceTarget) -> TargetApplied:
        queued = self.rejections.get(target.contract_service_id)
        if queued:
            # Refused in Autotask's words, read as the Autotask adapter reads them.
            message = queued.pop(0)
            raise PsaError(ErrorKind.REJECTED, message, 500, refusal_of(message))
        return self.sandbox.connector.apply_target(target)

    def service_units(self, contract_service_id: int, start: date, end: date) -> list[ServiceUnitsPeriod]:
        return self.sandbox.connector.service_units(contract_service_id, start, end)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class Replay:
    service: ContractSync
    clock: ManualClock
    autotask: RejectingAutotask

    def deliver_until(self, moment: datetime) -> None:
        """Run the worker at every settle time up to `moment`, as a worker polling would."""
        sessions = self.service.context.sessions
        while True:
            with sessions() as session:
                due = session.execute(
                    select(adjustments.c.next_attempt_at)
                    .where(adjustments.c.status == "pending")
                    .order_by(adjustments.c.next_attempt_at)
                ).first()
            if due is None or due.next_attempt_at > moment:
                break
            self.clock.set(max(due.next_attempt_at, self.clock.now()))
            self.service.run_deliveries(ADMIN)
        self.clock.set(max(moment, self.clock.now()))


def replay(path: Path, database_url: str, tmp: Path) -> tuple[ContractSync, dict[str, Any]]:
    with SandboxAutotask() as sandbox:
        return _replay(path, database_url, tmp, sandbox)


def _replay(
    path: Path, database_url: str, tmp: Path, sandbox: SandboxAutotask
) -> tuple[ContractSync, dict[str, Any]]:
    scenario = json.loads(path.read_text())
    first = min(instant(e["at"]) for e in scenario["events"] + scenario["mappings"])
    clock = ManualClock(first)
    fake = RejectingAutotask(sandbox)
    settings = Settings(database_url=database_url, data_dir=tmp, secret_key="x" * 43 + "=")
    service = build_app_service(settings, clock=clock, connector_factory=lambda row: fake, upgrade=False)
    run = Replay(service, clock, fake)
    _create(service, scenario, fake)
    refused: list[str] = []
    timeline = [(instant(m["at"]), -1 - i, "map", m) for i, m in enumerate(scenario["mappings"])]
    timeline += [(instant(e["at"]), i, "event", e) for i, e in enumerate(scenario["events"])]
    timeline.sort(key=lambda t: (t[0], t[1] if t[1] >= 0 else -1_000_000 - t[1]))
    connection_id = scenario["connection"]["id"]
    for moment, _, kind, body in timeline:
        run.deliver_until(moment)
        try:
            _handle(service, fake, connection_id, kind, body)
        except Invalid as refusal:
            refused.append(refusal.message)
    run.deliver_until(datetime.max.replace(tzinfo=first.tzinfo))
    assert sandbox.violations() == [], "requests or answers that do not match the vendor document"
    return service, {"refused": refused}


def _create(service: ContractSync, scenario: dict[str, Any], fake: RejectingAutotask) -> None:
    for reseller in scenario["resellers"]:
        service.create_reseller(ADMIN, {"id": reseller["id"], "name": reseller.get("name") or reseller["id"],
                                        "promotion_setting": reseller.get("promotion_setting", "pass_through")})  # fmt: skip
        if reseller.get("approved_through"):
            service.approve_billing(ADMIN, reseller["id"], {"approved_through": reseller["approved_through"]})
    connection = scenario["connection"]
    service.create_connection(ADMIN, {
        "id": connection["id"], "reseller_id": scenario["resellers"][0]["id"], "kind": "autotask",
        "username": "api@example.com", "secret": "s3cret", "integration_code": "CODE",
        "base_url": "https://webservices99.autotask.net", "timezone": connection.get("timezone", "UTC"),
        "settle_seconds": connection.get("settle_seconds", 600), "policies": connection.get("policies", {}),
    })  # fmt: skip
    for customer in scenario["customers"]:
        service.create_customer(
            ADMIN,
            {k: customer[k] for k in ("id", "reseller_id", "name", "provider_margins") if k in customer},
        )
    for sub in scenario["subscriptions"]:
        body = {k: v for k, v in sub.items() if k not in ("scheduled_next_term", "status") and v is not None}
        service.create_subscription(ADMIN, body)
        if sub.get("scheduled_next_term"):
            _set_next_term(service, sub["id"], sub["scheduled_next_term"])
    with service.context.sessions.begin() as session:
        for contract in scenario["contracts"]:
            session.execute(insert(contracts).values(
                connection_id=connection["id"], contract_id=contract["id"],
                start_date=date.fromisoformat(contract["start_date"]), end_date=date.fromisoformat(contract["end_date"]),
                period_type=contract.get("period_type", "monthly"),
                posted_through=date.fromisoformat(contract["posted_through"]) if contract.get("posted_through") else None,
            ))  # fmt: skip
            fake.sandbox.contract(contract["id"], date.fromisoformat(contract["start_date"]),
                                  date.fromisoformat(contract["end_date"]))  # fmt: skip


def _set_next_term(service: ContractSync, subscription_id: str, next_term: dict[str, Any]) -> None:
    from contractsync.adapters.db.tables import subscriptions

    with service.context.sessions.begin() as session:
        session.execute(
            update(subscriptions)
            .where(subscriptions.c.id == subscription_id)
            .values(scheduled_next_term=next_term)
        )


def _handle(
    service: ContractSync, fake: RejectingAutotask, connection_id: str, kind: str, body: dict[str, Any]
) -> None:
    if kind == "map":
        fake.sandbox.contract_services({body["contract_service_id"]: body["contract_id"]})
        service.map_subscription(ADMIN, {"subscription_id": body["subscription_id"], "connection_id": connection_id,
                                         "contract_id": body["contract_id"], "service_id": 1,
                                         "contract_service_id": body["contract_service_id"]})  # fmt: skip
        return
    fields = {
        k: v
        for k, v in body.items()
        if k not in ("at", "subscription_id", "customer_id", "reseller_id", "contract_id")
    }
    match body["type"]:
        case "update_provider_margin":
            margin = {k: fields[k] for k in ("margin_percent", "effective_date") if k in fields}
            service.set_provider_margin(ADMIN, body["customer_id"], body.get("provider", "microsoft"), margin)
        case "approve_billing":
            service.approve_billing(
                ADMIN, body["reseller_id"], {"approved_through": body["approved_through"]}
            )
        case "post_periods":
            with service.context.sessions.begin() as session:
                session.execute(update(contracts).where(contracts.c.contract_id == body["contract_id"])
                                .values(posted_through=date.fromisoformat(body["through"])))  # fmt: skip
            fake.sandbox.post_through(body["contract_id"], date.fromisoformat(body["through"]))
        case "sweep":
            service.sweep(ADMIN, {"date": body["date"]})
        case "autotask_rejects":
            fake.rejections.setdefault(body["contract_service_id"], []).extend(
                [body["message"]] * body.get("count", 1)
            )
        case _:
            operation = {k: v for k, v in body.items() if k not in ("at", "subscription_id")}
            service.apply_operation(ADMIN, body["subscription_id"], operation)


def operations(service: ContractSync) -> list[dict[str, Any]]:
    """The audit log oldest first, in the shape `plan` prints (without reasons)."""
    with service.context.sessions() as session:
        ids = [
            r.id
            for r in session.execute(select(connection_operations.c.id).order_by(connection_operations.c.id))
        ]
    result = []
    for operation_id in ids:
        record = service.get_operation(ADMIN, operation_id)
        result.append({
            "type": record["type"], "subscription_id": record["subscription_id"], "status": record["status"],
            "adjustments": [
                {"contract_service_id": a["contract_service_id"], "effective_date": a["effective_date"],
                 "unit_change": a["unit_change"], "adjusted_unit_price": a["adjusted_unit_price"],
                 "adjusted_unit_cost": a["adjusted_unit_cost"], "sent_at": a["sent_at"]}
                for a in record["adjustments"] if a["status"] == "sent"
            ],
        })  # fmt: skip
    return result
