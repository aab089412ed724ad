"""Checking PSA credentials before they are saved: zone discovery (for a connection without a
URL) and `ThresholdInformation`, made with the new credentials, outside any transaction.

A URL the outbound allow-list refuses (the connection's, or the zone Autotask answers) refuses
the save (422); any other failure is answered with the saved connection, so an operator can
store credentials while Autotask is down, and sees at once whether Autotask took them.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import structlog

from contractsync.service.context import ServiceContext
from contractsync.service.errors import Invalid
from contractsync.service.psa import PsaError

log = structlog.get_logger(__name__)

JSON = dict[str, Any]


def check_credentials(ctx: ServiceContext, values: dict[str, Any]) -> JSON:
    """`{ok, kind, message}` of one ThresholdInformation call with the connection `values`."""
    row = SimpleNamespace(**values)
    build = getattr(ctx.connector_for, "fresh", ctx.connector_for)  # never the cached connector
    try:
        threshold = build(row).threshold_information()
    except Invalid:  # the outbound allow-list refused the URL (OutboundRefused)
        raise
    except PsaError as error:
        return {"ok": False, "kind": error.kind.value, "message": f"Autotask: {error.message}"}
    except Exception as error:  # a connector failure that is not Autotask's answer
        log.warning("credentials_check.failed", connection=values.get("id"), error=type(error).__name__)
        return {
            "ok": False,
            "kind": "connector_error",
            "message": f"the check failed: {type(error).__name__}",
        }
    return {
        "ok": True,
        "kind": None,
        "message": (
            f"Autotask accepted the credentials ({threshold.current_count} of "
            f"{threshold.limit} requests used in the current {threshold.timeframe_minutes} minutes)"
        ),
    }
