"""R1 update quantity, R1c attributes Autotask cannot hold (billing cycle, friendly name, auto-renew)."""

from __future__ import annotations

from dataclasses import replace

from contractsync.domain.decisions import Decision, RuleContext, units_intent
from contractsync.domain.enums import RecordStatus, RecordType
from contractsync.domain.operations import (
    UpdateAutoRenew,
    UpdateBillingCycle,
    UpdateFriendlyName,
    UpdateQuantity,
)
from contractsync.domain.rules.common import effect, live_subscription, require_quantity


def update_quantity(ctx: RuleContext, op: UpdateQuantity) -> Decision:
    """R1: the contract service holds the new quantity from D on (R1a coalescing is the schedule's)."""
    subscription = live_subscription(ctx, op)
    require_quantity(op.quantity)
    updated = replace(subscription, quantity=op.quantity)
    return Decision(
        subscriptions=(updated,),
        effects=effect(
            ctx,
            RecordType.UPDATE_QUANTITY,
            updated,
            op.effective_date,
            units_intent(op.effective_date, op.quantity),
        ),
    )


UnsupportedUpdate = UpdateBillingCycle | UpdateFriendlyName | UpdateAutoRenew


def update_unsupported_attribute(ctx: RuleContext, op: UnsupportedUpdate) -> Decision:
    """R1c: stored locally; Autotask has no such attribute, so the record fails and nothing is sent."""
    subscription = live_subscription(ctx, op)
    if isinstance(op, UpdateBillingCycle):
        updated, attribute = replace(subscription, billing_cycle=op.billing_cycle), "billing cycle"
    elif isinstance(op, UpdateFriendlyName):
        updated, attribute = replace(subscription, friendly_name=op.friendly_name), "friendly name"
    else:
        updated, attribute = replace(subscription, auto_renew=op.auto_renew), "auto-renew setting"
    reason = f"Changing the {attribute} is not supported in Autotask; it was stored locally, nothing was sent"
    return Decision(
        subscriptions=(updated,),
        effects=effect(
            ctx,
            RecordType.UPDATE_UNSUPPORTED,
            updated,
            op.effective_date,
            status=RecordStatus.FAILED,
            reason=reason,
        ),
    )
