"""The sandbox's own certificates: one for TLS (MSAL only talks to https authorities), and a test
certificate authority (a root and an intermediate) that issues the certificate whose key signs
webhook events. Like Partner Center's, the signing certificate is published at the URL of
`X-MS-Certificate-Url` (`/sandbox/webhook-certificate.cer`) and chains to a root the receiver
trusts — here the test root (`pc-sandbox-webhook-ca.pem`), which only the demo and the tests trust,
by configuration. The intermediate is not sent: the signing certificate names where to get it
(Authority Information Access, `/sandbox/webhook-intermediate.cer`), as public CAs' certificates do.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

ORGANIZATION = "Partner Center Sandbox"
SIGNER_NAME = "pcnotifications-dispatch.sandbox"


@dataclass(frozen=True)
class KeyPair:
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def certificate_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def sign(self, content: bytes) -> bytes:
        """RSA with SHA-256 (PKCS #1 v1.5): `X-MS-Signature-Algorithm: rsa-sha256`."""
        return self.key.sign(content, padding.PKCS1v15(), hashes.SHA256())

    def write(self, folder: Path, name: str) -> tuple[Path, Path]:
        folder.mkdir(parents=True, exist_ok=True)
        cert, key = folder / f"{name}.pem", folder / f"{name}.key"
        cert.write_bytes(self.certificate_pem)
        key.touch(mode=0o600)
        key.write_bytes(self.key_pem)
        return cert, key


def make_key_pair(common_name: str, hosts: tuple[str, ...] = (), years: int = 1) -> KeyPair:
    """A self-signed certificate for `common_name`, with `hosts` as names (TLS), valid `years`
    either side of now."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
        ]
    )
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=365 * (years - 1), minutes=5))
        .not_valid_after(now + timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    )
    if hosts:
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return KeyPair(key, builder.sign(key, hashes.SHA256()))


def _name(common_name: str, organization: str = ORGANIZATION) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        ]
    )


def _ca_certificate(
    key: rsa.RSAPrivateKey, name: x509.Name, issuer: KeyPair | None, years: int
) -> x509.Certificate:
    now = datetime.now(UTC)
    signing_key = issuer.key if issuer is not None else key
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.certificate.subject if issuer is not None else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=365 * years))
        .not_valid_after(now + timedelta(days=365 * years))
        .add_extension(
            x509.BasicConstraints(ca=True, path_length=None if issuer is None else 0), critical=True
        )
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False
        )
        .sign(signing_key, hashes.SHA256())
    )


@dataclass(frozen=True)
class SandboxAuthority:
    """A root and an intermediate that issue webhook signing certificates."""

    root: KeyPair
    intermediate: KeyPair

    def issue(
        self,
        issuer_url: str,
        *,
        common_name: str = SIGNER_NAME,
        organization: str = ORGANIZATION,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> KeyPair:
        """A signing certificate from the intermediate; `issuer_url`: where the intermediate is
        published (its Authority Information Access). Valid ten years either side of now unless
        told (the tests' clocks run years back)."""
        now = datetime.now(UTC)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        issuer = self.intermediate
        certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name, organization))
            .issuer_name(issuer.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - timedelta(days=3650))
            .not_valid_after(not_after or now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.CA_ISSUERS,
                            x509.UniformResourceIdentifier(issuer_url),
                        )
                    ]
                ),
                critical=False,
            )
            .sign(issuer.key, hashes.SHA256())
        )
        return KeyPair(key, certificate)


def make_sandbox_authority(years: int = 20) -> SandboxAuthority:
    """A fresh test root and intermediate (each run makes its own keys: nothing to leak)."""
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = KeyPair(
        root_key, _ca_certificate(root_key, _name("Partner Center Sandbox Test Root CA"), None, years)
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    intermediate = KeyPair(
        key, _ca_certificate(key, _name("Partner Center Sandbox Test Signing CA"), root, years)
    )
    return SandboxAuthority(root, intermediate)
