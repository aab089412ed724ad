"""Checking a Partner Center webhook's signature, following "Partner Center webhooks" ("How to
authenticate the callback"): the `Authorization` (scheme `Signature`, or `x-ms-signature` when the
registration asks for it), `x-ms-certificate-url` and `x-ms-signature-algorithm` headers must be
present; the certificate at that URL is downloaded; its organisation is checked; the body's bytes
must verify against the base64 signature with RSA and the named hash (rsa-sha256).

The certificate URL must be one this installation trusts (Microsoft's documented URL, plus any
listed in CONTRACTSYNC_PARTNER_CENTER_WEBHOOK_CERTIFICATES, e.g. a sandbox's): contractsync never
downloads a certificate from a URL the sender chose. Pinning the URL stands in for the documented
chain check to the Microsoft Root, which needs Microsoft's root bundle (not verified here).
"""

from __future__ import annotations

import base64
import binascii
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from contractsync.ports.partner_center_api import SignatureRefused

#: The certificate URL in Microsoft's sample event.
MICROSOFT_CERTIFICATE_URLS = (
    "https://3psostorageacct.blob.core.windows.net/cert/pcnotifications-dispatch.microsoft.com.cer",
)
MICROSOFT_ORGANIZATION = "Microsoft Corporation"
REFETCH_SECONDS = 600
ALGORITHMS: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "rsa-sha256": hashes.SHA256,
    "rsa-sha384": hashes.SHA384,
    "rsa-sha512": hashes.SHA512,
}


@dataclass
class WebhookVerifier:
    #: trusted besides Microsoft's (CONTRACTSYNC_PARTNER_CENTER_WEBHOOK_CERTIFICATES)
    certificate_urls: tuple[str, ...] = ()
    #: CONTRACTSYNC_PARTNER_CENTER_CA_FILE, for downloading the certificates
    ca_file: str | None = None
    _certificates: dict[str, x509.Certificate] = field(default_factory=dict)
    _fetched: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def verify(self, headers: Mapping[str, str], body: bytes, now: datetime | None = None) -> None:
        lowered = {key.lower(): value for key, value in headers.items()}
        signature_header = lowered.get("x-ms-signature") or lowered.get("authorization")
        url = lowered.get("x-ms-certificate-url")
        algorithm = (lowered.get("x-ms-signature-algorithm") or "").lower()
        if not signature_header or not url or not algorithm:
            raise SignatureRefused(
                "Authorization (Signature), x-ms-certificate-url and x-ms-signature-algorithm are required"
            )
        scheme, _, value = signature_header.partition(" ")
        encoded = value.strip() if scheme.lower() == "signature" else signature_header.strip()
        try:
            signature = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise SignatureRefused("the signature is not base64") from None
        if algorithm not in ALGORITHMS:
            raise SignatureRefused(f"signature algorithm {algorithm!r} is not supported")
        try:
            self._check(self._certificate(url), url, signature, body, algorithm, now)
        except SignatureRefused:
            # Partner Center renews its certificate at the same URL: one fresh download, then refuse.
            # At most every 10 minutes, so forged events cannot make contractsync download in a loop.
            with self._lock:
                fetched = self._fetched.get(url, 0.0)
                if time.monotonic() - fetched < REFETCH_SECONDS or self._certificates.pop(url, None) is None:
                    raise
            self._check(self._certificate(url), url, signature, body, algorithm, now)

    def _check(
        self,
        certificate: x509.Certificate,
        url: str,
        signature: bytes,
        body: bytes,
        algorithm: str,
        now: datetime | None,
    ) -> None:
        moment = now or datetime.now(UTC)
        if not certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc:
            raise SignatureRefused("the signing certificate is not valid now")
        if url in MICROSOFT_CERTIFICATE_URLS:
            organizations = [
                a.value for a in certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
            ]
            if MICROSOFT_ORGANIZATION not in organizations:
                raise SignatureRefused("the signing certificate is not Microsoft's")
        key = certificate.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise SignatureRefused("the signing certificate has no RSA key")
        try:
            key.verify(signature, body, padding.PKCS1v15(), ALGORITHMS[algorithm]())
        except InvalidSignature:
            raise SignatureRefused("the signature does not match the body") from None

    def _certificate(self, url: str) -> x509.Certificate:
        if url not in MICROSOFT_CERTIFICATE_URLS + self.certificate_urls:
            raise SignatureRefused(f"certificate URL {url} is not one contractsync trusts")
        with self._lock:
            if url in self._certificates:
                return self._certificates[url]
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=self.ca_file) if self.ca_file else True
        )
        try:
            raw = httpx.get(url, verify=verify, timeout=15).raise_for_status().content
        except httpx.HTTPError as error:
            raise SignatureRefused(f"the signing certificate cannot be downloaded: {error}") from None
        try:
            certificate = x509.load_der_x509_certificate(raw)
        except ValueError:
            try:
                certificate = x509.load_pem_x509_certificate(raw)
            except ValueError:
                raise SignatureRefused("the signing certificate cannot be read") from None
        with self._lock:
            self._certificates[url] = certificate
            self._fetched[url] = time.monotonic()
        return certificate
