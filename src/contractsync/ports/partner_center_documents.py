"""What the reader makes of Partner Center JSON: normalised, typed, independent of its spelling."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date

from contractsync.domain.enums import BillingCycle, OfferKind, SubscriptionStatus, Term

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def is_guid(value: str) -> bool:
    return bool(_GUID.match(value))


def normalise_id(value: str) -> str:
    """GUIDs compare case-insensitively (legacy records spell them upper case): store them lower case."""
    value = value.strip()
    return value.lower() if is_guid(value) else value


class PartnerCenterFormatError(ValueError):
    """A Partner Center document (or one record of it) that cannot be read without guessing.

    Not called `ImportError`: that would shadow the builtin. `record` is a path into the document
    (`items[1]`, `transition[0]`, or `document` for the whole file); `field` is the Partner Center
    field as the file spells it (`status`, `billingCycle`), or None when the whole record is at fault.
    """

    def __init__(self, source: str, record: str, field: str | None, message: str) -> None:
        self.source = source
        self.record = record
        self.field = field
        self.message = message
        where = f"{source}: {record}" + (f": {field}" if field else "")
        super().__init__(f"{where}: {message}")

    def as_json(self) -> dict[str, str | None]:
        return {"file": self.source, "record": self.record, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class ScheduledNextTerm:
    """`scheduledNextTermInstructions`: what Microsoft applies when the subscription renews."""

    offer_id: str | None
    term: Term | None
    billing_cycle: BillingCycle | None
    quantity: int | None
    #: `customTermEndDate` (a co-terminous renewal), as a date
    custom_term_end_date: date | None = None


@dataclass(frozen=True)
class PartnerCenterSubscription:
    source: str  # the file it came from
    record: str  # where in the file: "document", "items[1]", …
    id: str
    customer_tenant_id: str | None
    offer_id: str
    offer_name: str | None
    friendly_name: str | None
    kind: OfferKind
    quantity: int
    status: SubscriptionStatus
    #: the status exactly as Partner Center spelled it (e.g. "deleted" for a cancelled one)
    partner_center_status: str
    term: Term
    billing_cycle: BillingCycle
    start_date: date | None
    #: last day of the commitment, inclusive; None: open-ended (Partner Center's `9999-12-..`
    #: sentinel on usage-based Azure subscriptions), so no expiry or renewal applies
    end_date: date | None
    auto_renew: bool | None
    scheduled_next_term: ScheduledNextTerm | None = None
    parent_subscription_id: str | None = None
    #: how term / billing cycle were found: "file", or the documented default that filled a gap
    defaults: tuple[str, ...] = ()

    @property
    def open_ended(self) -> bool:
        return self.end_date is None


class TransitionKind(enum.StrEnum):
    """NCE `transitionType` and legacy `upgradeType` (0 none, 1 upgrade_only, 2 …with licence transfer)."""

    TRANSITION_ONLY = "transition_only"
    TRANSITION_WITH_LICENSE_TRANSFER = "transition_with_license_transfer"
    UPGRADE_ONLY = "upgrade_only"
    UPGRADE_WITH_LICENSE_TRANSFER = "upgrade_with_license_transfer"


class TransitionState(enum.StrEnum):
    """The latest event of a transition; a legacy UpgradeResult without errors is `completed`."""

    STARTED = "started"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class PartnerCenterTransition:
    """A transition (NCE) or upgrade (legacy) that Partner Center performed: seats moved S → T."""

    source: str
    record: str
    from_subscription_id: str | None
    to_subscription_id: str | None
    from_offer_id: str | None
    to_offer_id: str | None
    #: seats moved; None for a legacy UpgradeResult, which carries no quantity (the whole
    #: subscription moves)
    quantity: int | None
    kind: TransitionKind
    state: TransitionState
    #: UTC date of the first event (when Partner Center started it), if the record has events
    occurred_on: date | None
    term: Term | None = None
    billing_cycle: BillingCycle | None = None
    legacy: bool = False
    #: `upgradeErrors` / `licenseErrors` descriptions Partner Center reported
    errors: tuple[str, ...] = ()
    #: Partner Center's `operationId` of a new-commerce transition (legacy upgrades have none)
    operation_id: str | None = None


class DocumentKind(enum.StrEnum):
    SUBSCRIPTIONS = "subscriptions"
    TRANSITIONS = "transitions"
    #: a Partner Center object that carries no subscription state (cart, order, webhook, …)
    IGNORED = "ignored"


@dataclass
class PartnerCenterDocument:
    """One file: its subscriptions and transitions, and the records that could not be read."""

    source: str
    kind: DocumentKind
    #: objectType (or what the shape says it is), e.g. "Subscription", "Collection", "Cart"
    object_type: str
    subscriptions: list[PartnerCenterSubscription] = field(default_factory=list)
    transitions: list[PartnerCenterTransition] = field(default_factory=list)
    errors: list[PartnerCenterFormatError] = field(default_factory=list)
    #: why nothing in it is imported, for IGNORED documents
    ignored_reason: str | None = None

    @property
    def record_count(self) -> int:
        return len(self.subscriptions) + len(self.transitions) + len(self.errors)
