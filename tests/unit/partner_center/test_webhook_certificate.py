"""Where a webhook signing certificate may be downloaded from, and the checks made of it (no
network: locations are refused before anything is sent; chains are built from local certificates)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from contractsync.adapters.partner_center.webhook_certificate import (
    CertificateTrust,
    SignatureRefused,
    SigningCertificate,
)
from contractsync.partner_center_sandbox.keys import ORGANIZATION, make_sandbox_authority

SANDBOX_URL = "https://127.0.0.1:8766/sandbox/webhook-certificate.cer"
TRUST = CertificateTrust(certificate_urls=(SANDBOX_URL,))


@pytest.mark.parametrize(
    "url",
    [
        "https://3psostorageacct.blob.core.windows.net/cert/pcnotifications-dispatch.microsoft.com.cer",
        "https://3PSOSTORAGEACCT.blob.core.windows.net:443/cert/renewed.cer",
        SANDBOX_URL,
    ],
)
def test_trusted_locations(url: str) -> None:
    TRUST.check_location(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://3psostorageacct.blob.core.windows.net/cert/pcnotifications-dispatch.microsoft.com.cer",
        "https://3psostorageacct.blob.core.windows.net:8443/cert/x.cer",
        "https://user@3psostorageacct.blob.core.windows.net/cert/x.cer",
        "https://evil.blob.core.windows.net/cert/x.cer",
        "https://127.0.0.1:8766/sandbox/other.cer",
        "file:///etc/passwd",
    ],
)
def test_untrusted_locations_are_refused(url: str) -> None:
    with pytest.raises(SignatureRefused, match="is not one contractsync trusts"):
        TRUST.check_location(url)


def test_a_chain_to_the_configured_root_with_the_organisation_is_accepted(tmp_path: Path) -> None:
    authority = make_sandbox_authority()
    roots = tmp_path / "roots.pem"
    roots.write_bytes(authority.root.certificate_pem)
    trust = CertificateTrust(trust_file=str(roots), organization=ORGANIZATION)
    signer = authority.issue("https://127.0.0.1/issuer.cer")
    now = datetime.now(UTC)
    trust.check(SigningCertificate(signer.certificate, (authority.intermediate.certificate,)), now)
    # Without its issuing CA there is no path; with certifi's roots there is no trusted root.
    with pytest.raises(SignatureRefused, match="does not chain to a trusted root"):
        trust.check(SigningCertificate(signer.certificate), now)
    default = CertificateTrust(organization=ORGANIZATION)
    with pytest.raises(SignatureRefused, match="does not chain to a trusted root"):
        default.check(SigningCertificate(signer.certificate, (authority.intermediate.certificate,)), now)
    # Microsoft's organisation is the default.
    microsoft = CertificateTrust(trust_file=str(roots))
    with pytest.raises(
        SignatureRefused, match="organisation is Partner Center Sandbox, not Microsoft Corporation"
    ):
        microsoft.check(SigningCertificate(signer.certificate, (authority.intermediate.certificate,)), now)
    later = signer.certificate.not_valid_after_utc + timedelta(seconds=1)
    with pytest.raises(SignatureRefused, match="expired on"):
        trust.check(SigningCertificate(signer.certificate, (authority.intermediate.certificate,)), later)


def test_an_unreadable_trust_file_is_named() -> None:
    trust = CertificateTrust(trust_file="/nonexistent/roots.pem")
    authority = make_sandbox_authority()
    with pytest.raises(SignatureRefused, match=r"/nonexistent/roots\.pem cannot be read"):
        trust.check(SigningCertificate(authority.issue("https://x/i.cer").certificate), datetime.now(UTC))


def test_a_trust_file_without_certificates_is_named(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pem"
    empty.write_text("no certificates here\n")
    trust = CertificateTrust(trust_file=str(empty))
    with pytest.raises(SignatureRefused, match=r"empty\.pem cannot be read"):
        trust.check(
            SigningCertificate(make_sandbox_authority().issue("https://x/i.cer").certificate),
            datetime.now(UTC),
        )
