"""Answer shapes, for the OpenAPI document only.

The façade already answers JSON-ready dicts (its module docstring names the shapes); routes pass
them through untouched. These models describe them so clients and schemathesis can check them,
without a second serialisation step that could drop a field the façade adds later.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Answer(BaseModel):
    # Additional fields are allowed: API.md lets the answers grow.
    model_config = ConfigDict(extra="allow")


class ErrorBody(Answer):
    code: str
    message: str
    details: Any = None


class ErrorEnvelope(Answer):
    error: ErrorBody


class Reseller(Answer):
    id: str
    name: str
    promotion_setting: str
    approved_through: str | None


class Policies(Answer):
    upgrade: str
    legacy_suspend: str
    reseller_change: str


class ConnectionPause(Answer):
    # Autotask refused the connection's credentials: nothing is delivered until a probe succeeds.
    reason: str
    since: str
    next_probe_at: str


class CredentialsCheck(Answer):
    # What Autotask said to the credentials just saved (zone discovery + ThresholdInformation).
    ok: bool
    kind: str | None
    message: str


class Connection(Answer):
    id: str
    reseller_id: str
    kind: str
    username: str
    integration_code: str
    base_url: str | None
    timezone: str
    settle_seconds: int
    policies: Policies
    paused: ConnectionPause | None = None
    # Only in the answers of POST /v1/connections and PUT /v1/connections/{id}/credentials.
    credentials_check: CredentialsCheck | None = None


class CustomerMapping(Answer):
    connection_id: str
    company_id: int


class Customer(Answer):
    id: str
    reseller_id: str
    name: str
    tenant_id: str | None
    provider_margins: dict[str, str]
    mapping: CustomerMapping | None = None


class Promotion(Answer):
    id: str
    discount_percent: str


class SubscriptionMapping(Answer):
    connection_id: str
    contract_id: int
    contract_service_id: int | None
    service_id: int | None


class Subscription(Answer):
    id: str
    customer_id: str
    offer_id: str
    offer_name: str
    kind: str
    quantity: int
    status: str
    term: str
    billing_cycle: str
    start_date: str
    end_date: str
    auto_renew: bool
    friendly_name: str | None
    list_price: str
    promotion: Promotion | None
    price_margin_percent: str | None
    unit_cost: str | None
    unit_price: str | None
    sync_state: str
    mapping: SubscriptionMapping | None


class SubscriptionPage(Answer):
    items: list[Subscription]
    page: int
    page_size: int
    total: int


class Adjustment(Answer):
    contract_id: int | None
    contract_service_id: int | None
    effective_date: str | None
    unit_change: int | None
    adjusted_unit_price: str | None
    adjusted_unit_cost: str | None
    status: str | None


class OperationRecord(Answer):
    id: int | None
    connection_id: str | None
    subscription_id: str | None
    type: str
    status: str
    reason: str | None
    actor: str | None = None  # who made it: a token, a console user, "worker", "scheduler", "cli"
    adjustments: list[Adjustment]


class BatchError(Answer):
    code: str
    message: str


class BatchResult(Answer):
    index: int
    subscription_id: str
    type: str | None
    status: str  # applied | previewed | refused
    error: BatchError | None
    records: list[OperationRecord]
    replayed: bool  # sent before under the same idempotency key: the first answer, nothing changed


class OperationBatch(Answer):
    preview: bool
    applied: int
    refused: int
    results: list[BatchResult]


class OperationPage(Answer):
    items: list[OperationRecord]
    page: int
    page_size: int
    total: int


class SweepResult(Answer):
    date: str
    operations: list[OperationRecord]
    preview: bool


class DeliveryCounts(Answer):
    # Counts by outcome; which ones appear depends on the worker, so none is required.
    sent: int | None = None
    failed: int | None = None
    retrying: int | None = None
    verified: int | None = None


class Difference(Answer):
    subscription_id: str | None
    contract_service_id: int | None
    date: str | None
    money_impact: str | None
    kind: str | None = None  # drift | pending | inexact | failed
    reason: str | None = None
    record_id: int | None = None


class Reconciliation(Answer):
    connection_id: str | None
    differences: list[Difference]
    fixed: int


class ReconciliationRun(Answer):
    id: int
    connection_id: str
    trigger: str
    started_at: str
    services_checked: int
    reads: int
    differences: dict[str, int]
    money_impact: str
    currency: str


class ReconciliationSchedule(Answer):
    every_hours: int
    enabled: bool
    currency: str


class ReconciliationRuns(Answer):
    connection_id: str
    schedule: ReconciliationSchedule
    items: list[ReconciliationRun]


class ReconciliationSettings(Answer):
    connection_id: str
    schedule: ReconciliationSchedule


class ManualAction(Answer):
    id: int | str
    subscription_id: str | None
    instruction: str
    status: str


class Alert(Answer):
    id: int | str
    kind: str
    message: str
    connection_id: str | None = None
    subscription_id: str | None = None
    #: the reseller an alert belongs to when it names neither a connection nor a subscription
    #: (a Partner Center source's failing polls, an expiring token)
    reseller_id: str | None = None
    raised_at: str | None = None
    resolved_at: str | None = None
    acknowledged_at: str | None = None


class Contract(Answer):
    id: int
    name: str | None


class ContractService(Answer):
    id: int
    contract_id: int
    service_id: int


class Service(Answer):
    id: int
    name: str | None


class Health(Answer):
    status: str
