"""Admit a console sign-in attempt, or refuse it: at most so many per client address, and in
total, in moving windows counted in the store every API process shares.

An attempt counts for its window's length after it was made, whether its token turns out right
or not; a refused attempt counts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from contractsync.ports.sign_in_attempts import KEY_LENGTH
from contractsync.service.context import ServiceContext

#: The keys of the two counts: no client address is "total" or starts with "address:".
TOTAL = "total"
ADDRESS = "address:"


@dataclass(frozen=True)
class AttemptLimit:
    attempts: int
    seconds: int

    @property
    def window(self) -> timedelta:
        return timedelta(seconds=self.seconds)


def admit_sign_in(ctx: ServiceContext, address: str, per_address: AttemptLimit, total: AttemptLimit) -> bool:
    """True: the attempt from `address` is counted and may go on; False: one too many."""
    address_key = (ADDRESS + address)[:KEY_LENGTH]
    with ctx.units() as uow:
        attempts = uow.sign_in_attempts
        attempts.lock()
        now = ctx.now()  # read under the lock: attempts are counted in the order they were admitted
        attempts.remove_before(now - max(per_address.window, total.window))
        if (
            attempts.count_after(TOTAL, now - total.window) >= total.attempts
            or attempts.count_after(address_key, now - per_address.window) >= per_address.attempts
        ):
            return False
        attempts.add(TOTAL, now)
        attempts.add(address_key, now)
    return True
