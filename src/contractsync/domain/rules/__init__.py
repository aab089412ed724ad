"""The sync rules of SPEC §2, one module per family; `decide` picks the rule for an operation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contractsync.domain.decisions import Decision, RuleContext
from contractsync.domain.operations import (
    Cancel,
    ChangeReseller,
    Expire,
    Reactivate,
    Renew,
    SubscriptionOperation,
    Suspend,
    UpdateAutoRenew,
    UpdateBillingCycle,
    UpdateFriendlyName,
    UpdatePriceMargin,
    UpdateProviderMargin,
    UpdateQuantity,
    Upgrade,
)
from contractsync.domain.rules.lifecycle import cancel, reactivate, suspend
from contractsync.domain.rules.margins import update_price_margin, update_provider_margin
from contractsync.domain.rules.policies import change_reseller, upgrade
from contractsync.domain.rules.quantity import update_quantity, update_unsupported_attribute
from contractsync.domain.rules.term import expire, renew, sweep

_RULES: dict[type[SubscriptionOperation], Callable[[RuleContext, Any], Decision]] = {
    UpdateQuantity: update_quantity,
    UpdatePriceMargin: update_price_margin,
    Cancel: cancel,
    Suspend: suspend,
    Reactivate: reactivate,
    UpdateBillingCycle: update_unsupported_attribute,
    UpdateFriendlyName: update_unsupported_attribute,
    UpdateAutoRenew: update_unsupported_attribute,
    Renew: renew,
    Expire: expire,
    Upgrade: upgrade,
    ChangeReseller: change_reseller,
}


def decide(ctx: RuleContext, op: SubscriptionOperation) -> Decision:
    """The decision for one subscription operation; raises OperationRefused when it is not allowed."""
    return _RULES[type(op)](ctx, op)


__all__ = ["UpdateProviderMargin", "decide", "sweep", "update_provider_margin"]
