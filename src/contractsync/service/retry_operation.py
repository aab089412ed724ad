"""F1 retry of a failed operation: its failed rows go back to pending, while that is still safe.

It is safe only while no later adjustment of the same contract service has been sent: that
later one already carries the net effect (and the failed row is about to be superseded).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from contractsync.ports.subscription_books import RetryRefused, SubscriptionBooks


@dataclass(frozen=True)
class RetryResult:
    operation_id: int
    requeued: list[int]


def retry(books: SubscriptionBooks, operation_id: int, now: datetime) -> RetryResult:
    return RetryResult(operation_id, books.requeue_failed(operation_id, now))


__all__ = ["RetryRefused", "RetryResult", "retry"]
