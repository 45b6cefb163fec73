"""PAdES signatures on the PDFs the store issues (pyHanko), and their validation.

A document is signed as PAdES B-B (ETSI EN 319 142-1: a CMS signature with the signing
certificate's hash as a signed attribute, ``/SubFilter /ETSI.CAdES.detached``) over the whole
file, so any PDF reader shows whether it was altered since. Signing is offline: no time-stamp
authority is asked (the checkpoint on the cover carries the log's own signed time).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from infrastructure.documents.certificate import DocumentSigner

FIELD_NAME = "sealtrail"


def sign_pdf(pdf: bytes, signer: DocumentSigner, *, reason: str, location: str) -> bytes:
    """The PDF with a PAdES signature over all of it, by the document signer."""
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
    output = io.BytesIO()
    signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf)), metadata, signer=cms_signer, output=output
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

    @property
    def ok(self) -> bool:
        """Signed, unaltered, over the whole file, by the trusted certificate."""
        return self.signed and self.intact and self.trusted and self.covers_whole_file


def check_pdf_signature(pdf: bytes, signer: DocumentSigner) -> PdfSignatureCheck:
    """Validate the document's signature against the document signer's certificate.

    A file too damaged to read as a PDF is reported as not signed, never raised.
    """
    certificate = _asn1_certificate(signer)
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = reader.embedded_signatures
        if not embedded:
            return PdfSignatureCheck(False, False, False, False, "")
        status = validate_pdf_signature(
            embedded[-1], ValidationContext(trust_roots=[certificate], allow_fetching=False)
        )
    except (PdfError, ValueError, KeyError) as error:
        return PdfSignatureCheck(False, False, False, False, str(error))
    return PdfSignatureCheck(
        signed=True,
        intact=bool(status.intact and status.valid),
        trusted=bool(status.trusted),
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer=status.signing_cert.subject.human_friendly,
    )


def _asn1_certificate(signer: DocumentSigner) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(signer.certificate.public_bytes(serialization.Encoding.DER))
