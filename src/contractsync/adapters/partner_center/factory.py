"""A Partner Center client for a stored source: its credentials decrypted, its endpoints checked."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from contractsync.adapters.partner_center.client import (
    PartnerCenterClient,
    PartnerCenterCredentials,
    PartnerCenterEndpoints,
)
from contractsync.ports.secrets import OutboundPolicy, Secrets


def client_for_source(
    row: Any,
    secrets: Secrets,
    on_refresh_token: Callable[[str], None],
    *,
    outbound: OutboundPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> PartnerCenterClient:
    credentials = PartnerCenterCredentials(
        tenant_id=row.tenant_id,
        application_id=row.application_id,
        secret=secrets.decrypt(row.secret_encrypted),
        refresh_token=secrets.decrypt(row.refresh_token_encrypted),
    )
    return PartnerCenterClient(
        credentials,
        PartnerCenterEndpoints(row.authority_host, row.api_root),
        on_refresh_token=on_refresh_token,
        sleep=sleep,
        outbound=outbound,
    )
