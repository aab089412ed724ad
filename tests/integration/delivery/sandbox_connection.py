"""A reseller and an Autotask connection to the sandbox, through the real service."""

from __future__ import annotations

from contractsync.sandbox.server import SandboxServer
from contractsync.service.actor import ADMIN
from contractsync.service.facade import ContractSync


def connect_to_sandbox(service: ContractSync, sandbox: SandboxServer) -> None:
    """Reseller `r1` with connection `at1` (settle 0) to the running sandbox."""
    service.create_reseller(ADMIN, {"id": "r1", "name": "Reseller One"})
    service.create_connection(ADMIN, {
        "id": "at1", "reseller_id": "r1", "kind": "autotask", "username": sandbox.username,
        "secret": sandbox.secret, "integration_code": sandbox.integration_code,
        "base_url": sandbox.base_url, "timezone": "UTC", "settle_seconds": 0,
    })  # fmt: skip
