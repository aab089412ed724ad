"""U1 upgrade and U3 change of reseller: unsupported by the seed, so each connection picks a policy.

`manual` (default, the seed's behaviour): nothing is sent; the record fails and manual actions
say exactly which adjustment to make on which contract service. `auto`: contractsync sends them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from contractsync.domain.decisions import Alert, Decision, Effect, ManualAction, RuleContext, units_intent
from contractsync.domain.enums import Policy, RecordStatus, RecordType, SubscriptionStatus
from contractsync.domain.model import Subscription
from contractsync.domain.operations import ChangeReseller, OperationRefused, Upgrade
from contractsync.domain.rules.common import effect, live_subscription


def upgrade(ctx: RuleContext, op: Upgrade) -> Decision:
    """U1: n seats move from S to T (seed: Standard 10 / Premium 2, one seat → 9 / 3)."""
    source = live_subscription(ctx, op)
    target = ctx.subscriptions.get(op.target_subscription_id)
    if target is None:
        raise OperationRefused(f"upgrade target {op.target_subscription_id} does not exist")
    if target.id == source.id:
        raise OperationRefused("a subscription cannot be upgraded into itself")
    if target.status is not SubscriptionStatus.ACTIVE:
        raise OperationRefused(f"upgrade target {target.id} is {target.status.value}, not active")
    if target.customer_id != source.customer_id:
        raise OperationRefused(f"upgrade target {target.id} belongs to another customer")
    if not 0 < op.quantity <= source.quantity:
        raise OperationRefused(f"quantity must be between 1 and {source.quantity}; got {op.quantity}")
    day = op.effective_date
    new_source = replace(source, quantity=source.quantity - op.quantity)
    new_target = replace(target, quantity=target.quantity + op.quantity)
    moves = ((new_source, -op.quantity), (new_target, op.quantity))
    alerts: list[Alert] = []
    loose: list[ManualAction] = []
    if ctx.mapping(target.id) is None:
        text = (
            f"Map subscription {target.id} ({target.offer_name}): it received {op.quantity} seats "
            f"upgraded from {source.id} on {day.isoformat()}"
        )
        loose.append(ManualAction(target.id, None, day, op.quantity, text))
        alerts.append(Alert("needs_mapping", text, target.id))
    effects: list[Effect] = []
    auto = ctx.connection.policies.upgrade is Policy.AUTO
    for subscription, change in moves:
        if auto:
            intent = units_intent(day, subscription.quantity)
            effects += effect(ctx, RecordType.UPGRADE, subscription, day, intent)
        else:
            effects += _manual(ctx, RecordType.UPGRADE, subscription, day, change, "Upgrade")
    return Decision(
        subscriptions=(new_source, new_target),
        effects=tuple(effects),
        alerts=tuple(alerts),
        manual_actions=tuple(loose),
    )


def change_reseller(ctx: RuleContext, op: ChangeReseller) -> Decision:
    """U3: the old reseller's contract service goes to 0; the subscription leaves its mapping."""
    subscription = live_subscription(ctx, op)
    if op.reseller_id not in ctx.resellers:
        raise OperationRefused(f"reseller {op.reseller_id} does not exist")
    customer = ctx.customers.get(op.customer_id)
    if customer is None or customer.reseller_id != op.reseller_id:
        raise OperationRefused(f"customer {op.customer_id} does not exist for reseller {op.reseller_id}")
    if op.reseller_id == subscription.reseller_id:
        raise OperationRefused(f"subscription {subscription.id} already belongs to reseller {op.reseller_id}")
    moved = replace(subscription, reseller_id=op.reseller_id, customer_id=op.customer_id)
    day = op.effective_date
    if ctx.connection.policies.reseller_change is Policy.AUTO:
        effects = effect(
            ctx,
            RecordType.CHANGE_RESELLER,
            subscription,
            day,
            units_intent(day, 0),
            release_mapping=True,
        )
    else:
        effects = _manual(
            ctx,
            RecordType.CHANGE_RESELLER,
            subscription,
            day,
            -subscription.quantity,
            "Reseller change",
            release_mapping=True,
        )
    return Decision(subscriptions=(moved,), effects=effects)


def _manual(
    ctx: RuleContext,
    record_type: RecordType,
    subscription: Subscription,
    day: date,
    change: int,
    what: str,
    release_mapping: bool = False,
) -> tuple[Effect, ...]:
    mapping = ctx.mapping(subscription.id)
    if mapping is None:
        return ()
    target_units = subscription.quantity if record_type is RecordType.UPGRADE else 0
    instruction = (
        f"In Autotask, adjust contract service {mapping.contract_service_id} ({subscription.offer_name}) "
        f"by {change:+d} units to {target_units}, effective {day.isoformat()}"
    )
    action = ManualAction(subscription.id, mapping.contract_service_id, day, change, instruction)
    return effect(
        ctx,
        record_type,
        subscription,
        day,
        status=RecordStatus.FAILED,
        reason=f"{what} is not synchronised (policy manual): {instruction}",
        manual_actions=(action,),
        release_mapping=release_mapping,
    )
