"""The Partner Center outbound allow-list: Microsoft's hosts over https; others only when listed."""

from __future__ import annotations

import pytest

from contractsync.adapters.autotask.outbound import OutboundPolicy
from contractsync.adapters.partner_center.outbound import OutboundRefused, check_outbound

LISTED = OutboundPolicy.from_setting(" 127.0.0.1:8766 , sandbox.local ")


@pytest.mark.parametrize(
    "url",
    [
        "https://api.partnercenter.microsoft.com/v1/customers",
        "https://login.microsoftonline.com/tenant/oauth2/v2.0/token",
        "https://127.0.0.1:8766/tenant",
        "http://127.0.0.1:8766/v1/customers",
        "http://sandbox.local:9999/v1",
    ],
)
def test_allowed(url: str) -> None:
    assert check_outbound(url, LISTED) == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://api.partnercenter.microsoft.com/v1", "https only"),
        ("https://api.partnercenter.microsoft.com:8443/v1", "https only"),
        ("https://evil.example/v1", "CONTRACTSYNC_PSA_ALLOWED_HOSTS"),
        ("https://127.0.0.1:8767/v1", "not a Microsoft"),
        ("https://api.partnercenter.microsoft.com.evil.example/v1", "not a Microsoft"),
        ("ftp://api.partnercenter.microsoft.com/", "not an http(s) URL"),
        ("https://user:pw@api.partnercenter.microsoft.com/", "credentials in the URL"),
    ],
)
def test_refused(url: str, reason: str) -> None:
    with pytest.raises(OutboundRefused, match=reason.replace("(", r"\(").replace(")", r"\)")):
        check_outbound(url, LISTED)
