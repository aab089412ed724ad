"""R2 subscription price margin and R5 customer provider margins."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from contractsync.domain.decisions import Decision, Effect, RuleContext, price_intent
from contractsync.domain.enums import OfferKind, RecordType
from contractsync.domain.model import Subscription
from contractsync.domain.operations import OperationRefused, UpdatePriceMargin, UpdateProviderMargin
from contractsync.domain.periods import next_period_start, period_containing
from contractsync.domain.rules.common import effect, live_subscription, skipped

AZURE_PLAN_MARGIN = "fixed costs for Azure plans are not supported in Autotask; nothing was sent"


def margin_effective_date(ctx: RuleContext, subscription: Subscription, day: date) -> date:
    """R2/R2a: the start of the billing period containing `day`; past approved periods, the first open one."""
    months = subscription.billing_cycle.months
    start = period_containing(subscription.start_date, months, day).start
    approved_through = ctx.resellers[subscription.reseller_id].approved_through
    while approved_through is not None and approved_through >= start:
        start = next_period_start(subscription.start_date, months, start)
    return start


def update_price_margin(ctx: RuleContext, op: UpdatePriceMargin) -> Decision:
    subscription = live_subscription(ctx, op)
    updated = replace(subscription, price_margin_percent=op.margin_percent)
    if subscription.kind is OfferKind.AZURE_PLAN:
        return Decision(
            subscriptions=(updated,),
            effects=skipped(
                ctx, RecordType.UPDATE_PRICE_MARGIN, updated, op.effective_date, AZURE_PLAN_MARGIN
            ),
        )
    day = margin_effective_date(ctx, subscription, op.effective_date)
    return Decision(
        subscriptions=(updated,),
        effects=effect(
            ctx, RecordType.UPDATE_PRICE_MARGIN, updated, day, price_intent(day, ctx.pricing(updated))
        ),
    )


def update_provider_margin(ctx: RuleContext, op: UpdateProviderMargin) -> Decision:
    """R5: re-price every mapped live subscription of the customer and provider from D (R5a exceptions)."""
    customer = ctx.customers.get(op.customer_id)
    if customer is None:
        raise OperationRefused(f"customer {op.customer_id} does not exist")
    margins = dict(customer.provider_margins)
    margins[op.provider] = op.margin_percent
    updated_customer = replace(customer, provider_margins=margins)
    repriced = RuleContext(
        ctx.connection,
        ctx.subscriptions,
        {**ctx.customers, customer.id: updated_customer},
        ctx.resellers,
        ctx.mappings,
        ctx.contracts,
    )
    effects: list[Effect] = []
    for subscription in sorted(ctx.subscriptions.values(), key=lambda s: s.id):
        if subscription.customer_id != customer.id or subscription.provider != op.provider:
            continue
        if not subscription.is_live:
            continue
        day = op.effective_date
        if subscription.price_margin_percent is not None:
            reason = "the subscription has its own price margin; customer margins do not apply"
            effects += skipped(ctx, RecordType.UPDATE_CUSTOMER_MARGINS, subscription, day, reason)
        elif subscription.kind is OfferKind.AZURE_PLAN:
            effects += skipped(ctx, RecordType.UPDATE_CUSTOMER_MARGINS, subscription, day, AZURE_PLAN_MARGIN)
        else:
            pricing = repriced.pricing(subscription)
            effects += effect(
                ctx, RecordType.UPDATE_CUSTOMER_MARGINS, subscription, day, price_intent(day, pricing)
            )
    return Decision(customers=(updated_customer,), effects=tuple(effects))
