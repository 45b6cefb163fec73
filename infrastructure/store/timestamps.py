"""RFC 3161 time-stamps of sealed checkpoints: asked of the configured authority, kept, read.

When ``SEALTRAIL_TSA_URL`` is set, each checkpoint this store seals is sent (as the SHA-256 of
its signed note, :mod:`signatures.timestamps`) to that time-stamping authority once, right after
it is sealed, and the answer is checked against ``SEALTRAIL_TSA_CERTS`` and kept in the
append-only ``checkpoint_timestamps`` table. An authority that is down, slow (past
:data:`signatures.timestamps.STAMPING_TIMEOUT_SECONDS`) or answers badly never costs the
checkpoint: the checkpoint is already kept, and the failure is kept in its place
(``failure``) with the server's signed statement of it (``failure_statement``,
:mod:`signatures.stamp_failures`: a failure row written by hand in a token's place is then
named by ``verify``), logged and reported by ``verify`` as a note. That checkpoint is not asked
about again: a token obtained later would vouch for a later time than the sealing and weaken the
time bound of the events after it (docs/timestamps.md); the next checkpoint sealed is stamped
instead.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Column, Engine, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from infrastructure.errors import ConfigurationError
from infrastructure.store.instants import utc
from infrastructure.store.merkle_log import checkpoint_timestamps
from signatures.errors import VerificationError
from signatures.stamp_failures import failure_line, sign_stamp_failure, stamp_failure
from signatures.timestamps import (
    STAMPING_TIMEOUT_SECONDS,
    StampAttempt,
    check_timestamp,
    timestamp_request,
)

MAX_ANSWER_BYTES = 1 << 20
"""An RFC 3161 answer is a few kilobytes; an authority that sends more is not read further."""
QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"

log = logging.getLogger(__name__)


class TimestampingFailed(Exception):
    """The authority could not be reached, or its answer is not a good token over the note."""


def trusted_certificates(path: Path) -> list[x509.Certificate]:
    """The certificates in a PEM file (``SEALTRAIL_TSA_CERTS``).

    Raises:
        ConfigurationError: the file cannot be read or holds no PEM certificate.
    """
    try:
        certificates = x509.load_pem_x509_certificates(path.read_bytes())
    except OSError as error:
        raise ConfigurationError(
            "SEALTRAIL_TSA_CERTS: cannot read %(path)s: %(strerror)s",
            path=path,
            strerror=error.strerror,
        ) from None
    except ValueError:
        raise ConfigurationError(
            "SEALTRAIL_TSA_CERTS: %(path)s holds no PEM certificate", path=path
        ) from None
    return certificates


class TimeStampingAuthority:
    """An RFC 3161 authority over HTTP (RFC 3161 section 3.4): one POST per checkpoint."""

    def __init__(self, url: str, trusted: list[x509.Certificate]) -> None:
        self.url = url
        self.trusted = trusted

    def stamp(self, note: str) -> bytes:
        """The authority's DER answer over ``note``, checked as ``verify`` will check it.

        Raises:
            TimestampingFailed: unreachable, an HTTP error, or an answer that does not hold.
        """
        request_bytes, nonce = timestamp_request(note)
        request = urllib.request.Request(  # noqa: S310 - the URL is checked to be http(s)
            self.url, data=request_bytes, headers={"Content-Type": QUERY_TYPE}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=STAMPING_TIMEOUT_SECONDS) as reply:  # noqa: S310
                answer = bytes(reply.read(MAX_ANSWER_BYTES + 1))
        except urllib.error.HTTPError as error:
            raise TimestampingFailed(f"{self.url} answered HTTP {error.code}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise TimestampingFailed(f"{self.url} could not be reached: {reason}") from None
        if len(answer) > MAX_ANSWER_BYTES:
            raise TimestampingFailed(f"{self.url} answered more than {MAX_ANSWER_BYTES} bytes")
        try:
            check_timestamp(answer, note, self.trusted, nonce=nonce)
        except VerificationError as error:
            raise TimestampingFailed(f"{self.url}: {error.kind}: {error}") from None
        return answer


class CheckpointStamper:
    """Stamps sealed checkpoints and keeps each answer or failure."""

    def __init__(self, engine: Engine, authority: TimeStampingAuthority) -> None:
        self.engine = engine
        self.authority = authority

    def stamp(
        self, tree_size: int, note: str, *, server_key: Ed25519PrivateKey, origin: str
    ) -> StampAttempt:
        """Ask the authority once for the checkpoint of ``tree_size`` whose signed note is
        ``note`` and keep what came of it; never raises for the authority's sake (the
        checkpoint is already kept). A failure is kept with its statement signed by
        ``server_key`` under ``origin``, as the checkpoint was."""
        requested_at = datetime.now(UTC)
        response: bytes | None = None
        failure: str | None = None
        statement: str | None = None
        try:
            response = self.authority.stamp(note)
        except TimestampingFailed as error:
            # One line: as the signed statement says it, so that the row reads the same.
            failure = failure_line(str(error))
            log.warning("checkpoint of size %d not time-stamped: %s", tree_size, failure)
            said = stamp_failure(origin, tree_size, note, requested_at, failure)
            statement = sign_stamp_failure(server_key, origin, said)
        stored = StampAttempt(tree_size, requested_at, response, failure, statement)
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(checkpoint_timestamps).values(
                        tree_size=tree_size,
                        requested_at=requested_at,
                        response=response,
                        failure=failure,
                        failure_statement=statement,
                    )
                )
        except IntegrityError:
            # Another process stamped this size first: one attempt per checkpoint.
            existing = timestamp_of(self.engine, tree_size)
            assert existing is not None
            return existing
        return stored


def stamper_from(
    engine: Engine, url: str | None, certificates: Path | None
) -> CheckpointStamper | None:
    """The stamper the settings ask for, or None when no authority is configured.

    Raises:
        ConfigurationError: the trusted certificates cannot be read.
    """
    if url is None or certificates is None:
        return None
    return CheckpointStamper(engine, TimeStampingAuthority(url, trusted_certificates(certificates)))


def timestamp_of(engine: Engine, tree_size: int) -> StampAttempt | None:
    """The attempt to stamp the checkpoint of this size, if one was made."""
    with engine.connect() as connection:
        row = connection.execute(
            select(checkpoint_timestamps).where(checkpoint_timestamps.c.tree_size == tree_size)
        ).one_or_none()
    return None if row is None else _stored(row)


def timestamps_up_to(
    engine: Engine, newest: int | None, smallest: int = 0
) -> dict[int, StampAttempt]:
    """Every attempt for checkpoints of ``smallest`` to ``newest`` leaves, by tree size (none in
    a store made before checkpoints were time-stamped, read where it cannot create the table; no
    failure statements in one made before failures were signed, read where it cannot add the
    column: :func:`infrastructure.store.merkle_log.add_columns`)."""
    if newest is None:
        return {}
    with engine.connect() as connection:
        inspector = inspect(connection)
        if not inspector.has_table(checkpoint_timestamps.name):
            return {}
        present = {column["name"] for column in inspector.get_columns(checkpoint_timestamps.name)}
        columns: list[Column[object]] = [
            column for column in checkpoint_timestamps.c if column.name in present
        ]
        rows = connection.execute(
            select(*columns).where(
                checkpoint_timestamps.c.tree_size >= smallest,
                checkpoint_timestamps.c.tree_size <= newest,
            )
        ).all()
    return {int(row.tree_size): _stored(row) for row in rows}


def _stored(row: object) -> StampAttempt:
    requested_at = utc(row.requested_at)  # type: ignore[attr-defined]
    response = row.response  # type: ignore[attr-defined]
    return StampAttempt(
        int(row.tree_size),  # type: ignore[attr-defined]
        requested_at,
        None if response is None else bytes(response),
        row.failure,  # type: ignore[attr-defined]
        getattr(row, "failure_statement", None),
    )
