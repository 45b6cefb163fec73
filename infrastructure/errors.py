"""Errors of the store and its services, said in the store's language.

Each says what went wrong (an account that exists, a retry key used for another body, a
session that ended, a packet the log cannot give); the ways in decide what a caller sees of it
(``api/http/problems.py`` maps each to an HTTP status, the console to an exit status). Errors of
the trial's rules, accounts and permissions are the domain's (``domain/errors.py``), errors of
signatures, keys and proofs are ``signatures/errors.py``, refused exports ``projections/errors.py``.
"""

from __future__ import annotations

from domain.errors import DomainError, NotPermitted, SubjectNotFound
from signatures.errors import VerificationError, WordedError

# -- configuration and storage ---------------------------------------------------------------


class ConfigurationError(WordedError):
    """A setting is missing or malformed, or disagrees with the store it opens."""


class StoreUnavailable(WordedError):
    """The database cannot be reached or opened."""


class StoreNotInitialised(WordedError):
    """The store has no server key yet: run ``sealtrail init``."""


class ViewNotVerified(WordedError):
    """A stored view row whose seal does not hold: changed outside sealtrail, served to no one."""

    title = "View not verified"


class ProofNotAvailable(DomainError):
    """A proof was asked of sizes or positions the log does not have."""

    title = "Proof not available"


# -- records ------------------------------------------------------------------------------------


class UnsignedEventRefused(VerificationError):
    """Something that is not a signed event was handed to the store."""

    kind = "unsigned"


class IdempotencyKeyReused(DomainError):
    """A retry key was sent again with a different signed body."""

    title = "Idempotency-Key reused with a different request"


class SigningCeremonyRequired(DomainError):
    """A signature over records sent as an ordinary event: it is made through the signing
    ceremony, ``POST /v1/signatures`` with the password re-entered."""

    title = "Signing ceremony required"


class SubjectNotYetRecorded(SubjectNotFound):
    """The subject has records, but none at or before the time or position asked."""

    title = "Subject not recorded yet"


# -- accounts -----------------------------------------------------------------------------------


class AccountExists(DomainError):
    """User ids are unique and never reused (21 CFR 11.100(a), 11.300(a))."""

    title = "Account exists"


class AccountNotFound(DomainError):
    """No account with this user id."""

    title = "Account not found"


class AdministrationMalformed(DomainError):
    """A request of account events that cannot be one atomic change."""

    title = "Account change malformed"


class KeyIdMismatch(DomainError):
    """A signed key event whose key id is not that of its public key, or whose public key is
    not written as base64 of the raw 32 bytes."""

    title = "Key id does not match the key"


# -- authentication (21 CFR 11.300) ---------------------------------------------------------------


class AuthenticationFailed(DomainError):
    """Wrong user id or password, or no valid session; not saying which."""

    title = "Authentication failed"


class AccountLockedOut(AuthenticationFailed):
    """The password was right, but the account is locked."""

    title = "Account locked"


class SessionExpired(AuthenticationFailed):
    """The session ended: logged out, or inactive for longer than the timeout."""

    title = "Session expired"


class SigningComponentsRequired(AuthenticationFailed):
    """The first signing of a continuous session needs the user id as well as the password."""

    title = "User id and password required"


class PasswordExpired(AuthenticationFailed):
    """The password is right but too old, or a one-time password: change it first."""

    title = "Password change required"


class PasswordRejected(DomainError):
    """A new password does not meet the password rules."""

    title = "Password rejected"


# -- packets ------------------------------------------------------------------------------------
#
# Verification never raises these at its caller: each becomes a finding naming the file or the
# event. Building raises them when a packet cannot honestly be made.


class PacketMalformed(DomainError):
    """A packet's file or line cannot be read as what it must be."""

    title = "Packet malformed"


class PacketNotBuildable(DomainError):
    """The store cannot give a packet that would verify.

    The log disagrees with its own checkpoint, or the log is empty: ``sealtrail verify`` says
    where.
    """

    title = "Packet cannot be built"


class PacketBuildNotFound(DomainError):
    """No packet build has this id (one asked for by someone else is
    :class:`PacketBuildNotYours`)."""

    title = "Packet build not found"


class PacketBuildNotYours(NotPermitted):
    """A packet build asked for by someone else: only who asked for it may read or fetch it."""

    title = "Not permitted"


class PacketBuildUnderWay(DomainError):
    """The person already has a packet being built: one at a time each, so that one person
    cannot keep every server worker drawing PDFs."""

    title = "Packet build under way"


class PacketBuildFailed(DomainError):
    """A packet asked for in the background was not built (its refusal, an error, or the
    server process that built it stopped), or its finished file no longer holds it."""

    title = "Packet build failed"


class PacketSignerInvalid(DomainError):
    """The key offered to sign a packet's manifest is not that of a sponsor whose key is in
    force."""

    title = "Packet signer not accepted"
