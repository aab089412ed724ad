"""Use case `map_subscription`: a subscription mapped to a contract service of the PSA, the
contract service created there first when the contract has none for the service (SPEC: mapping).

No PSA call happens inside a database transaction, and the one PSA write, creating the contract
service, goes through an outbox (`ports/service_creations.py`) like every adjustment:

1. One read-only transaction: who may map what, and what is known locally.
2. No transaction open: the PSA is read (the contract the first time; the contract's service lines
   when no contract service was named).
3. One short transaction: the contract service exists → the mapping and its aligning adjustment
   are written; it does not → the mapping's audit record is written `pending` with a creation row
   in the outbox, both committed before anything is sent.
4. No transaction open: the creation is delivered at once (`create_contract_services.attempt`, the
   same step the worker runs for every due creation); it was written claimed by this request, so
   no worker takes it first (if the request dies, the worker does when the claim's lease ends).
   The answer is the audit record as it stands then: the mapping with its adjustment when the PSA
   created the service, else `pending` (the worker retries with back-off) or `failed` (refused for
   good, with the PSA's reason).
5. The contract's and the service's Autotask names are stored if they were not.
"""

from __future__ import annotations

from typing import Any

from contractsync.domain.mapping_commands import MapSubscription
from contractsync.ports.directory import StoredConnection, StoredSubscription
from contractsync.ports.service_creations import NewServiceCreation
from contractsync.ports.unit_of_work import UnitOfWork
from contractsync.service import autotask_names, views
from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_connection, visible_subscription
from contractsync.service.contract_service_mapping import (
    line_of,
    map_to_service,
    record_creation,
    unit_pricing_of,
)
from contractsync.service.create_contract_services import attempt, lease_end
from contractsync.service.errors import Conflict, Invalid, NotFound
from contractsync.service.psa_contracts import contract_of
from contractsync.service.retries import with_retries

JSON = dict[str, Any]


def map_subscription(ctx: ServiceContext, actor: Actor, command: MapSubscription | JSON) -> JSON:
    """A `MapSubscription`, or its body {subscription_id, connection_id, contract_id, service_id,
    contract_service_id?}; answers the mapping's audit record. The contract's and the service's Autotask names are stored if they
    were not (on every path: the API, the console, accepted suggestions)."""
    if not isinstance(command, MapSubscription):
        command = read_command(command)
    contract_id, service_id, given_cs = command.contract_id, command.service_id, command.contract_service_id
    subscription_id, connection_id = command.subscription_id, command.connection_id
    with ctx.units(commit=False) as uow:
        subscription, connection = _mappable(uow, actor, subscription_id, connection_id)
        known = uow.books.contract(connection.id, contract_id) is not None
    connector = ctx.connector_for(connection)
    contract = None if known else contract_of(connector.get_contract(contract_id))
    cs = given_cs if given_cs is not None else line_of(connector, contract_id, service_id)

    def write() -> tuple[list[int], int | None]:
        with ctx.units() as uow:
            uow.lock_subscription(subscription_id)
            _mappable(uow, actor, subscription_id, connection_id)
            if contract is not None:
                uow.books.keep_contract(connection.id, contract)
            if cs is not None:
                service = (contract_id, service_id, cs)
                return map_to_service(ctx, uow, actor.name, subscription_id, connection, service), None
            record_id = record_creation(
                uow, ctx.now(), actor.name, subscription, connection.id, contract_id, service_id
            )
            price, cost = unit_pricing_of(uow, connection.id, subscription_id)
            new = NewServiceCreation(
                record_id, connection.id, subscription_id, contract_id, service_id, price, cost
            )
            # Added claimed: its first attempt is this request's, right after the commit (a worker
            # taking it first would leave the answer `pending` for a creation made a moment later).
            return [record_id], uow.service_creations.add(new, ctx.now(), claimed_until=lease_end(ctx))

    record_ids, creation_id = with_retries(ctx.units, write)
    if creation_id is not None:
        attempt(ctx, creation_id, claimed=True)
    with ctx.units(commit=False) as uow:
        record = views.operations_by_id(uow.audit_records, record_ids)[0]
    autotask_names.cover(ctx, actor, connection.id, {"contract": {contract_id}, "service": {service_id}})
    return record


def read_command(body: JSON) -> MapSubscription:
    """The API.md body as the command, read by the same rules."""
    v.fields(body, {"subscription_id", "connection_id", "contract_id", "service_id"}, {"contract_service_id"})
    return v.check(lambda: MapSubscription.build(**body))


def _mappable(
    uow: UnitOfWork, actor: Actor, subscription_id: str, connection_id: str
) -> tuple[StoredSubscription, StoredConnection]:
    subscription = visible_subscription(uow.directory, actor, subscription_id)
    connection = visible_connection(uow.directory, actor, connection_id)
    if connection.reseller_id != subscription.value.reseller_id:
        raise NotFound(f"connection {connection_id} not found")
    existing = uow.directory.subscription_mapping(subscription_id)
    if existing is not None:
        raise Conflict(
            f"subscription {subscription_id} is already mapped to contract service {existing.contract_service_id}"
        )
    if uow.service_creations.open_for(subscription_id) is not None:
        raise Conflict(
            f"subscription {subscription_id} is being mapped already: Autotask is creating its contract service"
        )
    if not subscription.value.is_live:
        raise Invalid(
            f"subscription {subscription_id} is {subscription.value.status.value}; "
            "only live subscriptions can be mapped"
        )
    return subscription, connection
