"""A Partner Center client for a stored source: its credentials decrypted, its endpoints checked."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from contractsync.adapters.partner_center.client import (
    PartnerCenterClient,
    PartnerCenterCredentials,
    PartnerCenterEndpoints,
)
from contractsync.ports.secrets import Secrets

#: A PEM file of extra certificate authorities to trust for Partner Center and sign-in calls
#: (the local sandbox's self-signed certificate); unset for Microsoft's hosts.
CA_FILE_ENV = "CONTRACTSYNC_PARTNER_CENTER_CA_FILE"


def ca_file(environ: Mapping[str, str] | None = None) -> str | None:
    return (environ if environ is not None else os.environ).get(CA_FILE_ENV) or None


def client_for_source(
    row: Any,
    secrets: Secrets,
    on_refresh_token: Callable[[str], None],
    *,
    environ: Mapping[str, str] | None = None,
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
        ca_file=ca_file(environ),
        environ=environ,
    )
