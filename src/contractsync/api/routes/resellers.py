"""Resellers (tenants): created by the provider; a reseller token sees only its own."""

from __future__ import annotations

from fastapi import APIRouter

from contractsync.api import answers as A
from contractsync.api.deps import CurrentActor, Service
from contractsync.api.routes._common import JSON, IdPath, answers, given
from contractsync.api.types import Body, EntityId, IsoDate, Name, PromotionSetting
from contractsync.domain.directory_commands import ApproveBilling, CreateReseller
from contractsync.service.validation import check

router = APIRouter(prefix="/v1/resellers", tags=["resellers"])


class NewReseller(Body):
    id: EntityId
    name: Name
    promotion_setting: PromotionSetting


class BillingApproval(Body):
    approved_through: IsoDate


@router.post("", status_code=201, response_model=None, responses=answers(A.Reseller, 201))
def create_reseller(body: NewReseller, actor: CurrentActor, service: Service) -> JSON:
    """Provider (admin token) only."""
    return service.create_reseller(actor, check(lambda: CreateReseller.build(**given(body))))


@router.get("", response_model=None, responses=answers(list[A.Reseller]))
def list_resellers(actor: CurrentActor, service: Service) -> list[JSON]:
    return service.list_resellers(actor)


@router.post("/{reseller_id}/billing-approvals", response_model=None, responses=answers(A.Reseller))
def approve_billing(
    reseller_id: IdPath, body: BillingApproval, actor: CurrentActor, service: Service
) -> JSON:
    """Periods starting on or before `approved_through` are approved (R2a)."""
    command = check(lambda: ApproveBilling.build(approved_through=body.approved_through))
    return service.approve_billing(actor, reseller_id, command)
