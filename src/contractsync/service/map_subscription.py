"""Use case `map_subscription`: a subscription mapped to a contract service of the PSA, the
contract service created there first when the contract has none for the service (SPEC: mapping).

No PSA call happens inside a database transaction, and the one PSA write, creating the contract
service, goes through an outbox (`ports/service_creations.py`) like every adjustment:

1. One read-only transaction: who may map what, and what is known locally.
2. No transaction open: the PSA is read (the contract the first time; the contract's service lines
   when no contract service was named).
3. One short transaction: the contract service exists → the mapping and its aligning adjustment
   are written (as before); it does not → the mapping's audit record is written `pending` with a
   creation row in the outbox, both committed before anything is sent.
4. No transaction open: the creation is delivered at once (`deliver_creation`, the same step the
   worker runs for every due creation). The answer is the audit record as it stands then: the
   mapping with its adjustment when the PSA created the service, else `pending` (the worker
   retries with back-off) or `failed` (refused for good, with the PSA's reason).

A creation is claimed under a lease (committed) before the call; a call whose outcome is unknown
(a timeout after sending, a 5xx, a worker that died) is never simply repeated: the next attempt
first looks the contract's service lines up and adopts the one for the service if it is there.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from contractsync.ports.directory import StoredConnection, StoredSubscription
from contractsync.ports.outbox import OperationStatus
from contractsync.ports.psa import PsaContractServices, PsaError
from contractsync.ports.service_creations import NewServiceCreation, ServiceCreation
from contractsync.ports.unit_of_work import UnitOfWork
from contractsync.service import autotask_names, mapping, views
from contractsync.service import validation as v
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_connection, visible_subscription
from contractsync.service.errors import Conflict, Invalid, NotFound
from contractsync.service.operating import with_retries

JSON = dict[str, Any]
log = logging.getLogger(__name__)

#: How long a claimed creation is ours; after that its outcome counts as unknown.
LEASE = timedelta(minutes=5)
#: Back-off after a creation that failed for now: doubling from BASE up to CAP.
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
#: Creations one worker run delivers at most.
BATCH = 100


def map_subscription(ctx: ServiceContext, actor: Actor, body: JSON) -> JSON:
    """Answers the mapping's audit record; the contract's and the service's Autotask names are
    stored if they were not (on every path: the API, the console, accepted suggestions)."""
    v.fields(body, {"subscription_id", "connection_id", "contract_id", "service_id"}, {"contract_service_id"})
    contract_id = v.integer(body["contract_id"], "contract_id", 1, 2**31 - 1)
    service_id = v.integer(body["service_id"], "service_id", 1, 2**31 - 1)
    raw_cs = body.get("contract_service_id")
    given_cs = None if raw_cs is None else v.integer(raw_cs, "contract_service_id", 1, 2**31 - 1)
    subscription_id, connection_id = str(body["subscription_id"]), str(body["connection_id"])
    with ctx.units(commit=False) as uow:
        subscription, connection = _mappable(uow, actor, subscription_id, connection_id)
        known = uow.books.contract(connection.id, contract_id) is not None
    connector = ctx.connector_for(connection)
    contract = None if known else mapping.contract_of(connector.get_contract(contract_id))
    cs = given_cs if given_cs is not None else _line_of(connector, contract_id, service_id)

    def write() -> tuple[list[int], int | None]:
        with ctx.units() as uow:
            uow.lock_subscription(subscription_id)
            _mappable(uow, actor, subscription_id, connection_id)
            if contract is not None:
                uow.books.keep_contract(connection.id, contract)
            if cs is not None:
                service = (contract_id, service_id, cs)
                return mapping.map_to_service(
                    ctx, uow, actor.name, subscription_id, connection, service
                ), None
            record_id = mapping.record_creation(
                uow, ctx.now(), actor.name, subscription, connection.id, contract_id, service_id
            )
            price, cost = mapping.unit_pricing_of(uow, connection.id, subscription_id)
            new = NewServiceCreation(
                record_id, connection.id, subscription_id, contract_id, service_id, price, cost
            )
            return [record_id], uow.service_creations.add(new, ctx.now())

    record_ids, creation_id = with_retries(ctx.units, write)
    if creation_id is not None:
        _attempt(ctx, creation_id)
    with ctx.units(commit=False) as uow:
        record = views.operations_by_id(uow.audit_records, record_ids)[0]
    # The console names the contract and the service: read them when they are not stored yet.
    autotask_names.cover(ctx, actor, connection.id, {"contract": {contract_id}, "service": {service_id}})
    return record


def create_contract_services(ctx: ServiceContext) -> int:
    """For the worker: deliver every creation due now; answers how many were tried."""
    with ctx.units(commit=False) as uow:
        due = uow.service_creations.due(ctx.now(), BATCH)
    return sum(_attempt(ctx, creation_id) for creation_id in due)


def _attempt(ctx: ServiceContext, creation_id: int) -> bool:
    """`deliver_creation`, never raising: a failure the PSA port does not type (a bug, the database
    gone mid-way) leaves the creation claimed; when its lease runs out it is tried again, looked up
    first. The mapping's answer then says `pending`, and the worker goes on with the next one."""
    try:
        return deliver_creation(ctx, creation_id)
    except Exception:
        log.exception(
            "contract service creation %s failed; it is tried again when its lease ends", creation_id
        )
        return True


