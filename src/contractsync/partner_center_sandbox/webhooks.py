"""Signed webhook delivery, as Partner Center documents it: an HTTP POST of the event JSON to the
registered URL with `Authorization: Signature <base64 RSA-SHA256 of the body>`,
`X-MS-Certificate-Url` (where the signing certificate is published) and
`X-MS-Signature-Algorithm: rsa-sha256`; up to 10 delivery attempts.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from contractsync.partner_center_sandbox.keys import KeyPair
from contractsync.partner_center_sandbox.state import SandboxState

ATTEMPTS = 10
JSON = dict[str, Any]


class WebhookSender:
    def __init__(self, state: SandboxState, signer: KeyPair, certificate_url: str, api_root: str) -> None:
        self.state = state
        self.signer = signer
        self.certificate_url = certificate_url
        self.api_root = api_root
        self._threads: list[threading.Thread] = []

    def subscription_updated(self, customer_id: str, subscription_id: str) -> None:
        registration = self.state.registration
        if registration is None or "subscription-updated" not in registration["WebhookEvents"]:
            return
        event = {
            "EventName": "subscription-updated",
            "ResourceUri": f"{self.api_root}/v1/customers/{customer_id}/subscriptions/{subscription_id}",
            "ResourceName": "subscription",
            "AuditUri": None,
            "ResourceChangeUtcDate": datetime.now(UTC).isoformat(),
        }
        thread = threading.Thread(
            target=self._deliver, args=(registration["WebhookUrl"], event), daemon=True, name="pc-webhook"
        )
        self._threads.append(thread)
        thread.start()

    def signed(self, body: bytes) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "Authorization": "Signature " + base64.b64encode(self.signer.sign(body)).decode(),
            "X-MS-Certificate-Url": self.certificate_url,
            "X-MS-Signature-Algorithm": "rsa-sha256",
        }

    def _deliver(self, url: str, event: JSON) -> None:
        body = json.dumps(event).encode()
        record: JSON = {"url": url, "event": event, "attempts": 0, "status": None, "error": None}
        with self.state.lock:
            self.state.deliveries.append(record)
        for attempt in range(1, ATTEMPTS + 1):
            record["attempts"] = attempt
            try:
                answer = httpx.post(url, content=body, headers=self.signed(body), timeout=30)
                record["status"] = answer.status_code
                if answer.is_success:
                    record["error"] = None
                    return
                record["error"] = answer.text[:300]
            except httpx.HTTPError as error:
                record["error"] = f"{error.__class__.__name__}: {error}"
            time.sleep(min(0.2 * 2**attempt, 5))

    def wait(self, timeout: float = 30) -> None:
        """Block until every delivery started so far has ended (tests and the demo's shutdown)."""
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
