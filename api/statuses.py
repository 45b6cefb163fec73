"""The HTTP status each typed error of the domain, signatures or store answers: one table for
every way in that answers over HTTP (the API renders it as problem+json, :mod:`api.http.problems`;
the pages as an HTML page, :mod:`api.web.errors`), so both say the same of the same error.
"""

from __future__ import annotations

from domain.errors import (
    AccountRuleViolated,
    DomainError,
    KeyNotRegistered,
    NotPermitted,
    ProtocolViolation,
    RecordsClosed,
    SubjectAlreadyScreened,
    SubjectNotFound,
    VersionConflict,
)
from infrastructure.errors import (
    AccountExists,
    AccountNotFound,
    AuthenticationFailed,
    ConfigurationError,
    IdempotencyKeyReused,
    PacketBuildFailed,
    PacketBuildNotFound,
    PacketBuildUnderWay,
    PacketNotBuildable,
    PacketSignerInvalid,
    PasswordExpired,
    PasswordRejected,
    ProofNotAvailable,
    StoreNotInitialised,
    StoreUnavailable,
    ViewNotVerified,
)
from signatures.errors import VerificationError

STATUS_OF: tuple[tuple[type[Exception], int], ...] = (
    # Authenticated by the right password, but it opens nothing until it is changed.
    (PasswordExpired, 403),
    (AuthenticationFailed, 401),
    (NotPermitted, 403),
    (SubjectNotFound, 404),
    (ProofNotAvailable, 404),
    (AccountNotFound, 404),
    (KeyNotRegistered, 404),
    (SubjectAlreadyScreened, 409),
    # The subject's records are frozen or locked: the write waits for an unlock.
    (RecordsClosed, 409),
    (PacketNotBuildable, 409),
    (PacketBuildNotFound, 404),
    # One build at a time per person; a failed one is asked for again.
    (PacketBuildUnderWay, 409),
    (PacketBuildFailed, 409),
    (PacketSignerInvalid, 403),
    (VersionConflict, 409),
    (AccountExists, 409),
    (AccountRuleViolated, 409),
    (IdempotencyKeyReused, 422),
    (PasswordRejected, 422),
    (ProtocolViolation, 422),
    (VerificationError, 422),
    (DomainError, 422),
    # A stored view that fails its seal was changed in the database: served to no one.
    (ViewNotVerified, 503),
    (StoreUnavailable, 503),
    (StoreNotInitialised, 503),
    # The server's settings disagree with its store (a log origin of another store).
    (ConfigurationError, 503),
)


def status_of(error: Exception) -> int | None:
    """The status ``error`` answers, or None for an error of no family above (a bug: 500)."""
    for family, status in STATUS_OF:
        if isinstance(error, family):
            return status
    return None
