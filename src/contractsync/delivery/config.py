"""Worker settings (defaults suit production; tests shrink the times)."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field


def default_owner() -> str:
    """Unique per worker instance, readable in the database when debugging a stuck lease."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class WorkerConfig:
    #: Contract services delivered in parallel; Autotask allows 3 concurrent requests per integration.
    concurrency: int = 3
    #: How long a contract service stays leased to a worker that stops renewing it: after a crash
    #: (SIGKILL, power loss) another worker takes the service over this long after the last renewal
    #: and verifies what the dead worker was sending before it sends anything else.
    lease_seconds: float = 30.0
    #: While a worker lives, a heartbeat thread renews its leases this often (also during a
    #: request that hangs), so a live worker never loses its service. Keep it well under
    #: `lease_seconds` (a third or less): a heartbeat that misses a whole lease lets another
    #: worker take over a service whose request is still in flight.
    heartbeat_seconds: float = 10.0
    #: On SIGTERM: stop claiming, give calls in flight this long to finish, then abandon them (their
    #: services are released, marked unknown, and verified by the next worker before it sends).
    shutdown_grace_seconds: float = 5.0
    #: The longest an idle worker waits before it looks for due rows anyway; a commit wakes it
    #: sooner (NOTIFY on PostgreSQL, `PRAGMA data_version` on SQLite: `wakeup.waker_for`).
    poll_interval: float = 0.1
    max_attempts: int = 8
    backoff_base: float = 2.0
    backoff_cap: float = 600.0
    #: After Autotask refuses a connection's credentials: first probe after this long, doubling
    #: after each refused probe up to `pause_probe_cap` (see `adapters/db/pauses.py`).
    pause_probe_first: float = 300.0
    pause_probe_cap: float = 3600.0
    #: How often the worker checks that the ledger still adds up with what the last verification
    #: of each contract service read (`adapters/db/ledger_check.py`; X5 alert `ledger_drift`).
    self_check_seconds: float = 60.0
    #: How many due candidates one claim looks at before giving up (others are leased).
    claim_batch: int = 20
    #: Before a back-dated adjustment goes out, read which contract periods Autotask has posted
    #: (one query per contract, remembered `posted_read_ttl` seconds) and place it in the first
    #: open one, instead of learning it from a refusal (see `delivery/posted_check.py`).
    read_posted_periods: bool = True
    posted_read_ttl: float = 300.0
    owner: str = field(default_factory=default_owner)
