"""API tokens: the provider creates (each with a name, the audit log's "who"), lists and revokes
them (or with `contractsync tokens create|list|revoke`). A revoked token stops working at once in
this process, within seconds in others."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Response
from pydantic import Field, StrictInt, StringConstraints

from contractsync.api.answers import Answer
from contractsync.api.deps import CurrentActor, Service
from contractsync.api.routes._common import JSON, answers, given
from contractsync.api.types import VISIBLE, Body, EntityId, WholeNumber
from contractsync.domain.commands import IssueToken
from contractsync.service.validation import check

router = APIRouter(prefix="/v1/tokens", tags=["tokens"])

TokenIdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]


class NewToken(Body):
    #: who the audit log says made each change with it (unique among tokens)
    name: Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=VISIBLE)]
    #: the reseller it is scoped to; null or absent: a provider (admin) token
    reseller_id: EntityId | None = None
    expires_in_days: Annotated[StrictInt, Field(ge=1, le=3650), WholeNumber] | None = None


class Token(Answer):
    id: int
    #: who the audit log says used it; null for tokens created without a name
    name: str | None
    kind: Literal["admin", "reseller"]
    reseller_id: str | None
    #: where it came from: environment (CONTRACTSYNC_ADMIN_TOKEN), generated (first start), cli,
    #: unknown (created before sessions and tokens were tracked)
    source: Literal["environment", "generated", "cli", "api", "unknown"]
    #: its first characters, to recognise it by
    hint: str | None
    created_at: str
    expires_at: str | None
    last_used_at: str | None


class IssuedToken(Token):
    #: the token itself: shown this once, stored hashed
    token: str


@router.post("", status_code=201, response_model=None, responses=answers(IssuedToken, 201))
def create_token(body: NewToken, actor: CurrentActor, service: Service) -> JSON:
    """Provider only. A new token, answered once (store it now); a name another token has is 409."""
    return service.issue_token(actor, check(lambda: IssueToken.build(**given(body))))


@router.get("", response_model=None, responses=answers(list[Token]))
def list_tokens(actor: CurrentActor, service: Service) -> list[JSON]:
    """Provider (admin token) only; never the token itself, which is stored hashed."""
    return service.list_tokens(actor)


@router.delete("/{token_id}", status_code=204, response_class=Response, responses=answers(None, 204))
def revoke_token(token_id: TokenIdPath, actor: CurrentActor, service: Service) -> Response:
    """Provider only. The console sessions signed in with the token end too."""
    service.revoke_token(actor, token_id)
    return Response(status_code=204)
