"""The certificate a Partner Center webhook event is signed with, checked as Microsoft's "Partner
Center webhooks" page documents (steps 2 to 4 of "How to authenticate the callback": download the
certificate named by `x-ms-certificate-url`, verify the certificate chain, verify the certificate's
"Organization"; events are "signed with a certificate that chains to the Microsoft Root"):
https://learn.microsoft.com/partner-center/developer/partner-center-webhooks#how-to-authenticate-the-callback

- **Where from**: https on Microsoft's storage host (`3psostorageacct.blob.core.windows.net`, the
  host of the certificate URL in Microsoft's sample event), or exactly one of the URLs listed in
  CONTRACTSYNC_PARTNER_CENTER_WEBHOOK_CERTIFICATES (a sandbox's): contractsync never downloads from
  a host the sender chose.
- **Chain**: path validation by `cryptography.x509.verification` (the WebPKI rules for the issuing
  CAs), at the injected clock's time, to a root in CONTRACTSYNC_PARTNER_CENTER_WEBHOOK_TRUST_FILE
  (PEM; default: certifi's Mozilla bundle, which holds Microsoft's and DigiCert's roots). The URL
  serves the signing certificate alone, so its issuing CAs are fetched from the Authority
  Information Access (caIssuers) URLs the certificates name, as the Windows chain engine behind
  Microsoft's sample does: at most 4, each at most 64 KiB, no redirects. A fetched CA proves
  nothing by itself; only a valid path to a trusted root counts.
- **Organisation**: the signing certificate's subject O must be
  CONTRACTSYNC_PARTNER_CENTER_WEBHOOK_ORGANIZATION (default `Microsoft Corporation`).
- **Validity**: the signing certificate must be valid now (an expired one is named as such).

Revocation (CRL / OCSP) is not checked: `cryptography`'s verifier does not do it.
"""

from __future__ import annotations

import ssl
import threading
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import certifi
import httpx
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    Policy,
    PolicyBuilder,
    Store,
    VerificationError,
)

MICROSOFT_CERTIFICATE_HOST = "3psostorageacct.blob.core.windows.net"
MICROSOFT_ORGANIZATION = "Microsoft Corporation"
MAX_ISSUERS = 4
MAX_BYTES = 64 * 1024
TIMEOUT_SECONDS = 10.0


class SignatureRefused(ValueError):
    """The event is not proven to come from Partner Center; the reason says why."""


@dataclass(frozen=True)
class SigningCertificate:
    certificate: x509.Certificate
    #: issuing CAs fetched through Authority Information Access (untrusted until a path is found)
    issuers: tuple[x509.Certificate, ...] = ()


