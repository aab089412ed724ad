"""Use case `create_contract_services` (the worker, and `map_subscription` right away): deliver the
contract-service creations mappings wait for, through their outbox (`ports/service_creations.py`).

A creation is claimed under a lease (committed) before the call, and a heartbeat thread renews
the lease while the call lasts (`ctx.leases`: 30 s, renewed every 10 s), so a call that waits
long (the hourly request budget, a slow Autotask) keeps its creation, and a deliverer that died
loses it within a lease. A call whose outcome is unknown (a timeout after sending, a 5xx, a
deliverer that died) is never simply repeated: the next attempt first looks the contract's
service lines up and adopts the one for the service if it is there.
Once the PSA holds the contract service, the subscription is mapped to it (its waiting record
gets the outcome); refused for good, the record fails with the PSA's reason; else it is due again
after a back-off.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from contractsync.ports.directory import StoredConnection
from contractsync.ports.psa import PsaContractServices, PsaError
from contractsync.ports.service_creations import ServiceCreation
from contractsync.ports.unit_of_work import UnitOfWork
from contractsync.service.context import ServiceContext
from contractsync.service.contract_service_mapping import fail_record, line_of, map_to_service
from contractsync.service.errors import Conflict
from contractsync.service.retries import with_retries

log = logging.getLogger(__name__)

#: Back-off after a creation that failed for now: doubling from BASE up to CAP.
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
#: Creations one worker run delivers at most.
BATCH = 100


def create_contract_services(ctx: ServiceContext) -> int:
    """For the worker: deliver every creation due now; answers how many were tried."""
    with ctx.units(commit=False) as uow:
        due = uow.service_creations.due(ctx.now(), BATCH)
    return sum(attempt(ctx, creation_id) for creation_id in due)


def attempt(ctx: ServiceContext, creation_id: int, claimed: bool = False) -> bool:
    """`deliver_creation`, never raising: a failure the PSA port does not type (a bug, the database
    gone mid-way) leaves the creation claimed; when its lease runs out it is tried again, looked up
    first. The mapping's answer then says `pending`, and the worker goes on with the next one."""
    try:
        return deliver_creation(ctx, creation_id, claimed)
    except Exception:
        log.exception(
            "contract service creation %s failed; it is tried again when its lease ends", creation_id
        )
        return True


def deliver_creation(ctx: ServiceContext, creation_id: int, claimed: bool = False) -> bool:
    """One attempt at a creation (False when it was not due: done, or another deliverer has it).
    `claimed`: the caller added it claimed (`ServiceCreations.add`) and makes its first attempt."""
    now = ctx.now()
    with ctx.units() as uow:
        creations = uow.service_creations
        creation = (
            creations.get(creation_id) if claimed else creations.claim(creation_id, now, lease_end(ctx))
        )
        connection = None if creation is None else uow.directory.connection(creation.connection_id)
    if creation is None or connection is None:
        return False
    connector: PsaContractServices = ctx.connector_for(connection)
    try:
        with _lease_kept(ctx, creation):
            # A later attempt may follow one whose outcome is unknown: adopt what it may have created.
            cs = (
                line_of(connector, creation.contract_id, creation.service_id)
                if creation.attempts > 1
                else None
            )
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


def lease_end(ctx: ServiceContext) -> datetime:
    """Until when a creation claimed now is the claimer's, unless renewed."""
    return ctx.now() + timedelta(seconds=ctx.leases.seconds)


@contextmanager
def _lease_kept(ctx: ServiceContext, creation: ServiceCreation) -> Iterator[None]:
    """Renew the claim on `creation` every `heartbeat_seconds` (in a thread, each renewal a short
    transaction of its own) until the block ends."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(ctx.leases.heartbeat_seconds):
            try:
                with ctx.units() as uow:
                    if not uow.service_creations.renew(creation.id, creation.attempts, lease_end(ctx)):
                        return  # the claim is over: nothing left to keep
            except Exception:  # the database is away for now: the next beat tries again
                log.exception("lease heartbeat for contract service creation %s failed", creation.id)

    heartbeat = threading.Thread(target=beat, name=f"creation-{creation.id}-lease", daemon=True)
    heartbeat.start()
    try:
        yield
    finally:
        done.set()
        heartbeat.join()


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
            fail_record(uow, creation.operation_id, reason, ctx.now())
            return
        service = (creation.contract_id, creation.service_id, cs)
        try:  # a taken contract service is refused before anything is written
            map_to_service(
                ctx, uow, _actor(uow, creation), creation.subscription_id, connection, service,
                record_id=creation.operation_id,
            )  # fmt: skip
        except Conflict as conflict:
            fail_record(uow, creation.operation_id, str(conflict), ctx.now())


def _failed(ctx: ServiceContext, creation: ServiceCreation, error: PsaError) -> None:
    """Refused for good: the mapping's record fails with the PSA's reason; else due again later.
    An unknown outcome is retried the same way: the next attempt looks the line up first."""
    with ctx.units() as uow:
        if error.final:
            uow.service_creations.record_failed(creation.id, error.message, error.kind.value)
            reason = f"Autotask did not create the contract service: {error.message}"
            fail_record(uow, creation.operation_id, reason, ctx.now())
            return
        delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(creation.attempts - 1, 0))
        uow.service_creations.record_retry(creation.id, error.message, error.kind.value, ctx.now() + delay)


def _actor(uow: UnitOfWork, creation: ServiceCreation) -> str | None:
    """Who asked for the mapping (kept on its record)."""
    record = uow.audit_records.record(creation.operation_id)
    actor = None if record is None else record.details.get("actor")
    return None if actor is None else str(actor)
