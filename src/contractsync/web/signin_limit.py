"""Sign-in attempts are rate-limited per client address and in total (moving windows), so a
token cannot be guessed through the console. Limits in `limits`' notation, e.g. "10/minute";
every attempt counts, whether it succeeds or not. The attempts are counted in the database
(`ContractSync.admit_sign_in`), so the limits hold across every API process sharing it."""

from __future__ import annotations

from limits import RateLimitItem, parse

from contractsync.service.admit_sign_in import AttemptLimit
from contractsync.service.facade import ContractSync


def _attempt_limit(item: RateLimitItem) -> AttemptLimit:
    return AttemptLimit(item.amount, item.get_expiry())


class SignInLimit:
    def __init__(
        self, service: ContractSync, per_address: str = "10/minute", total: str = "100/minute"
    ) -> None:
        self.per_address: RateLimitItem = parse(per_address)
        self.total: RateLimitItem = parse(total)
        self._service = service
        self._limits = (_attempt_limit(self.per_address), _attempt_limit(self.total))

    def allow(self, address: str) -> bool:
        """Counts one attempt from `address`; False when it is one too many (nothing counted).
        Blocks on the database: call it off the event loop (`web.calls.call`)."""
        return self._service.admit_sign_in(address, *self._limits)

    @property
    def retry_after_seconds(self) -> int:
        return int(self.per_address.get_expiry())
