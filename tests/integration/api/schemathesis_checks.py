"""What "the document is exact" means to schemathesis here: every check it has, with one
refinement of `positive_data_acceptance`. A request the document allows must not be refused for
anything the document could have said (a type, a bound, a pattern, an enum): such a refusal is a
wrong document and fails. A refusal the document cannot express — a rule across fields
("end_date is before start_date"), a value checked against a list kept elsewhere (time zones),
or the state of the data ("subscription s1 is not mapped") — is the API working as documented in
prose, and passes. So is a 413 for a body over the documented 1 MiB (JSON Schema cannot bound a
body's bytes): refusing it is neither a wrong document nor bad data accepted."""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from schemathesis import checks

from contractsync.api.middleware import MAX_BODY_BYTES

# Pydantic error types raised by the validators the document cannot describe.
_NOT_IN_THE_DOCUMENT = {"value_error"}


def _refused_for_a_reason_the_document_cannot_state(response: Any) -> bool:
    if response.status_code != 422:
        return False
    try:
        details = json.loads(response.text)["error"]["details"]
    except (ValueError, KeyError, TypeError):
        return False
    if not isinstance(details, list):  # the façade's own refusal: state or rules across fields
        return True
    return bool(details) and all(d.get("type") in _NOT_IN_THE_DOCUMENT for d in details)


def _too_large(response: Any) -> bool:
    body = getattr(response.request, "body", None) or b""
    return response.status_code == 413 and len(body) > MAX_BODY_BYTES


@schemathesis.check
def schema_valid_data_accepted(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    if _refused_for_a_reason_the_document_cannot_state(response) or _too_large(response):
        return None
    return checks.positive_data_acceptance(ctx, response, case)


@schemathesis.check
def schema_invalid_data_refused(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    if _too_large(response):
        return None
    return checks.negative_data_rejection(ctx, response, case)


def validate_with_every_check(case: schemathesis.Case, additional_checks: list[Any] | None = None) -> None:
    case.call_and_validate(
        excluded_checks=[checks.positive_data_acceptance, checks.negative_data_rejection],
        additional_checks=[
            schema_valid_data_accepted,
            schema_invalid_data_refused,
            *(additional_checks or []),
        ],
    )
