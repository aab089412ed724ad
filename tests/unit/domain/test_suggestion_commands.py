"""Accepted suggestions as commands: each choice read on its own (one that cannot be read keeps
its reason), the lists bounded with the REST API's messages."""

from __future__ import annotations

import pytest

from contractsync.domain.mapping_commands import MapCustomer, MapSubscription
from contractsync.domain.operations import InvalidInput
from contractsync.domain.suggestion_commands import (
    AcceptCustomerSuggestions,
    AcceptPartnerCenterSuggestions,
    AcceptSubscriptionSuggestions,
    Choice,
    check_choices,
    choose,
)

ITEM = {"subscription_id": "s1", "contract_id": 100, "service_id": 7}


def test_a_choice_holds_its_command_or_the_reason_it_cannot_be_read() -> None:
    read = choose(ITEM, MapSubscription.build, connection_id="k1", **ITEM)
    assert read == Choice(ITEM, MapSubscription("s1", "k1", 100, 7))
    wrong = {**ITEM, "service_id": True}
    refused = choose(wrong, MapSubscription.build, connection_id="k1", **wrong)
    assert refused == Choice(wrong, None, "service_id must be an integer; got True")


def test_the_lists_are_bounded_with_the_apis_messages() -> None:
    one = choose({"customer_id": "c1", "company_id": 5}, MapCustomer.build, connection_id="k1",
                 customer_id="c1", company_id=5)  # fmt: skip
    assert AcceptCustomerSuggestions.build(connection_id="k1", customers=[one]).customers == (one,)
    with pytest.raises(InvalidInput, match=r"^choose at most 2000 suggestions at a time$"):
        AcceptCustomerSuggestions.build(connection_id="k1", customers=[one] * 2001)
    line = choose(ITEM, MapSubscription.build, connection_id="k1", **ITEM)
    with pytest.raises(InvalidInput, match=r"^choose at most 5000 suggestions at a time$"):
        AcceptSubscriptionSuggestions.build(connection_id="k1", subscriptions=[line] * 5001)
    with pytest.raises(InvalidInput, match=r"^customers must be a list of at most 2000 objects$"):
        AcceptPartnerCenterSuggestions.build(connection_id="k1", customers=[one] * 2001)
    with pytest.raises(InvalidInput, match=r"^connection_id must be a non-empty string"):
        AcceptPartnerCenterSuggestions.build(connection_id="")
    assert AcceptPartnerCenterSuggestions.build(connection_id="k1") == AcceptPartnerCenterSuggestions("k1")


@pytest.mark.parametrize("items", [None, "s1", [1], [ITEM] * 11])
def test_choices_in_json_must_be_a_short_list_of_objects(items: object) -> None:
    with pytest.raises(InvalidInput, match=r"^too many$"):
        check_choices(items, 10, "too many")
