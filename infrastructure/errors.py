"""Errors of the store and its services, said in the store's language.

Each says what went wrong (an account that exists, a retry key used for another body, a
session that ended); the ways in decide what a caller sees of it (``api/problems.py`` maps
each to an HTTP status, the console to an exit status). Errors of the trial's rules are the
domain's (``domain/errors.py``), errors of signatures and proofs are ``signatures/errors.py``.
"""

from __future__ import annotations

from domain.errors import DomainError

# -- configuration and storage ---------------------------------------------------------------


class ConfigurationError(Exception):
    """A setting is missing or malformed, or disagrees with the store it opens."""


class StoreUnavailable(Exception):
    """The database cannot be reached or opened."""


class StoreNotInitialised(Exception):
    """The store has no server key yet: run ``sealtrail init``."""


# -- records ------------------------------------------------------------------------------------


class IdempotencyKeyReused(DomainError):
    """A retry key was sent again with a different signed body."""

    title = "Idempotency-Key reused with a different request"


class SigningCeremonyRequired(DomainError):
    """A signature over records sent as an ordinary event: it is made through the signing
    ceremony, ``POST /v1/signatures`` with the password re-entered."""

    title = "Signing ceremony required"


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