@dataclass
class CertificateTrust:
    #: exact certificate URLs trusted besides Microsoft's host (CONTRACTSYNC_PARTNER_CENTER_WEBHOOK_CERTIFICATES)
    certificate_urls: tuple[str, ...] = ()
    #: PEM roots the signing certificate must chain to (None: certifi's bundle)
    trust_file: str | None = None
    organization: str = MICROSOFT_ORGANIZATION
    #: extra TLS certificate authorities for downloading (CONTRACTSYNC_PARTNER_CENTER_CA_FILE)
    ca_file: str | None = None
    _store: tuple[Store, frozenset[x509.Name]] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def check_location(self, url: str) -> None:
        """Refuse a certificate URL this installation does not trust, before downloading anything."""
        if url in self.certificate_urls:
            return
        parts = urlsplit(url)
        if (
            parts.scheme == "https"
            and (parts.hostname or "").lower() == MICROSOFT_CERTIFICATE_HOST
            and parts.port in (None, 443)
            and not parts.username
            and not parts.password
        ):
            return
        raise SignatureRefused(
            f"certificate URL host {parts.hostname or url!r} is not one contractsync trusts "
            f"({MICROSOFT_CERTIFICATE_HOST}, or a URL in CONTRACTSYNC_PARTNER_CENTER_WEBHOOK_CERTIFICATES)"
        )

    def download(self, url: str) -> SigningCertificate:
        """The signing certificate at `url` (a trusted location) and its issuing CAs."""
        self.check_location(url)
        try:
            certificate = _certificate(self._get(url))
        except (httpx.HTTPError, ValueError) as error:
            raise SignatureRefused(
                f"the signing certificate cannot be downloaded from {url}: {error}"
            ) from None
        return SigningCertificate(certificate, self._issuers(certificate))

    def check(self, signing: SigningCertificate, now: datetime) -> None:
        """Valid now, a path to a trusted root, the expected organisation; SignatureRefused if not."""
        certificate = signing.certificate
        moment = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
        if moment > certificate.not_valid_after_utc:
            raise SignatureRefused(
                f"the signing certificate expired on {certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
            )
        if moment < certificate.not_valid_before_utc:
            raise SignatureRefused(
                f"the signing certificate is not valid before {certificate.not_valid_before_utc:%Y-%m-%d %H:%M} UTC"
            )
        store, _ = self._trusted()
        verifier = (
            PolicyBuilder()
            .store(store)
            .time(moment)
            .max_chain_depth(MAX_ISSUERS)
            .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=_SIGNING_POLICY)
            .build_client_verifier()
        )
        try:
            verifier.verify(certificate, list(signing.issuers))
        except VerificationError as error:
            raise SignatureRefused(
                f"the signing certificate does not chain to a trusted root ({_subject(certificate)}): {error}"
            ) from None
        organizations = [
            str(a.value) for a in certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        ]
        if self.organization not in organizations:
            raise SignatureRefused(
                f"the signing certificate's organisation is {', '.join(organizations) or 'missing'}, "
                f"not {self.organization}"
            )

    # --- internals -----------------------------------------------------------------------------
    def _trusted(self) -> tuple[Store, frozenset[x509.Name]]:
        with self._lock:
            if self._store is None:
                path = self.trust_file or certifi.where()
                try:
                    with warnings.catch_warnings():
                        # A root or two in Mozilla's bundle has a serial RFC 5280 disallows; still a root.
                        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
                        roots = x509.load_pem_x509_certificates(Path(path).read_bytes())
                    store = Store(roots)
                except (OSError, ValueError) as error:
                    raise SignatureRefused(f"the webhook trust file {path} cannot be read: {error}") from None
                self._store = (store, frozenset(root.subject for root in roots))
            return self._store

    def _issuers(self, certificate: x509.Certificate) -> tuple[x509.Certificate, ...]:
        """Follow caIssuers from `certificate` up to a trusted root's name (or a dead end)."""
        _, root_names = self._trusted()
        issuers: list[x509.Certificate] = []
        current = certificate
        while len(issuers) < MAX_ISSUERS and current.issuer != current.subject:
            if current.issuer in root_names:
                break
            fetched = None
            for url in _ca_issuer_urls(current):
                try:
                    fetched = _certificate(self._get(url))
                    break
                except (httpx.HTTPError, ValueError):
                    continue
            if fetched is None or fetched in issuers:
                break
            issuers.append(fetched)
            current = fetched
        return tuple(issuers)

    def _get(self, url: str) -> bytes:
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=self.ca_file) if self.ca_file else True
        )
        with httpx.stream(
            "GET", url, verify=verify, timeout=TIMEOUT_SECONDS, follow_redirects=False
        ) as answer:
            answer.raise_for_status()
            content = b""
            for chunk in answer.iter_bytes():
                content += chunk
                if len(content) > MAX_BYTES:
                    raise ValueError(f"more than {MAX_BYTES} bytes")
        return content


def _key_usage_signs(policy: Policy, certificate: x509.Certificate, usage: x509.KeyUsage | None) -> None:
    if usage is not None and not usage.digital_signature:
        raise ValueError("the signing certificate's key usage does not allow digital signatures")


#: The signing certificate is not a TLS server or client certificate: no name or EKU is required of
#: it; a key usage, when present, must allow signatures.
_SIGNING_POLICY = ExtensionPolicy.permit_all().may_be_present(
    x509.KeyUsage, Criticality.AGNOSTIC, _key_usage_signs
)


def _certificate(raw: bytes) -> x509.Certificate:
    """DER or PEM (the first certificate), or a PKCS #7 bundle's first certificate."""
    loaders = (
        x509.load_der_x509_certificate,
        x509.load_pem_x509_certificate,
        lambda data: pkcs7.load_der_pkcs7_certificates(data)[0],
        lambda data: pkcs7.load_pem_pkcs7_certificates(data)[0],
    )
    for load in loaders:
        try:
            return load(raw)
        except (ValueError, IndexError):
            continue
    raise ValueError("not a certificate (DER, PEM or PKCS #7)")


def _ca_issuer_urls(certificate: x509.Certificate) -> list[str]:
    try:
        access = certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return []
    return [
        str(description.access_location.value)
        for description in access
        if description.access_method == AuthorityInformationAccessOID.CA_ISSUERS
        and isinstance(description.access_location, x509.UniformResourceIdentifier)
        and urlsplit(str(description.access_location.value)).scheme in ("http", "https")
    ]


def _subject(certificate: x509.Certificate) -> str:
    return certificate.subject.rfc4514_string()
