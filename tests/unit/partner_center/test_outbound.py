"""The Partner Center outbound allow-list: Microsoft's hosts over https; others only when listed."""

from __future__ import annotations

import pytest

from contractsync.adapters.autotask.outbound import OutboundPolicy
from contractsync.adapters.autotask.outbound import OutboundRefused as AutotaskRefused
from contractsync.adapters.partner_center.outbound import OutboundRefused, check_outbound

LISTED = OutboundPolicy.from_setting(" 127.0.0.1:8766 , sandbox.local ")


@pytest.mark.parametrize(
    "url",
    [
        "https://api.partnercenter.microsoft.com/v1/customers",
        "https://login.microsoftonline.com/tenant/oauth2/v2.0/token",
        "https://127.0.0.1:8766/tenant",
        "http://127.0.0.1:8766/v1/customers",
        "http://sandbox.local/v1",
        "https://sandbox.local/v1",
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
        ("http://sandbox.local:9999/v1", "not a Microsoft"),  # listed without a port: default only
        ("https://api.partnercenter.microsoft.com.evil.example/v1", "not a Microsoft"),
        ("ftp://api.partnercenter.microsoft.com/", "not an http(s) URL"),
        ("https://user:pw@api.partnercenter.microsoft.com/", "credentials in the URL"),
    ],
)
def test_refused(url: str, reason: str) -> None:
    with pytest.raises(OutboundRefused, match=reason.replace("(", r"\(").replace(")", r"\)")):
        check_outbound(url, LISTED)


# One meaning of a CONTRACTSYNC_PSA_ALLOWED_HOSTS entry for Autotask and Partner Center alike:
# `host:port` allows that port over http or https; `host` alone allows its scheme's default port only.
SAME_MEANING = [
    ("sandbox.local", "https://sandbox.local", True),
    ("sandbox.local", "https://sandbox.local:443", True),
    ("sandbox.local", "http://sandbox.local", True),
    ("sandbox.local", "https://sandbox.local:8443", False),
    ("sandbox.local", "http://sandbox.local:8080", False),
    ("sandbox.local", "http://sandbox.local:443", False),
    ("sandbox.local:8443", "https://sandbox.local:8443", True),
    ("sandbox.local:8443", "http://sandbox.local:8443", True),
    ("sandbox.local:8443", "https://sandbox.local", False),
    ("sandbox.local:443", "https://sandbox.local", True),
    ("other.local", "https://sandbox.local", False),
]


@pytest.mark.parametrize(("entry", "origin", "allowed"), SAME_MEANING)
def test_a_listed_host_means_the_same_for_autotask_and_partner_center(
    entry: str, origin: str, allowed: bool
) -> None:
    policy = OutboundPolicy.from_setting(entry)
    try:
        check_outbound(f"{origin}/v1/customers", policy)
        partner_center = True
    except OutboundRefused:
        partner_center = False
    try:
        policy.api_root(origin)
        autotask = True
    except AutotaskRefused:
        autotask = False
    assert (partner_center, autotask) == (allowed, allowed)