def deliver_creation(ctx: ServiceContext, creation_id: int) -> bool:
    """One attempt at a creation (False when it was not due: done, or another deliverer has it)."""
    now = ctx.now()
    with ctx.units() as uow:
        creation = uow.service_creations.claim(creation_id, now, now + LEASE)
        connection = None if creation is None else uow.directory.connection(creation.connection_id)
    if creation is None or connection is None:
        return False
    connector: PsaContractServices = ctx.connector_for(connection)
    try:
        # A later attempt may follow one whose outcome is unknown: adopt what it may have created.
        cs = _line_of(connector, creation.contract_id, creation.service_id) if creation.attempts > 1 else None
        if cs is None:
            cs = int(
                connector.create_contract_service(
                    creation.contract_id, creation.service_id, creation.unit_price, creation.unit_cost
                )
            )
    except PsaError as error:
        _failed(ctx, creation, error)
        return True
    with_retries(ctx.units, lambda: _created(ctx, creation, connection, cs))
    return True


def _created(ctx: ServiceContext, creation: ServiceCreation, connection: StoredConnection, cs: int) -> None:
    """The PSA holds contract service `cs` now: map the subscription to it (unless it was mapped,
    or `cs` taken, meanwhile: then the record fails with the reason)."""
    with ctx.units() as uow:
        uow.lock_subscription(creation.subscription_id)
        uow.service_creations.record_sent(creation.id, cs, ctx.now())
        if uow.directory.subscription_mapping(creation.subscription_id) is not None:
            reason = (
                f"contract service {cs} was created in Autotask, but the subscription was mapped meanwhile"
            )
            mapping.end_record(uow, creation.operation_id, OperationStatus.FAILED, reason, ctx.now())
            return
        service = (creation.contract_id, creation.service_id, cs)
        try:  # a taken contract service is refused before anything is written
            mapping.map_to_service(
                ctx, uow, _actor(uow, creation), creation.subscription_id, connection, service,
                record_id=creation.operation_id,
            )  # fmt: skip
        except Conflict as conflict:
            mapping.end_record(uow, creation.operation_id, OperationStatus.FAILED, str(conflict), ctx.now())


def _failed(ctx: ServiceContext, creation: ServiceCreation, error: PsaError) -> None:
    """Refused for good: the mapping's record fails with the PSA's reason; else due again later.
    An unknown outcome is retried the same way: the next attempt looks the line up first."""
    with ctx.units() as uow:
        if error.final:
            uow.service_creations.record_failed(creation.id, error.message, error.kind.value)
            reason = f"Autotask did not create the contract service: {error.message}"
            mapping.end_record(uow, creation.operation_id, OperationStatus.FAILED, reason, ctx.now())
            return
        delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(creation.attempts - 1, 0))
        uow.service_creations.record_retry(creation.id, error.message, error.kind.value, ctx.now() + delay)


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


def _line_of(connector: PsaContractServices, contract_id: int, service_id: int) -> int | None:
    """The contract's service line for `service_id`, if the PSA has one."""
    for line in connector.find_contract_services(contract_id):
        if line.service_id == service_id:
            return int(line.id)
    return None


def _actor(uow: UnitOfWork, creation: ServiceCreation) -> str | None:
    """Who asked for the mapping (kept on its record)."""
    record = uow.audit_records.record(creation.operation_id)
    actor = None if record is None else record.details.get("actor")
    return None if actor is None else str(actor)
