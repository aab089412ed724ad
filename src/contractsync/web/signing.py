"""Tamper-proof cookie values: JSON signed with HMAC-SHA256 (stdlib only).

The console's session cookie is readable by its holder but cannot be forged or altered without
the key; a value signed with another key, or cut short, or expired, reads as no value at all.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import Any


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    def __init__(self, key: bytes, purpose: str) -> None:
        if len(key) < 16:
            raise ValueError("the signing key must be at least 16 bytes")
        # One derived key per purpose, so a value signed for one use is never valid for another.
        self._key = hmac.new(key, purpose.encode(), hashlib.sha256).digest()

    def _mac(self, payload: str) -> str:
        return _b64encode(hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest())

    def sign(self, data: dict[str, Any], max_age_seconds: int, now: float | None = None) -> str:
        expires = int((time.time() if now is None else now) + max_age_seconds)
        payload = _b64encode(json.dumps({"d": data, "e": expires}, separators=(",", ":")).encode())
        return f"{payload}.{self._mac(payload)}"

    def unsign(self, value: str, now: float | None = None) -> dict[str, Any] | None:
        payload, _, mac = value.partition(".")
        if not payload or not mac or not hmac.compare_digest(mac, self._mac(payload)):
            return None
        try:
            decoded = json.loads(_b64decode(payload))
        except (ValueError, binascii.Error):
            return None
        if not isinstance(decoded, dict) or not isinstance(decoded.get("d"), dict):
            return None
        expires = decoded.get("e")
        if not isinstance(expires, int) or expires < (time.time() if now is None else now):
            return None
        data: dict[str, Any] = decoded["d"]
        return data
