"""The directory's, the mappings', the sweep's and the tokens' commands: the same from API.md JSON
and from typed values (the API's validated body), within the bounds, refused naming the field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from contractsync.domain.bounds import MAX_PSA_ID
from contractsync.domain.commands import IssueToken, Sweep
from contractsync.domain.directory_commands import (
    ApproveBilling,
    CreateConnection,
    CreateCustomer,
    CreateReseller,
    UpdateCredentials,
)
from contractsync.domain.enums import PromotionSetting
from contractsync.domain.mapping_commands import MapCustomer, MapSubscription, RemapCustomer
from contractsync.domain.operations import InvalidInput

CONNECTION: dict[str, Any] = {
    "id": "k1", "reseller_id": "r1", "kind": "autotask", "username": "api@example.com", "secret": "s3cret",
    "integration_code": "CODE", "timezone": "Europe/Berlin",
}  # fmt: skip


def refused(build: Any, message: str, **values: Any) -> None:
    with pytest.raises(InvalidInput, match=message):
        build(**values)


def test_a_reseller() -> None:
    assert CreateReseller.build(id="r1", name="Contoso") == CreateReseller("r1", "Contoso")
    typed = CreateReseller.build(id="r1", name="Contoso", promotion_setting=PromotionSetting.KEEP)
    assert typed == CreateReseller.build(id="r1", name="Contoso", promotion_setting="keep")
    # Names from the console and imports may be 300 characters (the API's schema takes 200).
    assert len(CreateReseller.build(id="r1", name="n" * 300).name) == 300
    refused(CreateReseller.build, "name must be a non-empty string of at most 300", id="r1", name="n" * 301)
    refused(CreateReseller.build, "id must be a non-empty string of at most 100", id="r" * 101, name="n")
    refused(
        CreateReseller.build, "promotion_setting must be one of", id="r1", name="n", promotion_setting="x"
    )
    refused(CreateReseller.build, "name must not contain control characters", id="r1", name="a\nb")


def test_a_billing_approval() -> None:
    assert ApproveBilling.build(approved_through="2026-03-31") == ApproveBilling(date(2026, 3, 31))
    assert ApproveBilling.build(approved_through=date(2026, 3, 31)) == ApproveBilling(date(2026, 3, 31))
    refused(ApproveBilling.build, "approved_through must be a date", approved_through="March")


def test_a_connection() -> None:
    command = CreateConnection.build(**CONNECTION, policies={"upgrade": "auto"}, base_url="https://x.example")
    assert command.settle_seconds == 600 and command.policies == {"upgrade": "auto"}
    assert command.base_url == "https://x.example" and "s3cret" not in repr(command)
    assert CreateConnection.build(**CONNECTION, policies=None) == CreateConnection.build(**CONNECTION)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "halo"}, "kind must be autotask"),
        ({"timezone": "Mars/Olympus"}, "timezone is not a known IANA time zone"),
        (
            {"policies": {"colour": "auto"}},
            "policies may name upgrade, legacy_suspend and reseller_change only",
        ),
        ({"policies": {"upgrade": "sometimes"}}, "policies.upgrade must be one of"),
        ({"username": "tab\there"}, "username must be 1 to 200 printable ASCII characters"),
        ({"secret": ""}, "secret must be 1 to 200 printable ASCII"),
        ({"integration_code": "é"}, "integration_code must be 1 to 200 printable ASCII"),
        ({"settle_seconds": 86_401}, "settle_seconds must be between 0 and 86400"),
        ({"settle_seconds": None}, "settle_seconds must be an integer"),  # null is not absent
        ({"base_url": "h" * 501}, "base_url must be a non-empty string of at most 500"),
        ({"reseller_id": ""}, "reseller_id must be a non-empty string"),
    ],
)
def test_a_connection_is_refused_naming_the_field(change: dict[str, Any], message: str) -> None:
    refused(CreateConnection.build, message, **{**CONNECTION, **change})


def test_new_credentials() -> None:
    assert UpdateCredentials.build(secret="new") == UpdateCredentials("new")
    assert UpdateCredentials.build(secret="new", username="u").username == "u"
    # Absent keeps the stored user name; null is refused.
    refused(UpdateCredentials.build, "username must be 1 to 200", secret="new", username=None)
    refused(UpdateCredentials.build, "integration_code must be 1 to 200", secret="new", integration_code=" ")
    refused(UpdateCredentials.build, "secret must be 1 to 200", secret="x" * 201)


def test_a_customer() -> None:
    from_json = CreateCustomer.build(
        id="c1", reseller_id="r1", name="Fabrikam", provider_margins={"microsoft": "20"}
    )
    typed = CreateCustomer.build(
        id="c1", reseller_id="r1", name="Fabrikam", provider_margins={"microsoft": Decimal("20")}
    )
    assert from_json == typed and from_json.provider_margins == {"microsoft": Decimal("20")}
    assert (
        CreateCustomer.build(id="c1", reseller_id="r1", name="F", provider_margins=None).provider_margins
        == {}
    )
    values = {"id": "c1", "reseller_id": "r1", "name": "F"}
    refused(CreateCustomer.build, "provider_margins must be an object", **values, provider_margins=["20"])
    refused(CreateCustomer.build, "provider_margins.microsoft must be between -100 and 1000",
            **values, provider_margins={"microsoft": "1001"})  # fmt: skip
    refused(CreateCustomer.build, "provider must be a non-empty string of at most 50",
            **values, provider_margins={"p" * 51: "1"})  # fmt: skip
    refused(
        CreateCustomer.build,
        "tenant_id must be a non-empty string of at most 100",
        **values,
        tenant_id="t" * 101,
    )


def test_customer_mappings() -> None:
    command = MapCustomer.build(customer_id="c1", connection_id="k1", company_id=42)
    assert command == MapCustomer("c1", "k1", 42)
    assert RemapCustomer.build(customer_id="c1", connection_id="k1", company_id=42) == RemapCustomer(
        "c1", "k1", 42
    )
    for build in (MapCustomer.build, RemapCustomer.build):
        refused(build, f"company_id must be between 1 and {MAX_PSA_ID}", customer_id="c1", connection_id="k1",
                company_id=MAX_PSA_ID + 1)  # fmt: skip
        refused(build, "company_id must be an integer", customer_id="c1", connection_id="k1", company_id="42")
        refused(
            build, "customer_id must be a non-empty string", customer_id="", connection_id="k1", company_id=1
        )
        refused(
            build, "connection_id must be a non-empty string", customer_id="c1", connection_id=7, company_id=1
        )


def test_a_subscription_mapping() -> None:
    values = {"subscription_id": "s1", "connection_id": "k1", "contract_id": 5, "service_id": 6}
    assert MapSubscription.build(**values) == MapSubscription("s1", "k1", 5, 6)
    assert MapSubscription.build(**values, contract_service_id=7).contract_service_id == 7
    refused(
        MapSubscription.build, "contract_service_id must be between 1 and", **values, contract_service_id=0
    )
    refused(MapSubscription.build, "service_id must be an integer", **{**values, "service_id": True})
    refused(MapSubscription.build, "subscription_id must not contain control characters",
            **{**values, "subscription_id": "s\x00"})  # fmt: skip


def test_a_sweep() -> None:
    assert Sweep.build(date="2026-03-01") == Sweep(date(2026, 3, 1)) == Sweep.build(date=date(2026, 3, 1))
    assert Sweep.build(date="2026-03-01", preview=True, connection_id="k1") == Sweep(
        date(2026, 3, 1), True, "k1"
    )
    refused(Sweep.build, "preview must be true or false", date="2026-03-01", preview=None)
    refused(Sweep.build, "date must be a date", date="yesterday")


def test_a_token() -> None:
    assert IssueToken.build(name="ci") == IssueToken("ci")
    assert IssueToken.build(name="ci", reseller_id="r1", expires_in_days=30) == IssueToken("ci", "r1", 30)
    refused(IssueToken.build, "expires_in_days must be between 1 and 3650", name="ci", expires_in_days=3651)
    refused(IssueToken.build, "reseller_id must be a non-empty string", name="ci", reseller_id="")
    refused(IssueToken.build, "name: must be text", name=5)
