"""Where Autotask requests may go: the outbound allow-list (no server-side request forgery).

A connection's credentials travel with every request, and a reseller chooses its connection's
URL, so every URL is checked before anything is sent:

- `https` on a host under `autotask.net` (port 443), or a host the operator lists in
  `CONTRACTSYNC_PSA_ALLOWED_HOSTS` (`host[:port]`, comma-separated; `http` is allowed for those
  only). One meaning for Autotask and Partner Center alike: `host:port` allows that port (over
  http or https), a `host` listed without a port allows only its scheme's default port (443 for
  https, 80 for http), never any port;
- no user info, no fragment, only the characters a URL may hold;
- a connection's URL (and the URL zone discovery answers) is the API root itself:
  `…/atservicesrest/v1.0` (the forms `https://host`, `…/atservicesrest` and trailing slashes
  are taken as the same root), without a query;
- every request stays below `/atservicesrest/`.

A refused URL raises `OutboundRefused` (a 422 for an API caller; a failed row for the worker).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

import httpx

from contractsync.ports.errors import Invalid

API_ROOT_PATH = "/atservicesrest/v1.0"
AUTOTASK_DOMAIN = "autotask.net"
_ZONE_PATH = "/atservicesrest"
_ROOT_FORMS = frozenset({"", "/", _ZONE_PATH, _ZONE_PATH + "/", API_ROOT_PATH, API_ROOT_PATH + "/"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")
# RFC 3986 characters only: no space, backslash, quotes, control or non-ASCII characters.
_URL_CHARACTERS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$")
MAX_URL_LENGTH = 2000


class OutboundRefused(Invalid):
    """A URL the allow-list refuses; nothing was sent."""


@dataclass(frozen=True)
class AllowedHost:
    host: str
    port: int | None  # None: the scheme's default port

    def matches(self, host: str, port: int, scheme: str) -> bool:
        return host == self.host and port == (self.port or _DEFAULT_PORTS[scheme])


@dataclass(frozen=True)
class OutboundPolicy:
    """Autotask hosts always; `extra` hosts only when the operator lists them. The Partner Center
    client checks its URLs against the same `extra` hosts with the same meaning (`lists`), and
    takes the Partner Center trust settings from here too."""

    extra: tuple[AllowedHost, ...] = ()
    #: CONTRACTSYNC_PARTNER_CENTER_CA_FILE: a PEM file of extra certificate authorities for Partner
    #: Center and sign-in calls (the local sandbox's self-signed certificate)
    partner_center_ca_file: str | None = None
    #: CONTRACTSYNC_PARTNER_CENTER_WEBHOOK_CERTIFICATES: webhook signing certificate URLs trusted
    #: besides Microsoft's
    webhook_certificate_urls: tuple[str, ...] = ()
    #: CONTRACTSYNC_PARTNER_CENTER_WEBHOOK_TRUST_FILE: the roots (PEM) a webhook signing certificate
    #: must chain to (None: certifi's bundle)
    webhook_trust_file: str | None = None
    #: CONTRACTSYNC_PARTNER_CENTER_WEBHOOK_ORGANIZATION: the signing certificate's organisation
    webhook_organization: str = "Microsoft Corporation"

    def lists(self, scheme: str, host: str, port: int | None) -> bool:
        """The operator lists this host and port (`port` None: the scheme's default port); a host
        listed without a port matches its scheme's default port only, as for Autotask URLs."""
        if scheme not in _DEFAULT_PORTS:
            return False
        effective = port or _DEFAULT_PORTS[scheme]
        return any(allowed.matches(host, effective, scheme) for allowed in self.extra)

    def for_partner_center(
        self,
        ca_file: str | None,
        certificate_urls: str,
        trust_file: str | None = None,
        organization: str = "Microsoft Corporation",
    ) -> OutboundPolicy:
        """This allow-list with the Partner Center settings (`certificate_urls`: comma-separated)."""
        urls = tuple(u.strip() for u in certificate_urls.split(",") if u.strip())
        return replace(
            self,
            partner_center_ca_file=ca_file or None,
            webhook_certificate_urls=urls,
            webhook_trust_file=trust_file or None,
            webhook_organization=organization,
        )

    @classmethod
    def from_setting(cls, value: str | None) -> OutboundPolicy:
        """`CONTRACTSYNC_PSA_ALLOWED_HOSTS`: "host[:port],…"; a bad entry raises ValueError."""
        hosts = []
        for raw in (value or "").split(","):
            entry = raw.strip().lower()
            if not entry:
                continue
            host, _, port_text = entry.partition(":")
            if not _HOST.match(host) or (port_text and not _is_port(port_text)):
                raise ValueError(f"CONTRACTSYNC_PSA_ALLOWED_HOSTS: {raw.strip()!r} is not host or host:port")
            hosts.append(AllowedHost(host, int(port_text) if port_text else None))
        return cls(tuple(hosts))

    @classmethod
    def allowing(cls, url: str) -> OutboundPolicy:
        """A policy that also allows the host and port of `url` (e.g. a local sandbox)."""
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)
        return cls.from_setting(f"{host}:{port}")

    def api_root(self, url: str, what: str = "base_url") -> str:
        """The normalised API root (`scheme://host[:port]/atservicesrest/v1.0`) of a connection
        URL or of zone discovery's answer; OutboundRefused when it may not be used."""
        parsed = self._checked(url, what)
        if parsed.query or "?" in url:
            raise OutboundRefused(f"{what} must not have a query")
        if parsed.path not in _ROOT_FORMS:
            raise OutboundRefused(
                f"{what} must be the Autotask API root (…{API_ROOT_PATH}), not {parsed.path!r}"
            )
        return f"{parsed.scheme}://{_origin(parsed)}{API_ROOT_PATH}"

    def zone_root(self, url: str) -> str:
        """Where zone discovery starts: an allowed origin, nothing else."""
        parsed = self._checked(url, "zone discovery URL")
        if parsed.path not in ("", "/") or parsed.query:
            raise OutboundRefused("the zone discovery URL must be an origin (scheme://host)")
        return f"{parsed.scheme}://{_origin(parsed)}"

    def check_request(self, url: str) -> None:
        """Every request: an allowed origin and a path below the Autotask API."""
        parsed = self._checked(url, "request URL")
        if not parsed.path.startswith(_ZONE_PATH + "/"):
            raise OutboundRefused(f"request URL path {parsed.path!r} is not below {_ZONE_PATH}/")

    def _checked(self, url: str, what: str) -> httpx.URL:
        if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH or not _URL_CHARACTERS.match(url):
            raise OutboundRefused(f"{what} is not a plain URL")
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, ValueError):
            raise OutboundRefused(f"{what} is not a URL") from None
        if parsed.scheme not in _DEFAULT_PORTS:
            raise OutboundRefused(f"{what} must be an https URL")
        if parsed.userinfo or "@" in (urlsplit(url).netloc or ""):
            raise OutboundRefused(f"{what} must not carry user info")
        if parsed.fragment or "#" in url:
            raise OutboundRefused(f"{what} must not have a fragment")
        host, port = parsed.host.lower(), parsed.port or _DEFAULT_PORTS[parsed.scheme]
        if host != (urlsplit(url).hostname or "") or not _HOST.match(host):
            raise OutboundRefused(f"{what} has no plain host name")
        if self.lists(parsed.scheme, host, port):
            return parsed
        if not (host == AUTOTASK_DOMAIN or host.endswith("." + AUTOTASK_DOMAIN)):
            raise OutboundRefused(
                f"{what} host {host} is not under {AUTOTASK_DOMAIN} "
                "(other hosts only when listed in CONTRACTSYNC_PSA_ALLOWED_HOSTS)"
            )
        if parsed.scheme != "https" or port != _DEFAULT_PORTS["https"]:
            raise OutboundRefused(f"{what} must be https on port 443 for an {AUTOTASK_DOMAIN} host")
        return parsed


def _origin(parsed: httpx.URL) -> str:
    host = parsed.host.lower()
    return host if parsed.port is None else f"{host}:{parsed.port}"


def _is_port(text: str) -> bool:
    return text.isascii() and text.isdigit() and 1 <= int(text) <= 65_535
