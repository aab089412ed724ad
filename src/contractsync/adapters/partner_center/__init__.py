"""Reading Microsoft Partner Center (CSP) JSON: subscriptions, transitions and upgrade results.

Standard library only. See `vocabulary` for every mapping from Partner Center values to
contractsync's, and `document` for which files are read, ignored or refused.
"""

from contractsync.adapters.partner_center.document import parse_document, read_document
from contractsync.ports.partner_center_documents import (
    DocumentKind,
    PartnerCenterDocument,
    PartnerCenterFormatError,
    PartnerCenterSubscription,
    PartnerCenterTransition,
    ScheduledNextTerm,
    TransitionKind,
    TransitionState,
)

__all__ = [
    "DocumentKind",
    "PartnerCenterDocument",
    "PartnerCenterFormatError",
    "PartnerCenterSubscription",
    "PartnerCenterTransition",
    "ScheduledNextTerm",
    "TransitionKind",
    "TransitionState",
    "parse_document",
    "read_document",
]
