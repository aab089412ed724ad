"""The outbound allow-list for Partner Center: https on Microsoft's own hosts; any other host only
when CONTRACTSYNC_PSA_ALLOWED_HOSTS lists it (`host[:port]`, comma-separated), and only those may
be reached over http. (The Autotask connector checks its URLs the same way; the two will share one
function.)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

ALLOWED_HOSTS_ENV = "CONTRACTSYNC_PSA_ALLOWED_HOSTS"

#: Partner Center's API and Microsoft's sign-in hosts (public cloud, 21Vianet, US Government).
MICROSOFT_HOSTS = (
    "api.partnercenter.microsoft.com",
    "login.microsoftonline.com",
    "login.partner.microsoftonline.cn",
    "partner.partnercenterapi.microsoftonline.cn",
    "login.microsoftonline.us",
    "api.partnercenter.microsoftonline.us",
)


class OutboundRefused(ValueError):
    """A URL contractsync will not call, with the reason."""


def allowed_hosts(environ: Mapping[str, str] | None = None) -> frozenset[str]:
    raw = (environ if environ is not None else os.environ).get(ALLOWED_HOSTS_ENV, "")
    return frozenset(part.strip().lower() for part in raw.split(",") if part.strip())


def check_outbound(url: str, environ: Mapping[str, str] | None = None) -> str:
    """The URL unchanged when it may be called; `OutboundRefused` naming why not."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise OutboundRefused(f"{url!r} is not an http(s) URL")
    if parts.username or parts.password:
        raise OutboundRefused(f"{url!r} carries credentials in the URL")
    listed = allowed_hosts(environ)
    port = parts.port
    if host in listed or (port is not None and f"{host}:{port}" in listed):
        return url
    if host in MICROSOFT_HOSTS and parts.scheme == "https" and port in (None, 443):
        return url
    raise OutboundRefused(
        f"{host}{'' if port is None else f':{port}'} is not a Microsoft Partner Center or sign-in host "
        f"(https only); add it to {ALLOWED_HOSTS_ENV} to allow it"
    )
