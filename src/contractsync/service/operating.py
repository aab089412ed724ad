"""Transitional: `with_retries` for `map_subscription` (the helper `books` moves it to
`contractsync.service.retries`); delete this module when nothing imports it."""

from contractsync.service.retries import retried, with_retries

__all__ = ["retried", "with_retries"]
