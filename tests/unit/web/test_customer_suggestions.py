"""The close-name step of X4 customer suggestions."""

from __future__ import annotations

from contractsync.service.mapping_queries import _closest, _normal


def test_legal_forms_and_punctuation_do_not_count() -> None:
    assert _normal("Tailspin Toys Inc.") == _normal("tailspin toys") == "tailspin toys"


def test_one_close_name_is_suggested_a_tie_or_a_stranger_is_not() -> None:
    companies = {1: "Tailspin Toyz GmbH", 2: "Northwind Traders"}
    found = _closest("Tailspin Toys", companies)
    assert found is not None and found[0] == 1 and 0.85 <= found[1] < 1
    assert _closest("Adventure Works", companies) is None
    assert _closest("Contoso", {1: "Contoso Ltd", 2: "Contoso Inc"}) is None  # two equally close
