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
    #: Must be far longer than the connector's request timeout: a lease that expires while a
    #: request is still in flight lets another worker treat it as unknown and verify too early.
    lease_seconds: float = 300.0
    #: The longest an idle worker waits before it looks for due rows anyway; a commit wakes it
    #: sooner (NOTIFY on PostgreSQL, `PRAGMA data_version` on SQLite: `wakeup.waker_for`).
    poll_interval: float = 0.1
    max_attempts: int = 8
    backoff_base: float = 2.0
    backoff_cap: float = 600.0
    #: After Autotask refuses a connection's credentials: first probe after this long, doubling
    #: after each refused probe up to `pause_probe_cap` (see `delivery/pause.py`).
    pause_probe_first: float = 300.0
    pause_probe_cap: float = 3600.0
    #: How many due candidates one claim looks at before giving up (others are leased).
    claim_batch: int = 20
    #: Before a back-dated adjustment goes out, read which contract periods Autotask has posted
    #: (one query per contract, remembered `posted_read_ttl` seconds) and place it in the first
    #: open one, instead of learning it from a refusal (see `delivery/posted_check.py`).
    read_posted_periods: bool = True
    posted_read_ttl: float = 300.0
    owner: str = field(default_factory=default_owner)
