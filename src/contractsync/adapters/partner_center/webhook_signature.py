"""Checking a Partner Center webhook's signature, step by step as Microsoft's "Partner Center
webhooks" page documents it ("How to authenticate the callback"):
https://learn.microsoft.com/partner-center/developer/partner-center-webhooks#how-to-authenticate-the-callback

1. the `Authorization` (scheme `Signature`; `x-ms-signature` when the registration set
   SignatureTokenToMsSignatureHeader), `x-ms-certificate-url` and `x-ms-signature-algorithm`
   headers must be present;
2. the certificate at `x-ms-certificate-url` is downloaded (only from a trusted location),
3. its chain verified to a trusted root and 4. its organisation checked (`webhook_certificate`);
5. to 7. the body's bytes, as received, must verify against the base64 signature with RSA (PKCS #1
   v1.5) and the named hash (`rsa-sha256`, the one Partner Center sends; sha384 / sha512 accepted).

Partner Center renews its certificate at the same URL: a certificate that fails is downloaded once
more, at most every 10 minutes, so forged events cannot make contractsync download in a loop.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from contractsync.adapters.partner_center.webhook_certificate import (
    MICROSOFT_ORGANIZATION,
    CertificateTrust,
    SignatureRefused,
    SigningCertificate,
)

__all__ = ["SignatureRefused", "WebhookVerifier"]

REFETCH_SECONDS = 600
ALGORITHMS: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "rsa-sha256": hashes.SHA256,
    "rsa-sha384": hashes.SHA384,
    "rsa-sha512": hashes.SHA512,
}


@dataclass
class WebhookVerifier:
    trust: CertificateTrust = field(default_factory=CertificateTrust)
    _certificates: dict[str, SigningCertificate] = field(default_factory=dict)
    _fetched: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def configured(
        cls,
        certificate_urls: tuple[str, ...] = (),
        trust_file: str | None = None,
        organization: str | None = None,
        ca_file: str | None = None,
    ) -> WebhookVerifier:
        """From the settings (`None`: Microsoft's defaults, certifi's roots)."""
        trust = CertificateTrust(
            certificate_urls, trust_file or None, organization or MICROSOFT_ORGANIZATION, ca_file or None
        )
        return cls(trust)

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
        self.trust.check_location(url)
        moment = now or datetime.now(UTC)
        try:
            self._check(self._certificate(url), signature, body, algorithm, moment)
        except SignatureRefused:
            with self._lock:
                fetched = self._fetched.get(url, 0.0)
                if time.monotonic() - fetched < REFETCH_SECONDS or self._certificates.pop(url, None) is None:
                    raise
            self._check(self._certificate(url), signature, body, algorithm, moment)

    def _check(
        self, signing: SigningCertificate, signature: bytes, body: bytes, algorithm: str, now: datetime
    ) -> None:
        self.trust.check(signing, now)
        key = signing.certificate.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise SignatureRefused("the signing certificate has no RSA key")
        try:
            key.verify(signature, body, padding.PKCS1v15(), ALGORITHMS[algorithm]())
        except InvalidSignature:
            raise SignatureRefused("the signature does not match the body") from None

    def _certificate(self, url: str) -> SigningCertificate:
        with self._lock:
            if url in self._certificates:
                return self._certificates[url]
        signing = self.trust.download(url)
        with self._lock:
            self._certificates[url] = signing
            self._fetched[url] = time.monotonic()
        return signing
