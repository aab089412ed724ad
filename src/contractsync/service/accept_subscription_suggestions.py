"""Use case `accept_subscription_suggestions` (X4): map each chosen {subscription_id, contract_id,
service_id, contract_service_id?}; a mapped subscription or contract service is never remapped."""

from __future__ import annotations

from typing import Any

from contractsync.domain.suggestion_commands import (
    MAX_SUBSCRIPTION_CHOICES,
    AcceptSubscriptionSuggestions,
    choices_message,
)
from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext
from contractsync.service.suggestion_choices import apply_each, map_chosen_subscription, read_subscriptions

JSON = dict[str, Any]


def accept_subscription_suggestions(
    ctx: ServiceContext, actor: Actor, command: AcceptSubscriptionSuggestions | JSON
) -> list[JSON]:
    """An `AcceptSubscriptionSuggestions`, or its body {connection_id, subscriptions}: each chosen
    item answered `mapped`, `pending` (its new contract service not created yet) or `refused`.
    Each mapping stores the Autotask names it lacks (`map_subscription`): the first one reads them
    all, the others find them stored."""
    if not isinstance(command, AcceptSubscriptionSuggestions):
        command = read_command(command)
    return apply_each(command.subscriptions, lambda mapping: map_chosen_subscription(ctx, actor, mapping))


def read_command(body: JSON) -> AcceptSubscriptionSuggestions:
    """{connection_id, subscriptions}: each choice read on its own (one that cannot be read is refused)."""
    v.fields(body, {"connection_id", "subscriptions"}, set())
    limit = MAX_SUBSCRIPTION_CHOICES
    chosen = read_subscriptions(body["subscriptions"], body["connection_id"], limit, choices_message(limit))
    return v.check(
        lambda: AcceptSubscriptionSuggestions.build(connection_id=body["connection_id"], subscriptions=chosen)
    )
