"""Partner Center live source (issue 14): sources, polls, webhook registration and events, and
bulk mapping suggestions. Secrets and refresh tokens go in and never come out.

`POST /v1/partner-center/events?source_id=` is called by Partner Center itself, with no bearer
token: its signature is what authenticates it (see `webhook_signature`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import Field, StrictInt

from contractsync.api.deps import CurrentActor, Service
from contractsync.api.routes._common import JSON, IdPath, answers, dump, given
from contractsync.api.types import Body, Credential, EntityId, ExternalId, PsaId, RootUrl, Url, WholeNumber
from contractsync.domain.mapping_commands import MapCustomer, MapSubscription
from contractsync.domain.partner_center_commands import CreatePartnerCenterSource, UpdatePartnerCenterSource
from contractsync.domain.suggestion_commands import AcceptPartnerCenterSuggestions, choose
from contractsync.service.errors import NotFound
from contractsync.service.facade import ContractSync
from contractsync.service.partner_center import PartnerCenter
from contractsync.service.validation import check

router = APIRouter(prefix="/v1/partner-center", tags=["partner center"])
events_router = APIRouter(prefix="/v1/partner-center", tags=["partner center"])

Secret = Annotated[Credential, Field(repr=False, json_schema_extra={"writeOnly": True})]
RefreshToken = Annotated[
    str, Field(min_length=1, max_length=10_000, repr=False, json_schema_extra={"writeOnly": True})
]
PollMinutes = Annotated[StrictInt, Field(ge=1, le=1440), WholeNumber]
MAX_EVENT_BYTES = 64_000
ANY = dict[str, Any]


def partner_center(request: Request, service: Service) -> ContractSync:
    """The façade Partner Center's use cases run on: the service, or the one a demo or test put in
    `app.state.partner_center` (a `PartnerCenter` with its own client or webhook verifier)."""
    found = getattr(request.app.state, "partner_center", None)
    if found is not None:
        assert isinstance(found, PartnerCenter)
        return found.facade
    if getattr(service, "context", None) is None:  # an API over a service without a database
        raise NotFound("Partner Center sources are not available in this process (no database)")
    return service


class NewSource(Body):
    id: EntityId
    reseller_id: EntityId
    tenant_id: ExternalId
    application_id: ExternalId
    secret: Secret
    refresh_token: RefreshToken
    authority_host: RootUrl | None = None
    api_root: RootUrl | None = None
    poll_minutes: PollMinutes | None = None
    price_list: dict[str, str] | None = None
    webhook_url: Url | None = None


WRITE_ONLY: dict[str, Any] = {"writeOnly": True}
LongText = Annotated[str, Field(min_length=1, max_length=10_000)]


class SourceChanges(Body):
    secret: Credential | None = Field(None, repr=False, json_schema_extra=WRITE_ONLY)
    refresh_token: LongText | None = Field(None, repr=False, json_schema_extra=WRITE_ONLY)
    poll_minutes: PollMinutes | None = None
    price_list: dict[str, str] | None = None
    webhook_url: Url | None = None


class WebhookRegistration(Body):
    url: Url


class CustomerChoice(Body):
    customer_id: EntityId
    company_id: PsaId


class SubscriptionChoice(Body):
    subscription_id: Annotated[str, Field(min_length=1, max_length=100)]
    contract_id: PsaId
    service_id: PsaId
    contract_service_id: PsaId | None = None


class Accepted(Body):
    connection_id: EntityId
    customers: Annotated[list[CustomerChoice], Field(default_factory=list, max_length=2000)]
    subscriptions: Annotated[list[SubscriptionChoice], Field(default_factory=list, max_length=5000)]


def _not_null(body: Body) -> JSON:
    """The fields the client sent with a value: null is as absent here (the defaults)."""
    return {name: value for name, value in given(body).items() if value is not None}


@router.post("/sources", status_code=201, response_model=None, responses=answers(ANY, 201))
def create_source(body: NewSource, actor: CurrentActor, request: Request, service: Service) -> JSON:
    """A reseller's CSP partner tenant: app + user credentials (stored encrypted), endpoints
    (default Microsoft's; others only when allowed), poll interval and price list."""
    command = check(lambda: CreatePartnerCenterSource.build(**_not_null(body)))
    return partner_center(request, service).create_partner_center_source(actor, command)


@router.get("/sources", response_model=None, responses=answers(list[ANY]))
def list_sources(actor: CurrentActor, request: Request, service: Service) -> list[JSON]:
    """Every source with its poll: status, last and next poll, progress, manual actions."""
    return partner_center(request, service).partner_center_sources(actor)


@router.get("/sources/{source_id}", response_model=None, responses=answers(ANY))
def get_source(source_id: IdPath, actor: CurrentActor, request: Request, service: Service) -> JSON:
    return partner_center(request, service).partner_center_source(actor, source_id)


@router.patch("/sources/{source_id}", response_model=None, responses=answers(ANY))
def update_source(
    source_id: IdPath, body: SourceChanges, actor: CurrentActor, request: Request, service: Service
) -> JSON:
    """New credentials, poll interval, price list or webhook URL."""
    command = check(lambda: UpdatePartnerCenterSource.build(**_not_null(body)))
    return partner_center(request, service).update_partner_center_source(actor, source_id, command)


@router.post("/sources/{source_id}/poll", response_model=None, responses=answers(ANY))
def poll(source_id: IdPath, actor: CurrentActor, request: Request, service: Service) -> JSON:
    """Poll now (or resume a poll that stopped); answers the source with the poll's outcome."""
    return partner_center(request, service).poll_partner_center(actor, source_id)


@router.post("/sources/{source_id}/webhook-registration", response_model=None, responses=answers(ANY))
def register_webhook(
    source_id: IdPath, body: WebhookRegistration, actor: CurrentActor, request: Request, service: Service
) -> JSON:
    """Register `url` (this API's `/v1/partner-center/events?source_id=…`) for subscription-updated
    events through Partner Center's registration API."""
    return partner_center(request, service).register_partner_center_webhook(actor, source_id, body.url)


@router.get("/suggestions", response_model=None, responses=answers(ANY))
def suggestions(
    source_id: Annotated[str, Query(min_length=1, max_length=100)],
    connection_id: Annotated[str, Query(min_length=1, max_length=100)],
    actor: CurrentActor,
    request: Request,
    service: Service,
) -> JSON:
    """X4 in bulk: customers → companies (tenant id, then name), subscriptions → contract services."""
    return partner_center(request, service).partner_center_suggestions(actor, source_id, connection_id)


@router.post("/suggestions/accept", response_model=None, responses=answers(ANY))
def accept(body: Accepted, actor: CurrentActor, request: Request, service: Service) -> JSON:
    """Map the chosen suggestions; each item answers `mapped`, `pending` (a subscription whose new
    contract service Autotask has not created yet) or `refused` with the reason."""
    connection_id = body.connection_id
    command = check(
        lambda: AcceptPartnerCenterSuggestions.build(
            connection_id=connection_id,
            customers=[
                choose(dump(c), MapCustomer.build, connection_id=connection_id, **given(c))
                for c in body.customers
            ],
            subscriptions=[
                choose(dump(s), MapSubscription.build, connection_id=connection_id, **given(s))
                for s in body.subscriptions
            ],
        )
    )
    return partner_center(request, service).accept_partner_center_suggestions(actor, command)


@events_router.post("/events", response_model=None, responses=answers(ANY))
async def events(
    request: Request, service: Service, source_id: Annotated[str, Query(min_length=1, max_length=100)]
) -> Any:
    """Partner Center webhook receiver: the signature is verified; a subscription-updated event
    only makes contractsync fetch that subscription from Partner Center."""
    from starlette.concurrency import run_in_threadpool

    from contractsync.service.errors import Invalid

    body = await request.body()
    if len(body) > MAX_EVENT_BYTES:
        raise Invalid(f"an event is at most {MAX_EVENT_BYTES} bytes")
    center = partner_center(request, service)
    return await run_in_threadpool(
        center.receive_partner_center_event, source_id, dict(request.headers), body
    )
