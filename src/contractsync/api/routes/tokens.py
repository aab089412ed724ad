"""API tokens: the provider lists them and revokes them (create them with `contractsync tokens
create`). A revoked token stops working at once in this process, within seconds in others."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Response

from contractsync.api.answers import Answer
from contractsync.api.deps import CurrentActor, Service
from contractsync.api.routes._common import JSON, answers

router = APIRouter(prefix="/v1/tokens", tags=["tokens"])

TokenIdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]


class Token(Answer):
    id: int
    kind: Literal["admin", "reseller"]
    reseller_id: str | None
    #: where it came from: environment (CONTRACTSYNC_ADMIN_TOKEN), generated (first start), cli,
    #: unknown (created before sessions and tokens were tracked)
    source: Literal["environment", "generated", "cli", "unknown"]
    #: its first characters, to recognise it by
    hint: str | None
    created_at: str
    expires_at: str | None
    last_used_at: str | None


@router.get("", response_model=None, responses=answers(list[Token]))
def list_tokens(actor: CurrentActor, service: Service) -> list[JSON]:
    """Provider (admin token) only; never the token itself, which is stored hashed."""
    return service.list_tokens(actor)


@router.delete("/{token_id}", status_code=204, response_class=Response, responses=answers(None, 204))
def revoke_token(token_id: TokenIdPath, actor: CurrentActor, service: Service) -> Response:
    """Provider only. The console sessions signed in with the token end too."""
    service.revoke_token(actor, token_id)
    return Response(status_code=204)
