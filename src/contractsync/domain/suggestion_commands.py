"""Accepting suggestions (X4): the chosen mappings of one connection, each read on its own into a
`MapCustomer` / `MapSubscription`, or kept with the reason it could not be read (that choice is
answered `refused`, the others still apply). The lists are bounded, with the messages of the
REST API (API.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from contractsync.domain.bounds import ID_MAX_LENGTH
from contractsync.domain.mapping_commands import MapCustomer, MapSubscription
from contractsync.domain.operations import InvalidInput, parse_text

M = TypeVar("M", MapCustomer, MapSubscription)

#: At most this many choices at a time: subscriptions, customers (the console's and the API's).
MAX_SUBSCRIPTION_CHOICES = 5000
MAX_CUSTOMER_CHOICES = 2000


@dataclass(frozen=True)
class Choice(Generic[M]):
    """One chosen suggestion: its command, or `refusal` (why it could not be read). `item`: the
    choice as the caller gave it, which the answer repeats."""

    item: Mapping[str, object]
    command: M | None = None
    refusal: str | None = None


def choose(item: Mapping[str, object], build: Callable[..., M], **values: object) -> Choice[M]:
    """The choice `item` as the command's `build` reads `values`, or with the reason it cannot be."""
    try:
        return Choice(item, build(**values))
    except InvalidInput as error:
        return Choice(item, None, str(error))


def check_choices(items: object, limit: int, message: str) -> Sequence[Mapping[str, object]]:
    """A list of at most `limit` objects, else InvalidInput(message)."""
    if (
        not isinstance(items, list | tuple)
        or len(items) > limit
        or not all(isinstance(i, Mapping) for i in items)
    ):
        raise InvalidInput(message)
    return items


def choices_message(limit: int) -> str:
    """The console's and the mapping API's message for too many choices (or not a list of them)."""
    return f"choose at most {limit} suggestions at a time"


def _checked(choices: Sequence[Choice[M]], limit: int, message: str) -> tuple[Choice[M], ...]:
    if len(choices) > limit:
        raise InvalidInput(message)
    return tuple(choices)


def _connection(value: object) -> str:
    """The connection of the mapping suggestions: each choice's command reads it by its rules
    (a wrong one refuses every choice, each with the reason)."""
    if not isinstance(value, str):
        raise InvalidInput("connection_id must be text")
    return value


@dataclass(frozen=True)
class AcceptSubscriptionSuggestions:
    """Map each chosen subscription to its contract service on `connection_id`."""

    connection_id: str
    subscriptions: tuple[Choice[MapSubscription], ...]

    @classmethod
    def build(
        cls, *, connection_id: object, subscriptions: Sequence[Choice[MapSubscription]]
    ) -> AcceptSubscriptionSuggestions:
        limit = MAX_SUBSCRIPTION_CHOICES
        return cls(_connection(connection_id), _checked(subscriptions, limit, choices_message(limit)))


@dataclass(frozen=True)
class AcceptCustomerSuggestions:
    """Map each chosen customer to its Autotask company on `connection_id`."""

    connection_id: str
    customers: tuple[Choice[MapCustomer], ...]

    @classmethod
    def build(
        cls, *, connection_id: object, customers: Sequence[Choice[MapCustomer]]
    ) -> AcceptCustomerSuggestions:
        limit = MAX_CUSTOMER_CHOICES
        return cls(_connection(connection_id), _checked(customers, limit, choices_message(limit)))


def list_message(name: str, limit: int) -> str:
    """Partner Center's message for a list of choices that is too long or not one."""
    return f"{name} must be a list of at most {limit} objects"


@dataclass(frozen=True)
class AcceptPartnerCenterSuggestions:
    """Partner Center's suggestions accepted in bulk: customers first, then subscriptions."""

    connection_id: str
    customers: tuple[Choice[MapCustomer], ...] = ()
    subscriptions: tuple[Choice[MapSubscription], ...] = ()

    @classmethod
    def build(
        cls,
        *,
        connection_id: object,
        customers: Sequence[Choice[MapCustomer]] = (),
        subscriptions: Sequence[Choice[MapSubscription]] = (),
    ) -> AcceptPartnerCenterSuggestions:
        return cls(
            parse_text(connection_id, "connection_id", ID_MAX_LENGTH),
            _checked(customers, MAX_CUSTOMER_CHOICES, list_message("customers", MAX_CUSTOMER_CHOICES)),
            _checked(
                subscriptions,
                MAX_SUBSCRIPTION_CHOICES,
                list_message("subscriptions", MAX_SUBSCRIPTION_CHOICES),
            ),
        )
