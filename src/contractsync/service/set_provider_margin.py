"""R5: a customer's margin for a provider, applied to every subscription of that provider's
offers on each connection, in one transaction (rolled back with `preview`, X2)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from contractsync.domain import rules
from contractsync.domain.bounds import check_date
from contractsync.domain.commands import SetProviderMargin
from contractsync.domain.engine import SyncEngine
from contractsync.domain.operations import UpdateProviderMargin
from contractsync.service import validation as v
from contractsync.service import views
from contractsync.service.actor import Actor
from contractsync.service.context import ServiceContext, visible_customer
from contractsync.service.retries import with_retries

JSON = dict[str, Any]


def set_provider_margin(
    ctx: ServiceContext, actor: Actor, customer_id: str, provider: str, command: SetProviderMargin | JSON
) -> list[JSON]:
    """`command`: built by the API from its body, or the API.md body itself (the console's form)."""
    if not isinstance(command, SetProviderMargin):
        command = read_command(command)
    margin, preview, effective = command.margin_percent, command.preview, command.effective_date
    provider = v.text(provider, "provider", 50)
    given = (
        None
        if effective is None
        else v.check(lambda: check_date(effective, "effective_date", ctx.now().date()))
    )
    return with_retries(ctx.units, lambda: _margin(ctx, actor, customer_id, provider, margin, given, preview))


def read_command(body: JSON) -> SetProviderMargin:
    """The API.md body `{margin_percent, effective_date?, preview?}` as the command."""
    v.fields(body, {"margin_percent"}, {"effective_date", "preview"})
    return v.check(
        lambda: SetProviderMargin.build(
            body["margin_percent"],
            effective_date=body.get("effective_date"),
            preview=body.get("preview", False),
        )
    )


def _margin(
    ctx: ServiceContext,
    actor: Actor,
    customer_id: str,
    provider: str,
    margin: Decimal,
    given: date | None,
    preview: bool,
) -> list[JSON]:
    with ctx.units(commit=not preview) as uow:
        visible_customer(uow.directory, actor, customer_id)
        groups = uow.books.customer_subscriptions(customer_id)
        groups.setdefault(None, [])  # the customer's own margins change even with no subscription
        key, record_ids = uuid.uuid4().hex, []
        for connection_id, ids in groups.items():
            loaded = uow.books.load(connection_id, ids, {customer_id})
            day = given or ctx.today_in(loaded.state.connection.timezone)
            op = UpdateProviderMargin(customer_id, provider, margin, day)
            SyncEngine(loaded.state).apply(
                rules.update_provider_margin(loaded.state.context(), op), ctx.now()
            )
            record_ids += uow.books.save(loaded, key, ctx.now(), actor.name)
        return views.operations_by_id(uow.audit_records, record_ids, preview)
