"""Runs a scenario's events in time order through the real rules, engine and settle logic."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contractsync.domain import rules
from contractsync.domain.assumed_delivery import deliver_due
from contractsync.domain.decisions import Effect
from contractsync.domain.engine import SyncEngine, SyncState
from contractsync.domain.enums import RecordType
from contractsync.domain.model import SubscriptionMapping
from contractsync.domain.operations import (
    InvalidInput,
    OperationRefused,
    UpdateProviderMargin,
    parse_date,
    parse_decimal,
    parse_int,
    parse_operation,
    parse_text,
)
from contractsync.scenario.loader import Event, Scenario, ScenarioError


@dataclass
class Refusal:
    at: str
    event: str
    reason: str


@dataclass
class ScenarioOutcome:
    state: SyncState
    refused: list[Refusal] = field(default_factory=list)


def run_scenario(scenario: Scenario) -> ScenarioOutcome:
    state = scenario.state
    engine = SyncEngine(state)
    outcome = ScenarioOutcome(state)
    rejections: dict[int, list[str]] = {}
    for event in scenario.events:
        deliver_due(state, event.at, rejections)
        try:
            if event.kind == "autotask_rejects":
                service = parse_int(event.body.get("contract_service_id"), "contract_service_id", 1)
                message = str(event.body.get("message", "rejected by Autotask"))
                count = parse_int(event.body.get("count", 1), "count", 1, 1000)
                rejections.setdefault(service, []).extend([message] * count)
                continue
            _handle(engine, scenario, event)
        except OperationRefused as refusal:
            outcome.refused.append(Refusal(event.at.isoformat(), _describe(event), refusal.reason))
        except InvalidInput as error:
            where = f"mappings[{-1 - event.index}]" if event.index < 0 else f"events[{event.index}]"
            raise ScenarioError(f"{where}.{error}") from None
    deliver_due(state, None, rejections)
    return outcome


def _handle(engine: SyncEngine, scenario: Scenario, event: Event) -> None:
    state, body = engine.state, event.body
    today = scenario.local_date(event.at)
    if event.kind == "subscription":
        subscription_id = parse_text(body["subscription_id"], "subscription_id")
        op = parse_operation(
            subscription_id, {k: v for k, v in body.items() if k not in ("at", "subscription_id")}, today
        )
        engine.apply(rules.decide(state.context(), op), event.at)
    elif event.kind == "provider_margin":
        raw_date = body.get("effective_date")
        op_margin = UpdateProviderMargin(
            customer_id=parse_text(body.get("customer_id"), "customer_id"),
            provider=parse_text(body.get("provider", "microsoft"), "provider"),
            margin_percent=parse_decimal(body.get("margin_percent"), "margin_percent"),
            effective_date=today if raw_date is None else parse_date(raw_date, "effective_date"),
        )
        engine.apply(rules.update_provider_margin(state.context(), op_margin), event.at)
    elif event.kind == "approve_billing":
        reseller_id = parse_text(body.get("reseller_id"), "reseller_id")
        if reseller_id not in state.resellers:
            raise OperationRefused(f"reseller {reseller_id} does not exist")
        engine.approve_billing(reseller_id, parse_date(body.get("approved_through"), "approved_through"))
    elif event.kind == "post_periods":
        contract_id = parse_int(body.get("contract_id"), "contract_id", 1)
        if contract_id not in state.contracts:
            raise OperationRefused(f"contract {contract_id} does not exist")
        engine.post_periods(contract_id, parse_date(body.get("through"), "through"))
    elif event.kind == "sweep":
        day = parse_date(body.get("date"), "date")
        for decision in rules.sweep(state.context(), day):
            engine.apply(decision, event.at)
    else:
        _map(engine, scenario, event)


def _map(engine: SyncEngine, scenario: Scenario, event: Event) -> None:
    state, body = engine.state, event.body
    subscription_id = parse_text(body.get("subscription_id"), "subscription_id")
    contract_id = parse_int(body.get("contract_id"), "contract_id", 1)
    service_id = parse_int(body.get("contract_service_id"), "contract_service_id", 1)
    if subscription_id not in state.subscriptions:
        raise OperationRefused(f"subscription {subscription_id} does not exist")
    if contract_id not in state.contracts:
        raise OperationRefused(f"contract {contract_id} does not exist")
    holder = next(
        (m.subscription_id for m in state.mappings.values() if m.contract_service_id == service_id), None
    )
    if holder not in (None, subscription_id):
        raise OperationRefused(f"contract service {service_id} is already mapped to subscription {holder}")
    mapping = SubscriptionMapping(
        subscription_id, contract_id, service_id, event.at, scenario.local_date(event.at)
    )
    effect = Effect(RecordType.MAP_SUBSCRIPTION, subscription_id, service_id, mapping.service_start)
    engine.map_subscription(mapping, engine.new_record(effect, event.at), event.at)


def _describe(event: Event) -> str:
    body: dict[str, Any] = dict(event.body)
    target = body.get("subscription_id") or body.get("customer_id") or body.get("reseller_id") or ""
    return f"{body.get('type', event.kind)} {target}".strip()
