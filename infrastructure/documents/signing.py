"""PAdES signatures on the PDFs the store issues (pyHanko), and their validation.

A document is signed as PAdES (ETSI EN 319 142-1: a CMS signature with the signing
certificate's hash as a signed attribute, ``/SubFilter /ETSI.CAdES.detached``) over the whole
file, so any PDF reader shows whether it was altered since. With a time-stamping authority
(``SEALTRAIL_TSA_URL``) the signature carries that authority's RFC 3161 time-stamp over it
(a signature time-stamp, PAdES B-T); without one, or when the authority fails, it is B-B
(the checkpoint on the cover carries the log's own signed time).
"""

from __future__ import annotations

import asyncio
import io
import logging
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped]
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel, TimestampSignatureStatus
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from infrastructure.documents.certificate import DocumentSigner
from infrastructure.documents.renderings import Authentication
from projections.conep.bilingual import label
from signatures.timestamps import STAMPING_TIMEOUT_SECONDS

FIELD_NAME = "sealtrail"
log = logging.getLogger(__name__)


class AuthorityTimeStamper(TimeStamper):
    """pyHanko's time-stamp client over the standard library's HTTP (RFC 3161 section 3.4),
    with the store's timeout: pyHanko's own needs requests or aiohttp."""

    def __init__(self, url: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.url = url

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        """POST the request; the DER answer."""

        def post() -> tsp.TimeStampResp:
            request = urllib.request.Request(  # noqa: S310 - SEALTRAIL_TSA_URL is http(s)
                self.url,
                data=req.dump(),
                headers={"Content-Type": "application/timestamp-query"},
                method="POST",
            )
            try:
                with urllib.request.urlopen(  # noqa: S310
                    request, timeout=STAMPING_TIMEOUT_SECONDS
                ) as reply:
                    return tsp.TimeStampResp.load(reply.read())
            except (OSError, ValueError) as error:
                raise TimestampRequestError(f"{self.url}: {error}") from None

        return await asyncio.to_thread(post)


def sign_pdf(
    pdf: bytes,
    signer: DocumentSigner,
    *,
    reason: str,
    location: str,
    timestamp_url: str | None = None,
) -> bytes:
    """The PDF with a PAdES signature over all of it, by the document signer; time-stamped by
    the authority at ``timestamp_url`` (B-T) when given and it answers, else B-B."""
    certificate = _asn1_certificate(signer)
    key = asn1_keys.PrivateKeyInfo.load(
        signer.private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    registry = SimpleCertificateStore()  # type: ignore[no-untyped-call]
    registry.register(certificate)
    cms_signer = signers.SimpleSigner(
        signing_cert=certificate, signing_key=key, cert_registry=registry
    )
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
    )
    if timestamp_url is not None:
        try:
            return _signed(pdf, metadata, cms_signer, AuthorityTimeStamper(timestamp_url))
        except TimestampRequestError as error:
            log.warning("document signed without a time-stamp (PAdES B-B): %s", error)
    return _signed(pdf, metadata, cms_signer, None)


def _signed(
    pdf: bytes,
    metadata: signers.PdfSignatureMetadata,
    cms_signer: signers.Signer,
    timestamper: TimeStamper | None,
) -> bytes:
    output = io.BytesIO()
    signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf)),
        metadata,
        signer=cms_signer,
        timestamper=timestamper,
        output=output,
    )
    return output.getvalue()


@dataclass(frozen=True)
class PdfSignatureCheck:
    """What validating a document's signature found."""

    signed: bool
    intact: bool
    trusted: bool
    covers_whole_file: bool
    signer: str
    timestamped: bool = False
    """Its signature carries a time-stamp that is intact and chains to a trusted authority."""

    @property
    def ok(self) -> bool:
        """Signed, unaltered, over the whole file, by the trusted certificate."""
        return self.signed and self.intact and self.trusted and self.covers_whole_file


def check_pdf_signature(
    pdf: bytes, signer: DocumentSigner, authorities: Sequence[x509.Certificate] = ()
) -> PdfSignatureCheck:
    """Validate the document's signature against the document signer's certificate, and its
    signature time-stamp (if any) against the ``authorities`` trusted to sign time-stamps.

    A file too damaged to read as a PDF is reported as not signed, never raised.
    """
    certificate = _asn1_certificate(signer)
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = reader.embedded_signatures
        if not embedded:
            return PdfSignatureCheck(False, False, False, False, "")
        status = validate_pdf_signature(
            embedded[-1],
            ValidationContext(trust_roots=[certificate], allow_fetching=False),
            ts_validation_context=ValidationContext(
                trust_roots=[_asn1(authority) for authority in authorities],
                allow_fetching=False,
            ),
        )
    except (PdfError, ValueError, KeyError) as error:
        return PdfSignatureCheck(False, False, False, False, str(error))
    return PdfSignatureCheck(
        signed=True,
        intact=bool(status.intact and status.valid),
        trusted=bool(status.trusted),
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer=status.signing_cert.subject.human_friendly,
        timestamped=_timestamp_holds(status.timestamp_validity),
    )


def _timestamp_holds(validity: TimestampSignatureStatus | None) -> bool:
    return (
        validity is not None and bool(validity.intact and validity.valid) and bool(validity.trusted)
    )


def _asn1_certificate(signer: DocumentSigner) -> asn1_x509.Certificate:
    return _asn1(signer.certificate)


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def pades_authentication(signer: DocumentSigner) -> Authentication:
    """A signed PDF says which certificate signed it and how a reader trusts it."""
    return Authentication(
        footer_mark=f"{signer.fingerprint[:23]}…",
        fields=[
            (
                label("Assinatura do documento (PAdES)", "Document signature (PAdES)"),
                signer.description,
            ),
            (
                label("Certificado", "Certificate"),
                f"{signer.path.parent / 'document-signing.cert.pem'}: trust it by its "
                "SHA-256 fingerprint; any PDF reader then shows whether this file was "
                "altered.",
            ),
        ],
    )
