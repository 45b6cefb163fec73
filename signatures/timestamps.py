"""RFC 3161 time-stamps over checkpoints: what is stamped, the request, and the offline check.

A checkpoint is stamped over its **signed note as the store keeps it**: the checkpoint's note
text, the blank line and the server's signature line, encoded in UTF-8, hashed with SHA-256 (the
message imprint of the request). Stamping the signed note rather than the tree head alone says
that this very signed statement of the log existed at the stamped time: a note signed later with
the same key (a rewritten history) has other signature bytes and another hash.

The check is offline (rfc3161-client, no network): the token must be a granted answer, over
that hash, signed by a certificate that chains to one the verifier trusts and that was valid at
the stamped time. Each way it can fail is its own error (:mod:`signatures.errors`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from cryptography import x509
from rfc3161_client import (
    Accuracy,
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    TimeStampResponse,
    VerifierBuilder,
    decode_timestamp_response,
)
from rfc3161_client import VerificationError as TokenRefused

from signatures.checkpoint import Checkpoint
from signatures.errors import (
    TimestampMalformed,
    TimestampNotOverCheckpoint,
    TimestampOutsideCertificateValidity,
    TimestampUntrusted,
)

SHA256 = x509.ObjectIdentifier("2.16.840.1.101.3.4.2.1")
STAMPING_TIMEOUT_SECONDS = 5
"""How long sealing waits for the authority: also the slack a verifier allows an event recorded
while the checkpoint before it was being stamped (docs/timestamps.md)."""
STAMPED_EXTENSION = "rfc3161-timestamped"
"""The extension line (c2sp.org/tlog-checkpoint) of a checkpoint sealed by a server that has it
time-stamped: signed with the note, so that whoever holds the database and not the server's key
cannot make its token, or the failure kept in its place, disappear unnoticed (docs/signing.md)."""


def announces_stamp(checkpoint: Checkpoint) -> bool:
    """Whether the checkpoint's signed text says the server had it time-stamped when it sealed
    it (an attempt, a token or a failure, must then be kept for it)."""
    return STAMPED_EXTENSION in checkpoint.extensions


@dataclass(frozen=True)
class StampAttempt:
    """The one attempt made to time-stamp a checkpoint: the answer, or why there is none."""

    tree_size: int
    requested_at: datetime
    response: bytes | None
    failure: str | None
    failure_statement: str | None = None
    """The server's signed statement of the failure (:mod:`signatures.stamp_failures`), kept
    with it: none with a token, nor with a failure kept before failures were signed."""


@dataclass(frozen=True)
class StampedTime:
    """What a token that holds vouches for: the note existed at ``time`` (give or take
    ``accuracy``), said by ``authority`` (its certificate's subject)."""

    time: datetime
    accuracy: timedelta
    authority: str

    @property
    def earliest(self) -> datetime:
        """The earliest instant the token's time may stand for."""
        return self.time - self.accuracy

    @property
    def latest(self) -> datetime:
        """The latest instant the token's time may stand for."""
        return self.time + self.accuracy


def stamped_bytes(note: str) -> bytes:
    """The bytes a checkpoint's token is over: its signed note as stored, in UTF-8."""
    return note.encode("utf-8")


def timestamp_request(note: str) -> tuple[bytes, int]:
    """The DER TimeStampReq for a checkpoint's signed note, and its nonce: SHA-256, a random
    nonce, certReq true (the answer carries the TSA's certificate, so a packet's token checks on
    its own)."""
    request = (
        TimestampRequestBuilder()
        .data(stamped_bytes(note))
        .hash_algorithm(HashAlgorithm.SHA256)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    nonce = request.nonce
    assert nonce is not None  # asked for above
    return request.as_bytes(), nonce


def check_timestamp(
    response: bytes,
    note: str,
    trusted: Sequence[x509.Certificate],
    *,
    nonce: int | None = None,
) -> StampedTime:
    """Check a stored RFC 3161 answer over a checkpoint's signed note, offline (and, given the
    request's ``nonce``, that it answers that request: when it is received).

    Raises:
        TimestampMalformed: not a DER TimeStampResp, not granted, not SHA-256, or another
            request's answer.
        TimestampNotOverCheckpoint: its message imprint is not the hash of ``note``.
        TimestampOutsideCertificateValidity: its time lies outside its signer's certificate's
            validity (a TSA whose certificate had expired, or was not yet valid).
        TimestampUntrusted: no certificate to check it by, or its signature does not verify up to
            a certificate in ``trusted``.
    """
    token = _decode(response)
    imprint = token.tst_info.message_imprint
    if imprint.hash_algorithm != SHA256:
        raise TimestampMalformed(
            "the token's hash is %(algorithm)s, not SHA-256",
            algorithm=imprint.hash_algorithm.dotted_string,
        )
    if imprint.message != hashlib.sha256(stamped_bytes(note)).digest():
        raise TimestampNotOverCheckpoint(
            "the token is over other bytes than this checkpoint's signed note"
        )
    if nonce is not None and token.tst_info.nonce != nonce:
        raise TimestampMalformed("the answer's nonce is not the request's")
    signer = _signing_certificate(token)
    time = _aware(token.tst_info.gen_time)
    if not signer.not_valid_before_utc <= time <= signer.not_valid_after_utc:
        raise TimestampOutsideCertificateValidity(
            "the token says %(time)s; its certificate (%(signer)s) is "
            "valid from %(valid_from)s to %(valid_to)s",
            time=time.isoformat(),
            signer=signer.subject.rfc4514_string(),
            valid_from=signer.not_valid_before_utc.isoformat(),
            valid_to=signer.not_valid_after_utc.isoformat(),
        )
    if not trusted:
        raise TimestampUntrusted("no time-stamping authority's certificate is trusted")
    builder = VerifierBuilder()
    for certificate in trusted:
        builder = builder.add_root_certificate(certificate)
    try:
        builder.build().verify(token, imprint.message)
    except TokenRefused as error:
        raise TimestampUntrusted(
            "the token by %(signer)s does not verify up to a trusted "
            "time-stamping authority: %(error)s",
            signer=signer.subject.rfc4514_string(),
            error=error,
        ) from None
    return StampedTime(time, _accuracy(token), signer.subject.rfc4514_string())


def stamped_time(response: bytes) -> datetime:
    """The time a stored answer says, unchecked: for display beside a checked one only.

    Raises:
        TimestampMalformed: not a granted DER TimeStampResp.
    """
    return _aware(_decode(response).tst_info.gen_time)


def _decode(response: bytes) -> TimeStampResponse:
    try:
        token = decode_timestamp_response(response)
    except ValueError as error:
        raise TimestampMalformed(
            "not an RFC 3161 time-stamp response: %(error)s", error=error
        ) from None
    if PKIStatus(token.status) not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise TimestampMalformed(
            "the authority did not grant the stamp (status %(status)s)", status=token.status
        )
    return token


def _signing_certificate(token: TimeStampResponse) -> x509.Certificate:
    """The certificate the token's one SignerInfo names (issuer and serial number)."""
    signer_infos = list(token.signed_data.signer_infos)
    if len(signer_infos) != 1:
        raise TimestampUntrusted(
            "the token has %(count)s signers, not one", count=len(signer_infos)
        )
    (signer,) = signer_infos
    for der in token.signed_data.certificates:
        certificate = x509.load_der_x509_certificate(der)
        if (certificate.issuer, certificate.serial_number) == (signer.issuer, signer.serial_number):
            return certificate
    raise TimestampUntrusted("the token carries no certificate of its signer")


def _accuracy(token: TimeStampResponse) -> timedelta:
    # The library's type says always; a token without the optional field gives None.
    accuracy = cast("Accuracy | None", token.tst_info.accuracy)
    if accuracy is None:
        return timedelta(0)
    return timedelta(
        seconds=accuracy.seconds or 0,
        milliseconds=accuracy.millis or 0,
        microseconds=accuracy.micros or 0,
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
