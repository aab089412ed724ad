"""Accepting suggestions: each chosen one applied on its own, answered `mapped`, `pending` (its
contract service is still being created in Autotask) or `refused`; and the JSON form of the
choices (the console's, tests'), each read by its mapping use case's rules."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from contractsync.domain.mapping_commands import MapCustomer, MapSubscription
from contractsync.domain.suggestion_commands import Choice, check_choices
from contractsync.service import map_customer, map_subscription
from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext
from contractsync.service.errors import Conflict, ServiceError

JSON = dict[str, Any]
M = TypeVar("M", MapCustomer, MapSubscription)

#: What a chosen subscription may name (other fields, and nulls, are left out as before).
SUBSCRIPTION_FIELDS = ("subscription_id", "contract_id", "service_id", "contract_service_id")
#: A choice accepted but not mapped yet: Autotask has not created its contract service so far (the
#: worker retries and maps it once it has); accepting it again is refused meanwhile.
PENDING = "pending"


def map_chosen_subscription(ctx: ServiceContext, actor: Actor, command: MapSubscription) -> str | None:
    """`map_subscription`, answered by whether the subscription is mapped now: `PENDING` while its
    contract service is still being created; a creation Autotask refused for good is a refusal."""
    record = map_subscription.map_subscription(ctx, actor, command)
    with ctx.units(commit=False) as uow:
        if uow.directory.subscription_mapping(command.subscription_id) is not None:
            return None
    if record["status"] == "failed":
        raise Conflict(record["reason"] or "Autotask did not create the contract service")
    return PENDING


def apply_each(choices: Sequence[Choice[M]], apply: Callable[[M], Any]) -> list[JSON]:
    """Apply every chosen suggestion: each answered with its item, `mapped`, `pending` (when
    `apply` answers `PENDING`) or `refused` with the reason; one refusal does not stop the others."""
    return [dict(choice.item) | _outcome(choice, apply) for choice in choices]


def apply_indexed(choices: Sequence[Choice[M]], apply: Callable[[M], Any]) -> list[JSON]:
    """As `apply_each`, each answered by its index (Partner Center's)."""
    return [{"index": index} | _outcome(choice, apply) for index, choice in enumerate(choices)]


def _outcome(choice: Choice[M], apply: Callable[[M], Any]) -> JSON:
    if choice.command is None:
        return {"status": "refused", "error": choice.refusal}
    try:
        answer = apply(choice.command)
    except ServiceError as error:
        return {"status": "refused", "error": error.message}
    return {"status": PENDING if answer == PENDING else "mapped", "error": None}


def read_subscriptions(
    items: object, connection_id: object, limit: int, message: str
) -> list[Choice[MapSubscription]]:
    """Chosen {subscription_id, contract_id, service_id, contract_service_id?}, each read as
    `map_subscription` reads its body (null and other fields left out)."""

    def read(item: JSON) -> MapSubscription:
        body = {k: item[k] for k in SUBSCRIPTION_FIELDS if item.get(k) is not None}
        return map_subscription.read_command({**body, "connection_id": connection_id})

    return _read(items, limit, message, read)


def read_customers(
    items: object, connection_id: object, limit: int, message: str
) -> list[Choice[MapCustomer]]:
    """Chosen {customer_id, company_id}, each read as `map_customer` reads its body."""
    return _read(
        items,
        limit,
        message,
        lambda item: map_customer.read_command({**item, "connection_id": connection_id}),
    )


def _read(items: object, limit: int, message: str, read: Callable[[JSON], M]) -> list[Choice[M]]:
    checked = v.check(lambda: check_choices(items, limit, message))
    choices: list[Choice[M]] = []
    for item in checked:
        try:
            choices.append(Choice(item, read(dict(item))))
        except ServiceError as error:
            choices.append(Choice(item, None, error.message))
    return choices
