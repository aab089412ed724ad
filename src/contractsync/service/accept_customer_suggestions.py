"""Use case `accept_customer_suggestions` (X4): map each chosen {customer_id, company_id} to a
company the PSA has; a mapping is never overwritten (a mapped customer or company is refused)."""

from __future__ import annotations

from typing import Any

from contractsync.domain.suggestion_commands import (
    MAX_CUSTOMER_CHOICES,
    AcceptCustomerSuggestions,
    choices_message,
)
from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext
from contractsync.service.map_customer_to_company import map_customer_to_company
from contractsync.service.suggestion_choices import apply_each, read_customers

JSON = dict[str, Any]


def accept_customer_suggestions(
    ctx: ServiceContext, actor: Actor, command: AcceptCustomerSuggestions | JSON
) -> list[JSON]:
    """An `AcceptCustomerSuggestions`, or its JSON {connection_id, customers: [{customer_id,
    company_id}]}: each chosen item answered `mapped` or `refused` with the reason."""
    if not isinstance(command, AcceptCustomerSuggestions):
        command = read_command(command)
    return apply_each(command.customers, lambda mapping: map_customer_to_company(ctx, actor, mapping))


def read_command(body: JSON) -> AcceptCustomerSuggestions:
    """{connection_id, customers}: each choice read on its own (one that cannot be read is refused)."""
    v.fields(body, {"connection_id", "customers"}, set())
    limit = MAX_CUSTOMER_CHOICES
    customers = read_customers(body["customers"], body["connection_id"], limit, choices_message(limit))
    return v.check(
        lambda: AcceptCustomerSuggestions.build(connection_id=body["connection_id"], customers=customers)
    )
