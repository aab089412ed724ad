"""Helpers every rule uses: state checks and the record on a mapped subscription."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from contractsync.domain.decisions import Effect, ManualAction, RuleContext
from contractsync.domain.enums import RecordStatus, RecordType, SubscriptionStatus
from contractsync.domain.model import Subscription
from contractsync.domain.operations import OperationRefused, SubscriptionOperation
from contractsync.domain.schedule import Intent


def live_subscription(ctx: RuleContext, op: SubscriptionOperation) -> Subscription:
    """The subscription an operation acts on; refused when unknown, cancelled or expired."""
    subscription = ctx.subscriptions.get(op.subscription_id)
    if subscription is None:
        raise OperationRefused(f"subscription {op.subscription_id} does not exist")
    if not subscription.is_live:
        raise OperationRefused(
            f"subscription {subscription.id} is {subscription.status.value}; "
            "no further operations are accepted for it"
        )
    return subscription


def require_quantity(quantity: int) -> None:
    if quantity < 0:
        raise OperationRefused(f"quantity must be 0 or more; got {quantity}")


def effect(
    ctx: RuleContext,
    record_type: RecordType,
    subscription: Subscription,
    day: date,
    *intents: Intent,
    status: RecordStatus = RecordStatus.PENDING,
    reason: str | None = None,
    manual_actions: tuple[ManualAction, ...] = (),
    release_mapping: bool = False,
) -> tuple[Effect, ...]:
    """The record for `subscription` when it is mapped; nothing when it is not."""
    mapping = ctx.mapping(subscription.id)
    if mapping is None:
        return ()
    built = Effect(
        record_type=record_type,
        subscription_id=subscription.id,
        contract_service_id=mapping.contract_service_id,
        effective_date=day,
        status=status,
        reason=reason,
        intents=intents,
        manual_actions=manual_actions,
        release_mapping=release_mapping,
    )
    return (built,)


def skipped(
    ctx: RuleContext, record_type: RecordType, subscription: Subscription, day: date, reason: str
) -> tuple[Effect, ...]:
    return effect(ctx, record_type, subscription, day, status=RecordStatus.SKIPPED, reason=reason)


def with_status(subscription: Subscription, status: SubscriptionStatus) -> Subscription:
    return replace(subscription, status=status)
