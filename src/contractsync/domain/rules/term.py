"""R6 expiration, R7 renewal, and the daily sweep that finds the terms that ended."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from contractsync.domain.decisions import Alert, Decision, RuleContext, full_intent, units_intent
from contractsync.domain.enums import RecordType, SubscriptionStatus
from contractsync.domain.model import Subscription
from contractsync.domain.operations import Expire, OperationRefused, Renew
from contractsync.domain.periods import term_end
from contractsync.domain.rules.common import effect, live_subscription, require_quantity

ONE_DAY = timedelta(days=1)


def expire(ctx: RuleContext, op: Expire) -> Decision:
    return _expire(ctx, live_subscription(ctx, op))


def _expire(ctx: RuleContext, subscription: Subscription) -> Decision:
    """R6: a term that ends on E without renewing takes the contract service to 0 units on E+1."""
    day = subscription.end_date + ONE_DAY
    expired = replace(subscription, status=SubscriptionStatus.EXPIRED)
    return Decision(
        subscriptions=(expired,),
        effects=effect(ctx, RecordType.EXPIRE, expired, day, units_intent(day, 0)),
    )


def renew(ctx: RuleContext, op: Renew) -> Decision:
    subscription = live_subscription(ctx, op)
    if op.quantity is not None:
        require_quantity(op.quantity)
    if op.end_date <= subscription.end_date:
        raise OperationRefused(
            f"the renewed term must end after the current end {subscription.end_date.isoformat()}"
        )
    renewed = replace(
        subscription,
        start_date=subscription.end_date + ONE_DAY,
        end_date=op.end_date,
        quantity=op.quantity if op.quantity is not None else subscription.quantity,
        list_price=op.list_price if op.list_price is not None else subscription.list_price,
        offer_id=op.offer_id or subscription.offer_id,
        term=op.term or subscription.term,
        billing_cycle=op.billing_cycle or subscription.billing_cycle,
        scheduled_next_term=None,
    )
    return _renewal(ctx, subscription, renewed)


def renew_as_scheduled(ctx: RuleContext, subscription: Subscription) -> Decision:
    """R7 at E+1 with the scheduled next-term changes, if any."""
    nxt = subscription.scheduled_next_term
    term = nxt.term if nxt and nxt.term else subscription.term
    start = subscription.end_date + ONE_DAY
    renewed = replace(
        subscription,
        start_date=start,
        end_date=term_end(start, term.months),
        term=term,
        quantity=nxt.quantity if nxt and nxt.quantity is not None else subscription.quantity,
        offer_id=nxt.offer_id if nxt and nxt.offer_id else subscription.offer_id,
        billing_cycle=nxt.billing_cycle if nxt and nxt.billing_cycle else subscription.billing_cycle,
        list_price=nxt.list_price if nxt and nxt.list_price is not None else subscription.list_price,
        scheduled_next_term=None,
    )
    return _renewal(ctx, subscription, renewed)


def _renewal(ctx: RuleContext, before: Subscription, renewed: Subscription) -> Decision:
    if ctx.mapping(renewed.id) is None:
        # Nothing to send and no contract to outlive; the sweep renews thousands of these.
        return Decision(subscriptions=(renewed,))
    day = renewed.start_date
    alerts: list[Alert] = []
    reshaped = (before.sku, before.term, before.billing_cycle) != (
        renewed.sku,
        renewed.term,
        renewed.billing_cycle,
    )
    if reshaped:
        # R7b: the old contract service ends; the subscription must be mapped again.
        effects = effect(
            ctx,
            RecordType.CANCEL_RENEWED,
            renewed,
            day,
            units_intent(day, 0),
            release_mapping=True,
            reason="renewed with a new offer, term or billing cycle: map the subscription again",
        )
    else:
        # R7a: the new term's quantity and price from E+1.
        intent = full_intent(day, renewed.quantity, ctx.pricing(renewed))
        effects = effect(ctx, RecordType.RENEW, renewed, day, intent)
        alerts += _contract_end_alert(ctx, renewed)
    return Decision(subscriptions=(renewed,), effects=effects, alerts=tuple(alerts))


def _contract_end_alert(ctx: RuleContext, renewed: Subscription) -> list[Alert]:
    """R7c: Autotask contracts are not extended automatically."""
    mapping = ctx.mapping(renewed.id)
    contract = ctx.contracts.get(mapping.contract_id) if mapping else None
    if contract is None or renewed.end_date <= contract.end_date:
        return []
    return [
        Alert(
            "contract_ends_before_term",
            f"contract {contract.id} ends {contract.end_date.isoformat()}, before the renewed term of "
            f"subscription {renewed.id} ends {renewed.end_date.isoformat()}: extend the contract in Autotask",
            renewed.id,
        )
    ]


def sweep(ctx: RuleContext, day: date) -> list[Decision]:
    """Every term that ended before `day` and was not handled yet: renew (auto-renew on) or expire.

    A late sweep renews as many times as needed and still dates an expiration E+1. The decisions
    change the subscriptions, so a second sweep for the same day finds nothing.
    """
    decisions: list[Decision] = []
    for subscription in sorted(ctx.subscriptions.values(), key=lambda s: s.id):
        current = subscription
        while current.is_live and current.end_date < day:
            if current.auto_renew and current.status is SubscriptionStatus.ACTIVE:
                decision = renew_as_scheduled(ctx, current)
            else:
                decision = _expire(ctx, current)
            decisions.append(decision)
            current = decision.subscriptions[0]
            if any(e.release_mapping for e in decision.effects):
                ctx = _without_mapping(ctx, current.id)
    return decisions


def _without_mapping(ctx: RuleContext, subscription_id: str) -> RuleContext:
    mappings = {k: v for k, v in ctx.mappings.items() if k != subscription_id}
    return replace(ctx, mappings=mappings)
