"""Sign-in attempts are rate-limited per client address and in total (moving windows, in this
process), so a token cannot be guessed through the console. Limits in `limits`' notation, e.g.
"10/minute"; every attempt counts, whether it succeeds or not."""

from __future__ import annotations

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class SignInLimit:
    def __init__(self, per_address: str = "10/minute", total: str = "100/minute") -> None:
        self.per_address: RateLimitItem = parse(per_address)
        self.total: RateLimitItem = parse(total)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def allow(self, address: str) -> bool:
        """Counts one attempt from `address`; False when it is one too many (nothing counted)."""
        if not self._limiter.test(self.total, "all") or not self._limiter.test(self.per_address, address):
            return False
        return self._limiter.hit(self.total, "all") and self._limiter.hit(self.per_address, address)

    @property
    def retry_after_seconds(self) -> int:
        return int(self.per_address.get_expiry())
