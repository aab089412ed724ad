"""R3 cancel, R4 suspend (Azure plan) and reactivate, R4b/U2 suspending legacy subscriptions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from contractsync.domain.decisions import Decision, Effect, ManualAction, RuleContext, units_intent
from contractsync.domain.enums import OfferKind, Policy, RecordStatus, RecordType, SubscriptionStatus
from contractsync.domain.model import Subscription
from contractsync.domain.operations import Cancel, OperationRefused, Reactivate, Suspend
from contractsync.domain.periods import next_period_start
from contractsync.domain.rules.common import effect, live_subscription, skipped, with_status
from contractsync.domain.schedule import Intent

NCE_SUSPEND = "Microsoft keeps billing a suspended subscription of this kind; nothing changes in Autotask"


def cancel(ctx: RuleContext, op: Cancel) -> Decision:
    """R3: units to 0 from D."""
    subscription = with_status(live_subscription(ctx, op), SubscriptionStatus.CANCELED)
    day = op.effective_date
    return Decision(
        subscriptions=(subscription,),
        effects=effect(ctx, RecordType.CANCEL, subscription, day, units_intent(day, 0)),
    )


def suspend(ctx: RuleContext, op: Suspend) -> Decision:
    current = live_subscription(ctx, op)
    if current.status is SubscriptionStatus.SUSPENDED:
        raise OperationRefused(f"subscription {current.id} is already suspended")
    subscription = with_status(current, SubscriptionStatus.SUSPENDED)
    day = op.effective_date
    if subscription.kind is OfferKind.AZURE_PLAN:
        # R4: price 0 (cost unchanged) from the next billing period on.
        start = next_period_start(subscription.start_date, subscription.billing_cycle.months, day)
        cost = ctx.pricing(subscription).unit_cost
        intent = Intent(start, unit_price=Decimal("0.0000"), unit_cost=cost)
        return Decision(
            subscriptions=(subscription,),
            effects=effect(ctx, RecordType.SUSPEND_AZURE_PLAN, subscription, start, intent),
        )
    if subscription.kind is OfferKind.LEGACY:
        return Decision(subscriptions=(subscription,), effects=_legacy_units(ctx, subscription, day, 0))
    return Decision(
        subscriptions=(subscription,),
        effects=skipped(ctx, RecordType.SUSPEND, subscription, day, NCE_SUSPEND),
    )


def reactivate(ctx: RuleContext, op: Reactivate) -> Decision:
    current = live_subscription(ctx, op)
    if current.status is not SubscriptionStatus.SUSPENDED:
        raise OperationRefused(f"subscription {current.id} is not suspended")
    subscription = with_status(current, SubscriptionStatus.ACTIVE)
    day = op.effective_date
    if subscription.kind is OfferKind.LEGACY:
        # The mirror of U2: what suspending took away comes back, by the same policy.
        return Decision(
            subscriptions=(subscription,),
            effects=_legacy_units(ctx, subscription, day, subscription.quantity, reactivating=True),
        )
    reason = (
        "reactivating an Azure plan does not change Autotask (R4a); adjust the price by hand if needed"
        if subscription.kind is OfferKind.AZURE_PLAN
        else NCE_SUSPEND
    )
    return Decision(
        subscriptions=(subscription,),
        effects=skipped(ctx, RecordType.SUSPEND, subscription, day, reason),
    )


def _legacy_units(
    ctx: RuleContext, subscription: Subscription, day: date, units: int, reactivating: bool = False
) -> tuple[Effect, ...]:
    """U2: under `auto` the contract service follows; under `manual` a person is told what to do."""
    if ctx.connection.policies.legacy_suspend is Policy.AUTO:
        return effect(ctx, RecordType.SUSPEND, subscription, day, units_intent(day, units))
    mapping = ctx.mapping(subscription.id)
    change = units if reactivating else -subscription.quantity
    verb = "reactivated" if reactivating else "suspended"
    instruction = (
        f"Legacy subscription {subscription.id} ({subscription.offer_name}) was {verb}: in Autotask, "
        f"adjust contract service {mapping.contract_service_id if mapping else '?'} by {change:+d} units "
        f"(to {units}) effective {day.isoformat()}"
    )
    action = ManualAction(
        subscription.id, mapping.contract_service_id if mapping else None, day, change, instruction
    )
    return effect(
        ctx,
        RecordType.SUSPEND,
        subscription,
        day,
        status=RecordStatus.FAILED,
        reason=f"Not synchronised (policy manual): {instruction}",
        manual_actions=(action,),
    )
