"""What the console may believe about how a request reached it: over https or not, and from which
client address. `X-Forwarded-Proto` and `X-Forwarded-For` are believed only from a proxy the
operator listed (CONTRACTSYNC_TRUSTED_PROXIES); anyone else could send them."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import ip_address

from starlette.requests import Request

from contractsync.settings import parse_addresses


@dataclass(frozen=True)
class Transport:
    #: the public URL is https: cookies are always Secure
    public_https: bool = False
    trusted_proxies: frozenset[str] = frozenset()

    @classmethod
    def configure(cls, public_url: str | None, trusted_proxies: str = "") -> Transport:
        return cls((public_url or "").lower().startswith("https://"), parse_addresses(trusted_proxies))

    def _peer(self, request: Request) -> str:
        return request.client.host if request.client is not None else ""

    def _from_trusted_proxy(self, request: Request) -> bool:
        peer = self._peer(request)
        try:
            return bool(peer) and str(ip_address(peer)) in self.trusted_proxies
        except ValueError:
            return False

    def is_https(self, request: Request) -> bool:
        if self.public_https or request.url.scheme == "https":
            return True
        if not self._from_trusted_proxy(request):
            return False
        proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        return proto == "https"

    def client_address(self, request: Request) -> str:
        """The peer's address; behind a trusted proxy, the last address it added to
        X-Forwarded-For (the one it saw; earlier entries are the client's own claims)."""
        peer = self._peer(request)
        if self._from_trusted_proxy(request):
            forwarded = [
                a.strip() for a in request.headers.get("x-forwarded-for", "").split(",") if a.strip()
            ]
            if forwarded:
                return forwarded[-1][:64]
        return peer or "unknown"
