"""ContractSync: the application's one entry point for the API, the CLI and the web console.

Every method is a use case in one transaction (or a read). An operation, a batch, a new
subscription and a provider margin come as domain commands (`OperationCommand`, `BatchCommand`,
`CreateSubscription`, `SetProviderMargin`), or as their API.md bodies, read by the same rules;
other inputs are JSON-like dicts exactly as API.md names them; answers are JSON-ready dicts (snake_case, dates `YYYY-MM-DD`, money as decimal
strings with 4 places, percentages as decimal strings). Failures raise the typed errors of
`contractsync.service.errors` (NotFound 404, Invalid 422, Conflict 409, Unauthorized 401) and
change nothing. A reseller actor sees only its own reseller: ids of another reseller answer
NotFound, exactly like ids that do not exist.

Shapes (besides the fields API.md lists for the create bodies):
- reseller: {id, name, promotion_setting, approved_through}
- connection: {id, reseller_id, kind, username, integration_code, base_url, timezone,
  settle_seconds, policies: {upgrade, legacy_suspend, reseller_change}, created_at,
  paused: {reason, since, next_probe_at} | None} — never the secret
- customer: {id, reseller_id, name, tenant_id, provider_margins: {"microsoft": "20"}, mapping: {connection_id, company_id} | None}
- subscription: {id, customer_id, reseller_id, offer_id, offer_name, kind, quantity, status, term,
  billing_cycle, start_date, end_date, auto_renew, friendly_name, list_price, promotion:
  {id, discount_percent} | None, price_margin_percent, unit_cost, unit_price, sync_state:
  "synced"|"pending"|"out_of_sync"|"failed"|"unmapped", autotask_units (when they differ), mapping: {connection_id, contract_id, contract_service_id,
  service_id, mapped_on} | None, open_manual_actions: int}
- operation record: {id, connection_id, subscription_id, customer_id, operation_key, type, status,
  reason, notes: [str], effective_date, created_at, updated_at, preview: bool,
  adjustments: [{id, contract_id, contract_service_id, effective_date, target_units,
  unit_change (sent, else planned), adjusted_unit_price, adjusted_unit_cost, status, attempts,
  error, due_at, sent_at}], can_retry: bool}
- page: {items: [...], page, page_size, total}
- manual action: {id, connection_id, operation_id, subscription_id, contract_service_id,
  effective_date, unit_change, instruction, status, created_at}
- alert: {id, kind, message, connection_id, subscription_id, created_at}
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from datetime import datetime
from typing import TYPE_CHECKING, Any

from contractsync.domain.batch_command import BatchCommand
from contractsync.domain.commands import (
    CreateSubscription,
    IssueToken,
    SetProviderMargin,
    SetReconciliationSchedule,
    Sweep,
)
from contractsync.domain.directory_commands import (
    ApproveBilling,
    CreateConnection,
    CreateCustomer,
    CreateReseller,
    UpdateCredentials,
)
from contractsync.domain.mapping_commands import MapCustomer, MapSubscription, RemapCustomer
from contractsync.domain.operations import OperationCommand
from contractsync.domain.partner_center_commands import CreatePartnerCenterSource, UpdatePartnerCenterSource
from contractsync.domain.suggestion_commands import (
    AcceptCustomerSuggestions,
    AcceptPartnerCenterSuggestions,
    AcceptSubscriptionSuggestions,
)
from contractsync.ports.alert_notifier import AlertNotifier
from contractsync.ports.autotask_names import NameKind
from contractsync.ports.partner_center_api import ClientFactory, WebhookVerifier
from contractsync.service import (
    acknowledge_alert,
    admit_sign_in,
    approve_billing,
    autotask_names,
    autotask_today,
    batch_input,
    console_actor,
    create_connection,
    create_contract_services,
    create_customer,
    create_partner_center_source,
    create_reseller,
    create_subscription,
    create_token,
    directory_queries,
    end_console_session,
    issue_token,
    list_alerts,
    map_customer,
    map_subscription,
    notify_alerts,
    operation_batch,
    operation_queries,
    partner_center_source_queries,
    partner_center_suggest,
    poll_partner_center,
    psa_queries,
    receive_partner_center_event,
    reconcile,
    reconciliation_queries,
    register_admin_token,
    register_partner_center_webhook,
    retries,
    retry_operation,
    revoke_token,
    set_provider_margin,
    set_reconciliation_schedule,
    start_console_session,
    sweep,
    token_authority,
    token_queries,
    tokens,
    unmap_subscription,
    update_credentials,
    update_partner_center_source,
)
from contractsync.service.actor import Actor
from contractsync.service.admit_sign_in import AttemptLimit
from contractsync.service.console_session_policy import SessionPolicy
from contractsync.service.context import ServiceContext, require_admin
from contractsync.service.group_commit import GroupCommit

if TYPE_CHECKING:
    from contractsync.service.partner_center_poll import PartnerCenterPolling

JSON = dict[str, Any]


class ContractSync:
    """Built by `contractsync.bootstrap.build_app_service(settings)`; thread-safe."""

    def __init__(self, context: ServiceContext, deliver: Callable[[], JSON] | None = None) -> None:
        self.context = context
        self._deliver = deliver
        self._operations = GroupCommit(context)  # concurrent operations share a transaction
        self._tokens = token_authority.TokenAuthority(context)  # authentication cached for a few seconds
        # Partner Center's poller and webhook check, built when first used (from the context's kit
        # unless `using_partner_center` gave others)
        self._partner_center_lock = threading.Lock()
        self._partner_center: PartnerCenterPolling | None = None
        self._partner_center_client: ClientFactory | None = None
        self._partner_center_webhooks: WebhookVerifier | None = None

    # --- resellers, connections, customers, subscriptions -------------------------------------
    def create_reseller(self, actor: Actor, command: CreateReseller | JSON) -> JSON:
        """Admin only (a reseller token gets Forbidden). A `CreateReseller`, or its API.md body."""
        return create_reseller.create_reseller(self.context, actor, command)

    def list_resellers(self, actor: Actor) -> list[JSON]:
        return directory_queries.list_resellers(self.context, actor)

    def approve_billing(self, actor: Actor, reseller_id: str, command: ApproveBilling | JSON) -> JSON:
        """An `ApproveBilling`, or its body {approved_through: D}; answers the reseller."""
        return approve_billing.approve_billing(self.context, actor, reseller_id, command)

    def create_connection(self, actor: Actor, command: CreateConnection | JSON) -> JSON:
        """A `CreateConnection`, or its API.md body."""
        return create_connection.create_connection(self.context, actor, command)

    def list_connections(self, actor: Actor) -> list[JSON]:
        return directory_queries.list_connections(self.context, actor)

    def update_credentials(self, actor: Actor, connection_id: str, command: UpdateCredentials | JSON) -> JSON:
        """An `UpdateCredentials`, or its body {secret, username?, integration_code?}; a paused
        connection is probed at once."""
        return update_credentials.update_credentials(self.context, actor, connection_id, command)

    def create_customer(self, actor: Actor, command: CreateCustomer | JSON) -> JSON:
        """A `CreateCustomer`, or its API.md body."""
        return create_customer.create_customer(self.context, actor, command)

    def list_customers(self, actor: Actor) -> list[JSON]:
        return directory_queries.list_customers(self.context, actor)

    def set_provider_margin(
        self, actor: Actor, customer_id: str, provider: str, command: SetProviderMargin | JSON
    ) -> list[JSON]:
        """R5 (a `SetProviderMargin`, or its body {margin_percent, effective_date?, preview?});
        answers the operation records."""
        return set_provider_margin.set_provider_margin(self.context, actor, customer_id, provider, command)

    def create_subscription(self, actor: Actor, command: CreateSubscription | JSON) -> JSON:
        """A `CreateSubscription`, or its API.md body."""
        return create_subscription.create_subscription(self.context, actor, command)

    def get_subscription(self, actor: Actor, subscription_id: str) -> JSON:
        return directory_queries.get_subscription(self.context, actor, subscription_id)

    def list_subscriptions(
        self,
        actor: Actor,
        customer_id: str | None = None,
        sync_state: str | None = None,
        page: int = 1,
        page_size: int = 50,
    ) -> JSON:
        return directory_queries.list_subscriptions(
            self.context, actor, customer_id, sync_state, page, page_size
        )

    # --- operations and the audit log ----------------------------------------------------------
    def apply_operation(
        self, actor: Actor, subscription_id: str, operation: OperationCommand | JSON
    ) -> list[JSON]:
        """One lifecycle operation: an `OperationCommand` (what the API, the console and the CLI
        build), or its API.md body, read by the same rules. A preview stores and sends nothing."""
        return self._operations.apply(actor, subscription_id, operation_batch.as_command(operation))

    def submit_operation(
        self, actor: Actor, subscription_id: str, operation: OperationCommand | JSON
    ) -> Future[list[JSON]]:
        """`apply_operation` answered through a future, for a caller that must not block (the
        API's event loop): the operation joins the next group commit, run by its own thread."""
        return self._operations.submit(actor, subscription_id, operation_batch.as_command(operation))

    def apply_operations(self, actor: Actor, batch: BatchCommand | JSON) -> JSON:
        """Many operations in order, in one transaction: a `BatchCommand` (what the API, the CLI and
        the imports build), or its API.md body `{operations: [{subscription_id, type, …}], preview?,
        atomic?}`; each answered `applied` or `refused` (`atomic`: one refusal refuses all)."""
        return operation_batch.apply_operations(self.context, actor, batch_input.as_batch(batch))

    def list_operations(
        self,
        actor: Actor,
        subscription_id: str | None = None,
        status: str | None = None,
        type: str | None = None,
        page: int = 1,
        page_size: int = 50,
    ) -> JSON:
        """Newest first."""
        return operation_queries.list_operations(
            self.context, actor, subscription_id, status, type, page, page_size
        )

    def get_operation(self, actor: Actor, operation_id: int) -> JSON:
        return operation_queries.get_operation(self.context, actor, operation_id)

    def retry_operation(self, actor: Actor, operation_id: int) -> JSON:
        """F1 retry; Conflict with the reason when a later adjustment was sent already."""
        return retry_operation.retry_operation(self.context, actor, operation_id)

    # --- mappings ------------------------------------------------------------------------------
    def map_customer(self, actor: Actor, command: MapCustomer | JSON) -> JSON:
        """A `MapCustomer`, or its body {customer_id, connection_id, company_id}."""
        return map_customer.map_customer(self.context, actor, command)

    def map_subscription(self, actor: Actor, command: MapSubscription | JSON) -> JSON:
        """A `MapSubscription`, or its body {subscription_id, connection_id, contract_id,
        service_id, contract_service_id?};
        answers the CreateConnectionSubscriptionMapping record. The contract's and service's
        Autotask names are stored if they were not."""
        return map_subscription.map_subscription(self.context, actor, command)

    def create_contract_services(self) -> int:
        """For the worker: deliver the due contract-service creations mappings wait for (each one
        maps its subscription when the PSA has created the service); how many were tried."""
        return create_contract_services.create_contract_services(self.context)

    def unmap_subscription(self, actor: Actor, subscription_id: str) -> None:
        unmap_subscription.unmap_subscription(self.context, actor, subscription_id)

    def search_contracts(self, actor: Actor, connection_id: str, company_id: int | None = None) -> list[JSON]:
        """Through the connector: [{id, name, company_id, start_date, end_date}]."""
        return psa_queries.search_contracts(self.context, actor, connection_id, company_id)

    def search_contract_services(self, actor: Actor, connection_id: str, contract_id: int) -> list[JSON]:
        """Through the connector: [{id, contract_id, service_id, service_name, unit_price, unit_cost}]."""
        return psa_queries.search_contract_services(self.context, actor, connection_id, contract_id)

    def search_services(self, actor: Actor, connection_id: str, name: str | None = None) -> list[JSON]:
        """Through the connector: [{id, name, unit_price, unit_cost}]."""
        return psa_queries.search_services(self.context, actor, connection_id, name)

    # --- daily work, delivery, reconciliation ----------------------------------------------------
    def sweep(self, actor: Actor, command: Sweep | JSON) -> JSON:
        """A `Sweep`, or its body {date, preview?}; answers {date, operations: [...records], preview}."""
        return sweep.sweep(self.context, actor, command)

    def health(self) -> bool:
        """The database answers (for /healthz)."""
        return self.context.units.reachable()

    def run_deliveries(self, actor: Actor) -> JSON:
        """Deliver everything due now; answers {services, steps, calls: {kind: n}} of the run."""
        require_admin(actor)
        if self._deliver is None:
            return {"sent": 0, "failed": 0, "retrying": 0, "verified": 0}
        return self._deliver()

    def reconciliation(
        self, actor: Actor, connection_id: str, fix: bool = False, trigger: str = "on_demand"
    ) -> JSON:
        """X1: {connection_id, currency, services_checked, reads, differences: [{kind, subscription_id,
        customer_id, contract_service_id, date, period_end, posted, expected_units, autotask_units,
        expected_price, autotask_price, money_impact, run_rate, reason, record_id, exact_from}],
        money_impact, run_rate, totals: {kind: {count, money_impact, run_rate}}, totals_by_customer,
        fixed, queued, not_queued, operations, run_id}. The run is stored, and the connection's
        Autotask names are read again (when it checked any contract service)."""
        report = reconcile.reconciliation(self.context, actor, connection_id, fix, trigger)
        if report.get("services_checked"):  # nothing mapped, nothing read: no names to refresh
            autotask_names.refresh_quietly(self.context, actor, connection_id)
        return report

    def autotask_today(self, actor: Actor, subscription_id: str) -> JSON | None:
        """One read: {date, units, unit_price} Autotask holds today for the subscription; None unmapped."""
        return autotask_today.autotask_today(self.context, actor, subscription_id)

    def reconciliation_runs(self, actor: Actor, connection_id: str, limit: int = 50) -> JSON:
        """{connection_id, schedule: {every_hours, enabled, currency}, items: [run]}, newest first."""
        return reconciliation_queries.list_runs(self.context, actor, connection_id, limit)

    def set_reconciliation_schedule(self, actor: Actor, command: SetReconciliationSchedule | JSON) -> JSON:
        """A `SetReconciliationSchedule`, or its body {connection_id, every_hours?: 0 (off)..8760,
        currency?: "EUR"}; answers {connection_id, schedule}."""
        return set_reconciliation_schedule.set_reconciliation_schedule(self.context, actor, command)

    def list_manual_actions(self, actor: Actor) -> list[JSON]:
        return operation_queries.list_manual_actions(self.context, actor)

    def list_alerts(self, actor: Actor, state: str = "open") -> list[JSON]:
        """Alerts {id, kind, message, connection_id, subscription_id, reseller_id, created_at, raised_at, resolved_at,
        acknowledged_at, acknowledged_by, notified_at, operation_id, retry}; state open|acknowledged|resolved|all."""
        return list_alerts.list_alerts(self.context, actor, state)

    def refresh_alerts(self) -> None:
        """Raise and resolve the derived alerts now (the worker, every minute)."""
        list_alerts.refresh_alerts(self.context)

    def notify_alerts(self, notifier: AlertNotifier) -> int:
        """Send the alerts not sent yet to `notifier` (the worker, every minute); answer how many."""
        return notify_alerts.notify_alerts(self.context, notifier)

    def acknowledge_alert(self, actor: Actor, alert_id: int) -> JSON:
        return acknowledge_alert.acknowledge_alert(self.context, actor, alert_id)

    # --- tokens and console sessions ---------------------------------------------------------
    def create_token(
        self, reseller_id: str | None, expires_at: datetime | None = None, name: str | None = None
    ) -> str:
        """A new bearer token (shown once; stored hashed). None: an admin token. `name`: who the
        audit log says used it (unique; without one, "token #N (hint…)")."""
        return create_token.create_token(self.context, reseller_id, expires_at=expires_at, name=name)

    def issue_token(self, actor: Actor, command: IssueToken | JSON) -> JSON:
        """Admin only: an `IssueToken`, or its body {name, reseller_id?, expires_in_days?}; the
        token's listing and `token`, once."""
        return issue_token.issue_token(self.context, actor, command)

    def create_token_value(self, reseller_id: str | None, token: str, source: str = tokens.SOURCE_CLI) -> str:
        """Register a token chosen by the operator (at least 24 characters, else Invalid)."""
        return create_token.create_token(self.context, reseller_id, token, source=source)

    def observe_group_commits(self, observer: Callable[[int], None]) -> None:
        """`observer` is told how many single operations each group-commit transaction held."""
        self._operations.observer = observer

    def register_admin_token(self, token: str) -> None:
        """CONTRACTSYNC_ADMIN_TOKEN: registered; the previous one from the environment is retired."""
        register_admin_token.register_admin_token(self.context, self._tokens, token)

    def authenticate(self, token: str) -> Actor:
        """Unauthorized when the token is unknown, revoked or expired (cached for a few seconds)."""
        return self._tokens.authenticate(token)

    def cached_actor(self, token: str) -> Actor | None:
        """The token's actor when that needs no database (None: call `authenticate`)."""
        return self._tokens.cached_actor(token)

    def list_tokens(self, actor: Actor) -> list[JSON]:
        """Admin only: [{id, name, kind, reseller_id, source, hint, created_at, expires_at, last_used_at}]."""
        return token_queries.list_tokens(self.context, actor)

    def revoke_token(self, actor: Actor, token_id: int) -> None:
        """Admin only; also ends the console sessions the token signed in."""
        revoke_token.revoke_token(self.context, self._tokens, actor, token_id)

    def start_console_session(self, token: str, policy: SessionPolicy) -> tuple[str, Actor]:
        """Sign in: answers the session secret for the cookie and who signed in."""
        return start_console_session.start_console_session(self.context, self._tokens, token, policy)

    def console_actor(self, session_secret: str) -> Actor | None:
        return console_actor.console_actor(self.context, session_secret)

    def end_console_session(self, session_secret: str) -> None:
        end_console_session.end_console_session(self.context, session_secret)

    def admit_sign_in(self, address: str, per_address: AttemptLimit, total: AttemptLimit) -> bool:
        """Count one console sign-in attempt from `address`; False (nothing counted) when it is
        one too many for the address or in total, over every process sharing the database."""
        return admit_sign_in.admit_sign_in(self.context, address, per_address, total)

    # --- console reads (issue 13) ------------------------------------------------------------
    def dashboard(self, actor: Actor) -> JSON:
        """The console's home page: per connection and customer MRR, cost, markup on cost, sync
        states, failed records, money at risk, last delivery and reconciliation, a 12-month trend."""
        from contractsync.service import dashboard_queries

        return dashboard_queries.dashboard(self.context, actor)

    def connection_currencies(self, actor: Actor) -> dict[str, str]:
        """Connection id → the currency stored for it (the others use the configured default)."""
        from contractsync.service import dashboard_queries

        return dashboard_queries.connection_currencies(self.context, actor)

    def all_subscriptions(self, actor: Actor, customer_id: str | None = None) -> list[JSON]:
        """Every visible subscription, for an export (the list's shape, without pages)."""
        from contractsync.service import dashboard_queries

        return dashboard_queries.all_subscriptions(self.context, actor, customer_id)

    def search_operations(self, actor: Actor, filters: JSON, page: int = 1, page_size: int = 50) -> JSON:
        """The audit log by {customer_id, subscription (part of the id), type, status, recorded_from,
        recorded_to (dates, UTC)}; newest first, paged like `list_operations`."""
        from contractsync.service import audit_search

        return audit_search.search_operations(self.context, actor, filters, page, page_size)

    def export_operations(self, actor: Actor, filters: JSON) -> list[JSON]:
        """The records `search_operations` finds, all of them (at most 50,000), for a CSV file."""
        from contractsync.service import audit_search

        return audit_search.export_operations(self.context, actor, filters)

    # --- the console's mapping workflow (issue 13, X4) ---------------------------------------
    def search_companies(self, actor: Actor, connection_id: str, name: str) -> list[JSON]:
        """Through the connector: customer companies whose name contains `name`, [{id, name}]."""
        return psa_queries.search_companies(self.context, actor, connection_id, name)

    def company_names(
        self, actor: Actor, connection_id: str, wanted: list[int] | None = None
    ) -> dict[int, str]:
        """Every company's name by id, as stored (`autotask_names`; `wanted`: the ids a page shows)."""
        companies: dict[int, str] = self.autotask_names(
            actor, connection_id, wanted={"company": wanted or []}
        )["companies"]
        return companies

    def map_customer_to_company(self, actor: Actor, command: MapCustomer | JSON) -> JSON:
        """`map_customer`, refused (Invalid) when Autotask has no such customer company."""
        from contractsync.service.map_customer_to_company import map_customer_to_company

        return map_customer_to_company(self.context, actor, command)

    def customer_suggestions(self, actor: Actor, connection_id: str) -> JSON:
        """X4 for unmapped customers: tenant id in a company field, exact name, then a close name."""
        from contractsync.service import mapping_queries

        return mapping_queries.customer_suggestions(self.context, actor, connection_id)

    def accept_customer_suggestions(
        self, actor: Actor, command: AcceptCustomerSuggestions | JSON
    ) -> list[JSON]:
        """An `AcceptCustomerSuggestions`, or {connection_id, customers: [{customer_id, company_id}]};
        each chosen item answered mapped or refused."""
        from contractsync.service.accept_customer_suggestions import accept_customer_suggestions

        return accept_customer_suggestions(self.context, actor, command)

    def unmap_customer(self, actor: Actor, customer_id: str, connection_id: str | None = None) -> JSON:
        """Recorded in the audit log; the customer's subscription mappings stay. connection_id None:
        the connection it is mapped on."""
        from contractsync.service.unmap_customer import unmap_customer

        return unmap_customer(self.context, actor, customer_id, connection_id)

    def remap_customer(self, actor: Actor, command: RemapCustomer | JSON) -> JSON:
        """A `RemapCustomer`, or its body {customer_id, connection_id, company_id}; recorded in
        the audit log."""
        from contractsync.service.remap_customer import remap_customer

        return remap_customer(self.context, actor, command)

    def subscription_suggestions(self, actor: Actor, connection_id: str) -> JSON:
        """X4 for unmapped subscriptions of mapped customers: a contract service named like the offer."""
        from contractsync.service import mapping_queries

        return mapping_queries.subscription_suggestions(self.context, actor, connection_id)

    def accept_subscription_suggestions(
        self, actor: Actor, command: AcceptSubscriptionSuggestions | JSON
    ) -> list[JSON]:
        """An `AcceptSubscriptionSuggestions`, or its body {connection_id, subscriptions:
        [{subscription_id, contract_id, service_id, contract_service_id?}]}."""
        from contractsync.service.accept_subscription_suggestions import accept_subscription_suggestions

        return accept_subscription_suggestions(self.context, actor, command)

    def test_connection(self, actor: Actor, connection_id: str) -> JSON:
        """{ok, kind, message}: one Autotask call with the stored credentials."""
        return psa_queries.test_connection(self.context, actor, connection_id)

    # --- Partner Center, the live source (issue 14) ------------------------------------------
    def create_partner_center_source(self, actor: Actor, command: CreatePartnerCenterSource | JSON) -> JSON:
        """A reseller's CSP partner tenant: body {id, reseller_id, tenant_id, application_id, secret,
        refresh_token, authority_host?, api_root?, poll_minutes?, price_list?, webhook_url?}."""
        return create_partner_center_source.create_source(self.context, actor, command)

    def partner_center_sources(self, actor: Actor) -> list[JSON]:
        """The Partner Center sources with their poll: {id, reseller_id, tenant_id, poll_minutes,
        poll: {status, started_at, last_poll_at, next_poll_at, progress, last_error,
        manual_actions: [{kind: needs_price|needs_customer|failed, subscription_id, tenant_id,
        reason}]}}."""
        return partner_center_source_queries.list_sources(self.context, actor)

    def partner_center_source(self, actor: Actor, source_id: str) -> JSON:
        return partner_center_source_queries.get_source(self.context, actor, source_id)

    def update_partner_center_source(
        self, actor: Actor, source_id: str, command: UpdatePartnerCenterSource | JSON
    ) -> JSON:
        """New credentials, poll interval, price list or webhook URL (an
        `UpdatePartnerCenterSource`, or its body)."""
        return update_partner_center_source.update_source(self.context, actor, source_id, command)

    def poll_partner_center(self, actor: Actor, source_id: str) -> JSON:
        """Run (or resume) a poll now; a poll that stops answers Unavailable and resumes next time."""
        return poll_partner_center.poll_partner_center(self.partner_center_polling(), actor, source_id)

    def poll_due_partner_center_sources(self) -> list[str]:
        """For the worker: poll every source that is due (a failed poll is logged, resumes later)."""
        polled: list[str] = self.partner_center_polling().tick()
        return polled

    def register_partner_center_webhook(self, actor: Actor, source_id: str, url: str) -> JSON:
        return register_partner_center_webhook.register_partner_center_webhook(
            self.partner_center_polling(), actor, source_id, url
        )

    def receive_partner_center_event(self, source_id: str, headers: Mapping[str, str], body: bytes) -> JSON:
        """A webhook event: the signature verified, then only the subscription it names fetched."""
        return receive_partner_center_event.receive_partner_center_event(
            self.partner_center_polling(), self._partner_center_verifier(), source_id, headers, body
        )

    def partner_center_suggestions(self, actor: Actor, source_id: str, connection_id: str) -> JSON:
        """X4 in bulk: customers → companies (tenant id, then name), subscriptions → contract services."""
        return partner_center_suggest.suggest(self.context, actor, source_id, connection_id)

    def accept_partner_center_suggestions(
        self, actor: Actor, command: AcceptPartnerCenterSuggestions | JSON
    ) -> JSON:
        """An `AcceptPartnerCenterSuggestions`, or its body: map the chosen suggestions; each item
        answers `mapped`, `pending` or `refused` with the reason."""
        return partner_center_suggest.accept(self.context, actor, command)

    def using_partner_center(
        self, client_for: ClientFactory | None = None, verifier: WebhookVerifier | None = None
    ) -> ContractSync:
        """The same use cases with another Partner Center client or webhook verifier than the
        context's kit (the demo's and the tests' sandboxes)."""
        twin = ContractSync(self.context, self._deliver)
        twin._partner_center_client, twin._partner_center_webhooks = client_for, verifier
        return twin

    def partner_center_polling(self) -> PartnerCenterPolling:
        """Partner Center's poller for this façade (the worker's ticks, the demo's thread)."""
        from contractsync.service.partner_center_poll import PartnerCenterPolling

        with self._partner_center_lock:
            if self._partner_center is None:
                client_for = self._partner_center_client or self.context.partner_center_kit.client_for
                self._partner_center = PartnerCenterPolling(self, client_for)
            return self._partner_center

    def _partner_center_verifier(self) -> WebhookVerifier:
        with self._partner_center_lock:
            if self._partner_center_webhooks is None:
                self._partner_center_webhooks = self.context.partner_center_kit.verifier()
            return self._partner_center_webhooks

    def autotask_names(
        self,
        actor: Actor,
        connection_id: str,
        refresh: bool = False,
        wanted: Mapping[NameKind, Iterable[int]] | None = None,
    ) -> JSON:
        """{companies, contracts, services}: id → name as stored. Read through the connector (and
        stored) when none is stored, when `refresh`, or when an id in `wanted` ({company|contract|
        service: [ids]}) has none and the names are a minute old; empty when Autotask cannot be read."""
        return autotask_names.names(self.context, actor, connection_id, refresh, wanted)


def _retried(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def run(self: ContractSync, *args: Any, **kwargs: Any) -> Any:
        return retries.retried(self.context.units, lambda: method(self, *args, **kwargs))

    return run


_NOT_RETRIED = {
    "apply_operation", "submit_operation", "observe_group_commits", "health", "authenticate", "cached_actor",
    # a transaction per alert, around a call to the webhook (`notify_alerts`)
    "notify_alerts",
    # Partner Center's polls, webhooks and bulk mappings commit step by step (as before they were here)
    "create_partner_center_source", "partner_center_source", "update_partner_center_source",
    "poll_partner_center", "poll_due_partner_center_sources", "register_partner_center_webhook",
    "receive_partner_center_event", "partner_center_suggestions", "accept_partner_center_suggestions",
    "using_partner_center", "partner_center_polling",
}  # fmt: skip

# Every use case runs again after a deadlock or serialization failure (one place for the API, the
# console and the CLI). Single operations retry inside their group commit, which answers each
# caller (`submit_operation` only queues one); `health` must report a failure, not wait it out;
# `authenticate` is a cached read on every request, `cached_actor` reads no database at all.
for _name, _member in list(vars(ContractSync).items()):
    if callable(_member) and not _name.startswith("_") and _name not in _NOT_RETRIED:
        setattr(ContractSync, _name, _retried(_member))
