"""The Partner Center live source (issue 14) for the API, the CLI and the worker: sources, polls,
webhook events and bulk mapping suggestions. Built by `bootstrap.build_partner_center`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from contractsync.adapters.partner_center.client import PartnerCenterError
from contractsync.adapters.partner_center.factory import client_for_source
from contractsync.adapters.partner_center.webhook_signature import SignatureRefused, WebhookVerifier
from contractsync.service import partner_center_sources as sources
from contractsync.service import partner_center_suggest as suggest
from contractsync.service.actor import Actor
from contractsync.service.errors import Invalid, ServiceError, Unauthorized
from contractsync.service.facade import ContractSync
from contractsync.service.partner_center_poll import ClientFactory, PartnerCenterPolling, PollFailed

JSON = dict[str, Any]
_RESOURCE = re.compile(r"/customers/([^/?#]+)/subscriptions/([^/?#]+)", re.IGNORECASE)


class Unavailable(ServiceError):
    """Partner Center could not be reached or refused us; the caller (Partner Center) retries."""

    code = "unavailable"
    http_status = 503


class PartnerCenter:
    def __init__(
        self,
        service: ContractSync,
        client_for: ClientFactory | None = None,
        verifier: WebhookVerifier | None = None,
    ) -> None:
        self.service = service
        ctx = service.context
        self.polling = PartnerCenterPolling(
            service,
            client_for
            or (lambda row, store: client_for_source(row, ctx.secrets, store, outbound=ctx.outbound)),
        )
        outbound = ctx.outbound
        self.verifier = verifier or WebhookVerifier.configured(
            outbound.webhook_certificate_urls,
            outbound.webhook_trust_file,
            outbound.webhook_organization,
            outbound.partner_center_ca_file,
        )

    # --- sources ---------------------------------------------------------------------------------
    def create_source(self, actor: Actor, body: JSON) -> JSON:
        return sources.create_source(self.service.context, actor, body)

    def list_sources(self, actor: Actor) -> list[JSON]:
        return sources.list_sources(self.service.context, actor)

    def get_source(self, actor: Actor, source_id: str) -> JSON:
        return sources.get_source(self.service.context, actor, source_id)

    def update_source(self, actor: Actor, source_id: str, body: JSON) -> JSON:
        return sources.update_source(self.service.context, actor, source_id, body)

    # --- polling ---------------------------------------------------------------------------------
    def poll(self, actor: Actor, source_id: str) -> JSON:
        """Run (or resume) a poll now; a poll that stops answers 503 and resumes next time."""
        try:
            return self.polling.poll(actor, source_id)
        except PollFailed as error:
            raise Unavailable(f"the poll stopped and resumes where it stopped: {error}") from None

    def register_webhook(self, actor: Actor, source_id: str, url: str) -> JSON:
        try:
            return self.polling.register_webhook(actor, source_id, url)
        except PartnerCenterError as error:
            raise Unavailable(f"Partner Center refused the registration: {error.message}") from None

    # --- webhook events --------------------------------------------------------------------------
    def receive_event(self, source_id: str, headers: Mapping[str, str], body: bytes) -> JSON:
        """Verify the signature; then only fetch what the event names (its payload is not state)."""
        try:
            self.verifier.verify(headers, body, self.service.context.now())
        except SignatureRefused as refused:
            raise Unauthorized(f"webhook signature refused: {refused}") from None
        self.get_source(Actor(None), source_id)  # NotFound for an unknown source
        try:
            event = json.loads(body)
        except ValueError:
            raise Invalid("the event is not JSON") from None
        if not isinstance(event, dict):
            raise Invalid("the event must be a JSON object")
        fields = {str(key).lower(): value for key, value in event.items()}
        name = str(fields.get("eventname") or "")
        if name != "subscription-updated":
            return {
                "event": name,
                "fetched": None,
                "reason": "only subscription-updated events name a subscription",
            }
        match = _RESOURCE.search(str(fields.get("resourceuri") or ""))
        if match is None:
            raise Invalid("ResourceUri does not name a customer's subscription")
        try:
            outcome = self.polling.refresh_subscription(source_id, match[1].lower(), match[2].lower())
        except PartnerCenterError as error:
            raise Unavailable(f"the subscription could not be fetched: {error.message}") from None
        return {"event": name, "fetched": outcome}

    # --- mapping suggestions (X4 in bulk) --------------------------------------------------------
    def suggestions(self, actor: Actor, source_id: str, connection_id: str) -> JSON:
        return suggest.suggest(self.service.context, actor, source_id, connection_id)

    def accept_suggestions(self, actor: Actor, body: JSON) -> JSON:
        return suggest.accept(self.service.context, actor, body)
