"""One input schema: each API body names the fields of the domain command its route builds, and
asks for the same ones (the pydantic operation bodies are held to `OperationCommand` in
test_operation_commands.py)."""

from __future__ import annotations

import inspect
from dataclasses import fields

import pytest
from pydantic import BaseModel

from contractsync.api.routes.connections import NewConnection, NewCredentials
from contractsync.api.routes.customers import NewCustomer, ProviderMargin
from contractsync.api.routes.mappings import (
    AcceptSubscriptions,
    CustomerMapping,
    CustomerRemap,
    SubscriptionMapping,
    SuggestedSubscription,
)
from contractsync.api.routes.partner_center import (
    Accepted,
    CustomerChoice,
    NewSource,
    SourceChanges,
    SubscriptionChoice,
)
from contractsync.api.routes.reconciliation import ScheduleRequest
from contractsync.api.routes.resellers import BillingApproval, NewReseller
from contractsync.api.routes.subscriptions import NewSubscription
from contractsync.api.routes.sweeps import SweepRequest
from contractsync.api.routes.tokens import NewToken
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
from contractsync.domain.partner_center_commands import CreatePartnerCenterSource, UpdatePartnerCenterSource
from contractsync.domain.suggestion_commands import (
    AcceptPartnerCenterSuggestions,
    AcceptSubscriptionSuggestions,
)

# (body, command, the command's fields the body does not carry, the body's required fields the
# command's `build` defaults)
PAIRS: list[tuple[type[BaseModel], type, set[str], set[str]]] = [
    (NewReseller, CreateReseller, set(), {"promotion_setting"}),  # the JSON form defaults it
    (BillingApproval, ApproveBilling, set(), set()),
    (NewConnection, CreateConnection, set(), set()),
    (NewCredentials, UpdateCredentials, set(), set()),
    (NewCustomer, CreateCustomer, set(), set()),
    (ProviderMargin, SetProviderMargin, set(), set()),
    (NewSubscription, CreateSubscription, set(), set()),
    (CustomerMapping, MapCustomer, set(), set()),
    (CustomerRemap, RemapCustomer, {"customer_id"}, set()),  # from the path
    (SubscriptionMapping, MapSubscription, set(), set()),
    (SweepRequest, Sweep, {"connection_id"}, set()),  # the scheduler's, per connection
    (NewToken, IssueToken, set(), set()),
    (ScheduleRequest, SetReconciliationSchedule, set(), set()),
    (AcceptSubscriptions, AcceptSubscriptionSuggestions, set(), set()),
    (SuggestedSubscription, MapSubscription, {"connection_id"}, set()),  # the list's
    (Accepted, AcceptPartnerCenterSuggestions, set(), set()),
    (CustomerChoice, MapCustomer, {"connection_id"}, set()),
    (SubscriptionChoice, MapSubscription, {"connection_id"}, set()),
    (NewSource, CreatePartnerCenterSource, set(), set()),
    (SourceChanges, UpdatePartnerCenterSource, {"changes"}, set()),
]


@pytest.mark.parametrize(
    ("body", "command", "elsewhere", "defaulted"), PAIRS, ids=lambda p: getattr(p, "__name__", "")
)
def test_a_body_names_its_commands_fields(
    body: type[BaseModel], command: type, elsewhere: set[str], defaulted: set[str]
) -> None:
    assert set(body.model_fields) == {f.name for f in fields(command)} - elsewhere
    parameters = inspect.signature(command.build).parameters.values()
    required = {p.name for p in parameters if p.default is inspect.Parameter.empty}
    body_required = {name for name, info in body.model_fields.items() if info.is_required()}
    assert required - elsewhere == body_required - defaulted
