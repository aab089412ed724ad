"""New-commerce transitions and legacy upgrade results → `PartnerCenterTransition`."""

from __future__ import annotations

from datetime import date

from contractsync.adapters.partner_center import vocabulary as vocab
from contractsync.adapters.partner_center.values import Fields
from contractsync.ports.partner_center_documents import PartnerCenterTransition, TransitionState, normalise_id


def parse_transition(fields: Fields) -> PartnerCenterTransition:
    """POST/GET /transitions: seats moved from one catalog item (and subscription) to another."""
    quantity = fields.integer("quantity")
    if quantity is None or quantity == 0:
        raise fields.error("quantity", "is missing" if quantity is None else "must be at least 1")
    state, occurred = _events(fields)
    term, _ = vocab.term(fields, "termDuration", None)
    cycle, _ = vocab.billing_cycle(fields, "billingCycle", None)
    return PartnerCenterTransition(
        source=fields.source,
        record=fields.record,
        from_subscription_id=_id(fields, "fromSubscriptionId"),
        to_subscription_id=_id(fields, "toSubscriptionId"),
        from_offer_id=fields.text("fromCatalogItemId"),
        to_offer_id=fields.text("toCatalogItemId"),
        quantity=quantity,
        kind=vocab.transition_kind(fields, "transitionType"),
        state=state,
        occurred_on=occurred,
        term=term,
        billing_cycle=cycle,
        operation_id=fields.text("operationId"),
    )


def parse_upgrade_result(fields: Fields) -> PartnerCenterTransition:
    """Legacy POST /subscriptions/{id}/upgrades answer (UpgradeResult).

    It has no quantity and no date: a legacy upgrade moves the whole source subscription, so the
    import moves every seat it knows for the source, effective on the import date.
    """
    errors = tuple(_error_text(e) for e in fields.children("upgradeErrors"))
    licence = tuple(f"licence: {_error_text(e)}" for e in fields.children("licenseErrors"))
    return PartnerCenterTransition(
        source=fields.source,
        record=fields.record,
        from_subscription_id=_required_id(fields, "sourceSubscriptionId"),
        to_subscription_id=_required_id(fields, "targetSubscriptionId"),
        from_offer_id=None,
        to_offer_id=None,
        quantity=fields.integer("quantity"),
        kind=vocab.transition_kind(fields, "upgradeType"),
        # Licence-assignment errors do not undo the upgrade itself; upgrade errors mean it failed.
        state=TransitionState.FAILED if errors else TransitionState.COMPLETED,
        occurred_on=None,
        legacy=True,
        errors=errors + licence,
    )


def _events(fields: Fields) -> tuple[TransitionState, date | None]:
    """(state of the latest event, UTC date of the first). A top-level `status` wins if present.

    Partner Center lists events oldest first (Started, then Completed), so the last one is current.
    """
    events = fields.children("events")
    states = [vocab.transition_state(event, "status") for event in events]
    days = [day for day, _ in (event.day("timestamp") for event in events) if day is not None]
    first = min(days, default=None)
    if fields.has("status"):
        return vocab.transition_state(fields, "status"), first
    if not states:
        raise fields.error("events", "is missing: nothing says whether the transition happened")
    return states[-1], first


def _id(fields: Fields, name: str) -> str | None:
    value = fields.text(name)
    return normalise_id(value) if value else None


def _required_id(fields: Fields, name: str) -> str:
    return normalise_id(fields.required_text(name))


def _error_text(error: Fields) -> str:
    description = error.text("description")
    code = error.get("code")
    return f"{code}: {description}" if description else str(code)
