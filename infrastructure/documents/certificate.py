"""The server's document-signing certificate: an ECDSA P-256 key and a self-signed X.509.

Receipts and checkpoints are signed with the server's Ed25519 key, which PDF readers do not
understand; a PDF signature (PAdES) needs an X.509 certificate whose algorithm every common
reader validates. So the server has a second key for documents, made on first need and kept in
``$SEALTRAIL_HOME/keys`` with mode 0600:

- ``document-signing.pem``: the private key and the certificate, in one file, so that two
  processes making them at once can never pair one's key with the other's certificate (the
  file is linked into place whole, as the token secret is);
- ``document-signing.cert.pem``: the certificate alone, to hand to readers who want to trust it.

The certificate is self-signed: a reader trusts it by its SHA-256 fingerprint, which every
document prints on its cover. A site that has a certificate from an ICP-Brasil or other CA
replaces the file with its own key and certificate in the same form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID, ObjectIdentifier

from infrastructure.errors import ConfigurationError
from infrastructure.settings import Settings
from infrastructure.whole_files import create_once, replace_whole

KEY_AND_CERTIFICATE_FILE = "document-signing.pem"
CERTIFICATE_FILE = "document-signing.cert.pem"
VALIDITY = timedelta(days=3650)
DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
"""id-kp-documentSigning (RFC 9336)."""


@dataclass(frozen=True)
class DocumentSigner:
    """The key that signs PDFs and its certificate."""

    private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    certificate: x509.Certificate
    path: Path

    @property
    def fingerprint(self) -> str:
        """The certificate's SHA-256 fingerprint, as colon-separated hex."""
        digest = self.certificate.fingerprint(hashes.SHA256())
        return ":".join(f"{byte:02X}" for byte in digest)

    @property
    def subject(self) -> str:
        """The certificate's subject, RFC 4514."""
        return self.certificate.subject.rfc4514_string()

    @property
    def description(self) -> str:
        """One line naming the certificate, for a document's cover."""
        algorithm = (
            "ECDSA P-256"
            if isinstance(self.private_key, ec.EllipticCurvePrivateKey)
            else f"RSA-{self.private_key.key_size}"
        )
        return (
            f"{self.subject}; {algorithm}; serial {self.certificate.serial_number:x}; "
            f"valid {self.certificate.not_valid_before_utc:%Y-%m-%d} to "
            f"{self.certificate.not_valid_after_utc:%Y-%m-%d}; SHA-256 {self.fingerprint}"
        )

    def certificate_pem(self) -> bytes:
        """The certificate in PEM."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def document_signer(
    settings: Settings, *, name: str = "sealtrail document signing"
) -> DocumentSigner:
    """The server's document signer, made on first need.

    Raises:
        ConfigurationError: the file exists but does not hold a usable key and certificate.
    """
    path = settings.keys_dir / KEY_AND_CERTIFICATE_FILE
    if not path.exists():
        settings.ensure_directories()
        _create(path, name)
    signer = _load(path)
    public = settings.keys_dir / CERTIFICATE_FILE
    if not public.exists() or public.read_bytes() != signer.certificate_pem():
        replace_whole(public, signer.certificate_pem())
    return signer


def _create(path: Path, name: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sealtrail"),
        ]
    )
    now = datetime.now(UTC).replace(microsecond=0)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    content = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ) + certificate.public_bytes(serialization.Encoding.PEM)
    create_once(path, content)  # of processes making one at once, the first's is the one


def _load(path: Path) -> DocumentSigner:
    content = path.read_bytes()
    try:
        key = serialization.load_pem_private_key(content, password=None)
        certificate = x509.load_pem_x509_certificate(
            content[content.index(b"-----BEGIN CERTIFICATE-----") :]
        )
    except ValueError as error:
        raise ConfigurationError(
            "the document-signing file %(path)s is unreadable: %(error)s", path=path, error=error
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ConfigurationError("%(path)s holds neither an ECDSA nor an RSA key", path=path)
    if certificate.public_key() != key.public_key():
        raise ConfigurationError("%(path)s: the certificate is not the key's", path=path)
    return DocumentSigner(key, certificate, path)
