"""Passwords: hashed with Argon2id (argon2-cffi), kept apart from the log.

A password hash is a secret, not a record: it must be replaceable and must never be handed to
an auditor in a packet, so it lives in its own table, never in an event.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, select

from domain.errors import DomainError

metadata = MetaData()

credentials = Table(
    "credentials",
    metadata,
    Column("user_id", String(100), primary_key=True),
    Column("password_hash", String(200), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

MINIMUM_LENGTH = 12


class AuthenticationFailed(DomainError):
    """Wrong user id or password; deliberately not saying which (answered 401)."""

    title = "Authentication failed"


class PasswordRejected(DomainError):
    """A new password does not meet the password rules (answered 422)."""

    title = "Password rejected"


class CredentialStore:
    """Argon2id password hashes per user id."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.hasher = PasswordHasher()
        metadata.create_all(engine)
        self._decoy: str | None = None

    def set_password(self, user_id: str, password: str) -> None:
        """Set or replace a user's password."""
        if len(password) < MINIMUM_LENGTH:
            raise PasswordRejected(f"a password has at least {MINIMUM_LENGTH} characters")
        row = {
            "password_hash": self.hasher.hash(password),
            "changed_at": datetime.now(UTC),
        }
        with self.engine.begin() as connection:
            updated = connection.execute(
                credentials.update().where(credentials.c.user_id == user_id).values(**row)
            )
            if updated.rowcount == 0:
                connection.execute(credentials.insert().values(user_id=user_id, **row))

    def authenticate(self, user_id: str, password: str) -> None:
        """Check a password.

        Raises:
            AuthenticationFailed: unknown user or wrong password.
        """
        with self.engine.connect() as connection:
            stored = connection.execute(
                select(credentials.c.password_hash).where(credentials.c.user_id == user_id)
            ).scalar_one_or_none()
        try:
            self.hasher.verify(stored or self._decoy_hash(), password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            raise AuthenticationFailed("wrong user id or password") from None
        if stored is None:
            raise AuthenticationFailed("wrong user id or password")

    def _decoy_hash(self) -> str:
        # Spend the same work on an unknown user as on a known one (no user enumeration); made
        # on first need, not each time a command opens the store.
        if self._decoy is None:
            self._decoy = self.hasher.hash(secrets.token_urlsafe(16))
        return self._decoy


def one_time_password() -> str:
    """A random password to hand to a new user once."""
    return secrets.token_urlsafe(15)
