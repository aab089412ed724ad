"""Transitional: Partner Center's use cases (issue 14) under the names they had before they were
on the façade (`ContractSync.create_partner_center_source`, `poll_partner_center`, …). Callers
that bring their own Partner Center client or webhook verifier (the demo's sandbox, tests,
benchmarks) pass them here; the use cases run on `service.using_partner_center(...)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from contractsync.domain.suggestion_commands import AcceptPartnerCenterSuggestions
from contractsync.ports.partner_center_api import ClientFactory, WebhookVerifier
from contractsync.service.actor import Actor
from contractsync.service.facade import ContractSync

if TYPE_CHECKING:
    from contractsync.service.partner_center_poll import PartnerCenterPolling

JSON = dict[str, Any]


class PartnerCenter:
    def __init__(
        self,
        service: ContractSync,
        client_for: ClientFactory | None = None,
        verifier: WebhookVerifier | None = None,
    ) -> None:
        self.service = service
        own = client_for is not None or verifier is not None
        #: the façade the use cases run on (the service itself unless a client or verifier is given)
        self.facade = service.using_partner_center(client_for, verifier) if own else service

    @property
    def polling(self) -> PartnerCenterPolling:
        return self.facade.partner_center_polling()

    def create_source(self, actor: Actor, body: JSON) -> JSON:
        return self.facade.create_partner_center_source(actor, body)

    def list_sources(self, actor: Actor) -> list[JSON]:
        return self.facade.partner_center_sources(actor)

    def get_source(self, actor: Actor, source_id: str) -> JSON:
        return self.facade.partner_center_source(actor, source_id)

    def update_source(self, actor: Actor, source_id: str, body: JSON) -> JSON:
        return self.facade.update_partner_center_source(actor, source_id, body)

    def poll(self, actor: Actor, source_id: str) -> JSON:
        return self.facade.poll_partner_center(actor, source_id)

    def register_webhook(self, actor: Actor, source_id: str, url: str) -> JSON:
        return self.facade.register_partner_center_webhook(actor, source_id, url)

    def receive_event(self, source_id: str, headers: Mapping[str, str], body: bytes) -> JSON:
        return self.facade.receive_partner_center_event(source_id, headers, body)

    def suggestions(self, actor: Actor, source_id: str, connection_id: str) -> JSON:
        return self.facade.partner_center_suggestions(actor, source_id, connection_id)

    def accept_suggestions(self, actor: Actor, command: AcceptPartnerCenterSuggestions | JSON) -> JSON:
        return self.facade.accept_partner_center_suggestions(actor, command)
