"""The outbound allow-list for Partner Center: https on Microsoft's own hosts; any other host only
when the operator lists it in CONTRACTSYNC_PSA_ALLOWED_HOSTS (`host[:port]`, comma-separated; the
same `OutboundPolicy` the Autotask connector checks, from `Settings`, with the same meaning: a host
listed without a port allows its scheme's default port only), and only those may be reached over
http.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from contractsync.ports.secrets import OutboundPolicy

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


def check_outbound(url: str, policy: OutboundPolicy | None = None) -> str:
    """The URL unchanged when it may be called; `OutboundRefused` naming why not. `policy`: the
    hosts the operator lists (None: none)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise OutboundRefused(f"{url!r} is not an http(s) URL")
    if parts.username or parts.password:
        raise OutboundRefused(f"{url!r} carries credentials in the URL")
    port = parts.port
    if policy is not None and policy.lists(parts.scheme, host, port):
        return url
    if host in MICROSOFT_HOSTS and parts.scheme == "https" and port in (None, 443):
        return url
    raise OutboundRefused(
        f"{host}{'' if port is None else f':{port}'} is not a Microsoft Partner Center or sign-in host "
        f"(https only); add it to {ALLOWED_HOSTS_ENV} to allow it"
    )
