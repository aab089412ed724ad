"""Errors the sandbox answers with, in the vendor's envelope `{"errors": [...]}`."""

from __future__ import annotations

#: Exact rejection texts (the connector matches on them).
DUPLICATE_DATE = "Attempt to insert duplicate data into contract_service_period."
OUTSIDE_CONTRACT = "The effective date must be within the contract's start and end dates."
POSTED_PERIOD = (
    "Unable to make changes as it would result in the deletion/modification of an already approved "
    "and posted contract period."
)
THREAD_THRESHOLD = "Thread Threshold Exceeded"
#: What Autotask answers for many a body it cannot save, a required field left out among them (with
#: its two spaces; the Error ID varies at the vendor, 1165 and 1166 in the reports: fixed here).
UNEXPECTED_ERROR = (
    "An unexpected error has occurred.  If the problem persists, please contact Autotask Support "
    "and reference Error ID: 1166"
)
NEGATIVE_UNITS = "unitChange: the adjustment would leave the contract service with fewer than 0 units."


def budget_exceeded(budget: int) -> str:
    return f"API request limit exceeded: {budget} requests per 60 minutes."


def no_such_entity(field: str, entity: str, item_id: object) -> str:
    return f"{field}: no {entity} entity with id {item_id} exists."


class SandboxError(Exception):
    """A failure answered as `{"errors": [message]}` with `status` (the vendor uses 500 for most).

    `reason` is the short key counted in the stats ("duplicate_date", "not_found", ...).
    """

    def __init__(self, message: str, *, status: int = 500, reason: str = "validation") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason
