"""A Partner Center source's commands: the same from API.md JSON and from typed values, the
price list read once, refused naming the field; a change names what it changes."""

from __future__ import annotations

from typing import Any

import pytest

from contractsync.domain.operations import InvalidInput
from contractsync.domain.partner_center_commands import (
    CreatePartnerCenterSource,
    UpdatePartnerCenterSource,
    read_price_list,
)

SOURCE: dict[str, Any] = {
    "id": "pc1", "reseller_id": "r1", "tenant_id": "tenant-1", "application_id": "app-1",
    "secret": "app-secret", "refresh_token": "refresh-1",
}  # fmt: skip


def test_a_new_source_takes_the_defaults_and_reads_its_price_list() -> None:
    command = CreatePartnerCenterSource.build(**SOURCE, price_list={"cfq7ttc0lf8s:0001": "10.5"})
    assert command.poll_minutes == 15 and command.authority_host is None and command.api_root is None
    assert command.price_list == {"CFQ7TTC0LF8S:0001": "10.5000"}
    assert "app-secret" not in repr(command) and "refresh-1" not in repr(command)
    # An empty endpoint is the default one, as in the JSON form.
    assert (
        CreatePartnerCenterSource.build(**SOURCE, authority_host="", price_list=None).authority_host is None
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"poll_minutes": 0}, "poll_minutes must be between 1 and 1440"),
        ({"secret": "s" * 2001}, "secret must be a non-empty string of at most 2000"),
        ({"refresh_token": ""}, "refresh_token must be a non-empty string of at most 10000"),
        ({"api_root": "h" * 301}, "api_root must be a non-empty string of at most 300"),
        ({"webhook_url": "h" * 501}, "webhook_url must be a non-empty string of at most 500"),
        ({"price_list": ["x"]}, "price_list must be an object of offer id"),
        ({"price_list": {"o1": "-1"}}, r"price_list.o1 must be between 0 and 1000000"),
        ({"price_list": {"": "1"}}, "price_list key must be a non-empty string"),
        ({"tenant_id": "t\n"}, "tenant_id must not contain control characters"),
    ],
)
def test_a_new_source_is_refused_naming_the_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        CreatePartnerCenterSource.build(**{**SOURCE, **change})


def test_a_change_names_only_what_it_changes() -> None:
    command = UpdatePartnerCenterSource.build(poll_minutes=60)
    assert command.changes == {"poll_minutes"} and command.poll_minutes == 60 and command.price_list is None
    # A null webhook URL removes it; an absent one keeps it.
    cleared = UpdatePartnerCenterSource.build(webhook_url=None)
    assert cleared.changes == {"webhook_url"} and cleared.webhook_url is None
    assert UpdatePartnerCenterSource.build(price_list={}).price_list == {}
    with pytest.raises(InvalidInput, match="secret must be a non-empty string"):
        UpdatePartnerCenterSource.build(secret=None)
    with pytest.raises(InvalidInput, match="poll_minutes must be an integer"):
        UpdatePartnerCenterSource.build(poll_minutes="15")


def test_a_price_list_holds_at_most_ten_thousand_offers() -> None:
    assert len(read_price_list({f"o{i}": "1" for i in range(10_000)})) == 10_000
    with pytest.raises(InvalidInput, match="price_list holds at most 10000 offers"):
        read_price_list({f"o{i}": "1" for i in range(10_001)})
