"""The use cases' typed failures; they live in `contractsync.ports.errors` because adapters raise
them too (a refused outbound URL is `Invalid`)."""

from contractsync.ports.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    ServiceError,
    Unauthorized,
    Unavailable,
)

__all__ = ["Conflict", "Forbidden", "Invalid", "NotFound", "ServiceError", "Unauthorized", "Unavailable"]
