"""Passwords and sessions: what identity needs beside the log.

A password hash is a secret, not a record: it must be replaceable and must never be handed to
an auditor in a packet, so it lives in its own table, never in an event (the event log records
*that* a password changed, :class:`domain.account.Account.PasswordChanged`). Sessions carry the
last activity that the inactivity timeout is measured from. The authentication attempts are
events of the log itself (:mod:`domain.authentication`).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import Parameters, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.profiles import RFC_9106_LOW_MEMORY
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    select,
)

from domain.account import is_user_id
from infrastructure.errors import PasswordRejected
from infrastructure.identity.common_passwords import is_common
from infrastructure.store.backends import PreparedQuery
from infrastructure.store.instants import utc

metadata = MetaData()

credentials = Table(
    "credentials",
    metadata,
    Column("user_id", String(100), primary_key=True),
    Column("password_hash", String(200), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    # A one-time password set by an administrator opens nothing but its own change.
    Column("temporary", Boolean, nullable=False, default=False),
)

password_history = Table(
    "password_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(100), nullable=False, index=True),
    Column("password_hash", String(200), nullable=False),
    Column("retired_at", DateTime(timezone=True), nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("session_id", String(64), primary_key=True),
    Column("user_id", String(100), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("signed_at", DateTime(timezone=True), nullable=True),
    Column("ended_at", DateTime(timezone=True), nullable=True),
)

# The language a person reads the pages in: a preference, not a record (nothing is decided in
# it), so it is kept beside the sessions rather than in the log.
languages = Table(
    "languages",
    metadata,
    Column("user_id", String(100), primary_key=True),
    Column("language", String(16), nullable=False),
)

MINIMUM_LENGTH = 12
MAXIMUM_LENGTH = 200
MINIMUM_DISTINCT_CHARACTERS = 5
REMEMBERED_PASSWORDS = 5
MINIMUM_USER_ID_IN_PASSWORD = 3
"""A new password may not be any of the last five (the current one included)."""


@dataclass(frozen=True)
class StoredPassword:
    """What the credential table holds for one user, the hash aside."""

    changed_at: datetime
    temporary: bool


@dataclass(frozen=True)
class Session:
    """A continuous period of access: from a token request to logout or inactivity."""

    session_id: str
    user_id: str
    started_at: datetime
    last_seen_at: datetime
    signed_at: datetime | None
    ended_at: datetime | None


def check_password_rules(user_id: str, password: str) -> None:
    """The password rules (21 CFR 11.300(a), NIST SP 800-63B: length over composition).

    Raises:
        PasswordRejected: too short or long, too few distinct characters, the user id in it,
            or a common password (:mod:`infrastructure.identity.common_passwords`).
    """
    if not MINIMUM_LENGTH <= len(password) <= MAXIMUM_LENGTH:
        raise PasswordRejected(
            "a password has %(minimum_length)s to %(maximum_length)s characters, not %(count)s",
            minimum_length=MINIMUM_LENGTH,
            maximum_length=MAXIMUM_LENGTH,
            count=len(password),
        )
    if len(set(password)) < MINIMUM_DISTINCT_CHARACTERS:
        raise PasswordRejected(
            "a password has at least %(minimum_distinct_characters)s different characters",
            minimum_distinct_characters=MINIMUM_DISTINCT_CHARACTERS,
        )
    if len(user_id) >= MINIMUM_USER_ID_IN_PASSWORD and user_id.lower() in password.lower():
        raise PasswordRejected("a password does not contain the user id")
    if is_common(password):
        raise PasswordRejected(
            "a password is not a common password, nor one padded with digits or punctuation "
            "(sealtrail refuses the 19,640 passwords most often found in leaks)"
        )


class CredentialStore:
    """Argon2id password hashes, the authentication log and sessions, in the store's database."""

    def __init__(self, engine: Engine, hashing: Parameters = RFC_9106_LOW_MEMORY) -> None:
        self.engine = engine
        self.hasher = PasswordHasher.from_parameters(hashing)
        metadata.create_all(engine)
        self._decoy: str | None = None
        self._session_by_id = PreparedQuery(
            engine, select(*sessions.c).where(sessions.c.session_id == bindparam("session_id"))
        )

    # -- passwords ------------------------------------------------------------------------------

    def set_password(
        self,
        user_id: str,
        password: str,
        *,
        at: datetime | None = None,
        temporary: bool = False,
    ) -> None:
        """Set or replace a user's password, keeping the retired hash for the reuse rule.

        Every session of the user ends with the old password, in the same transaction, as on
        a lock: whoever held a token opened with the old one (perhaps the very person the
        change or an administrator's reset is meant to shut out) must authenticate again.

        Raises:
            PasswordRejected: it breaks a rule, or is one of the last few passwords.
        """
        check_password_rules(user_id, password)
        if self._recently_used(user_id, password):
            raise PasswordRejected(
                "a password is not one of the last %(remembered_passwords)s of the account",
                remembered_passwords=REMEMBERED_PASSWORDS,
            )
        at = at or datetime.now(UTC)
        row = {
            "password_hash": self.hasher.hash(password),
            "changed_at": at,
            "temporary": temporary,
        }
        with self.engine.begin() as connection:
            connection.execute(
                sessions.update()
                .where(sessions.c.user_id == user_id, sessions.c.ended_at.is_(None))
                .values(ended_at=at)
            )
            current = connection.execute(
                select(credentials.c.password_hash).where(credentials.c.user_id == user_id)
            ).scalar_one_or_none()
            if current is None:
                connection.execute(credentials.insert().values(user_id=user_id, **row))
                return
            connection.execute(
                password_history.insert().values(
                    user_id=user_id, password_hash=current, retired_at=at
                )
            )
            connection.execute(
                credentials.update().where(credentials.c.user_id == user_id).values(**row)
            )

    def check_password(self, user_id: str, password: str) -> StoredPassword | None:
        """The stored password's facts if ``password`` is the user's, None otherwise.

        An unknown user costs the same Argon2 work as a known one (no user enumeration).
        """
        stored = None
        if is_user_id(user_id):  # no other name has a row, and PostgreSQL cannot hold a NUL
            with self.engine.connect() as connection:
                stored = connection.execute(
                    select(
                        credentials.c.password_hash,
                        credentials.c.changed_at,
                        credentials.c.temporary,
                    ).where(credentials.c.user_id == user_id)
                ).one_or_none()
        if not self._verifies(stored.password_hash if stored else self._decoy_hash(), password):
            return None
        if stored is None:
            return None
        return StoredPassword(utc(stored.changed_at), bool(stored.temporary))

    def stored_password(self, user_id: str) -> StoredPassword | None:
        """When the user's password was set and whether it is one-time (None without one)."""
        with self.engine.connect() as connection:
            stored = connection.execute(
                select(credentials.c.changed_at, credentials.c.temporary).where(
                    credentials.c.user_id == user_id
                )
            ).one_or_none()
        if stored is None:
            return None
        return StoredPassword(utc(stored.changed_at), bool(stored.temporary))

    def _recently_used(self, user_id: str, password: str) -> bool:
        with self.engine.connect() as connection:
            current = connection.execute(
                select(credentials.c.password_hash).where(credentials.c.user_id == user_id)
            ).scalars()
            retired = connection.execute(
                select(password_history.c.password_hash)
                .where(password_history.c.user_id == user_id)
                .order_by(password_history.c.id.desc())
                .limit(REMEMBERED_PASSWORDS - 1)
            ).scalars()
            hashes = [*current, *retired]
        return any(self._verifies(stored, password) for stored in hashes)

    def _verifies(self, stored: str, password: str) -> bool:
        try:
            # As bytes: a lone surrogate typed in a password has no UTF-8 form of its own, but
            # it is still a (wrong) password, not an error.
            return bool(self.hasher.verify(stored, password.encode("utf-8", "surrogatepass")))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _decoy_hash(self) -> str:
        # Made on first need, not each time a command opens the store.
        if self._decoy is None:
            self._decoy = self.hasher.hash(secrets.token_urlsafe(16))
        return self._decoy

    # -- sessions -------------------------------------------------------------------------------

    def open_session(self, user_id: str, at: datetime) -> str:
        """Start a session; returns its id (random, 128 bits)."""
        session_id = uuid.uuid4().hex
        with self.engine.begin() as connection:
            connection.execute(
                sessions.insert().values(
                    session_id=session_id, user_id=user_id, started_at=at, last_seen_at=at
                )
            )
        return session_id

    def session(self, session_id: str) -> Session | None:
        """A session by id (read on every authenticated request: a prepared query)."""
        row = self._session_by_id.first(session_id=session_id)
        if row is None:
            return None
        session_id, user_id, started_at, last_seen_at, signed_at, ended_at = row
        return Session(
            session_id,
            user_id,
            utc(started_at),
            utc(last_seen_at),
            None if signed_at is None else utc(signed_at),
            None if ended_at is None else utc(ended_at),
        )

    def touch_session(self, session_id: str, at: datetime, *, signed: bool = False) -> None:
        """Record activity in a session (and, with ``signed``, a completed signing)."""
        values: dict[str, datetime] = {"last_seen_at": at}
        if signed:
            values["signed_at"] = at
        with self.engine.begin() as connection:
            connection.execute(
                sessions.update().where(sessions.c.session_id == session_id).values(**values)
            )

    def end_session(self, session_id: str, at: datetime) -> None:
        """End a session (logout or inactivity); it is never revived."""
        with self.engine.begin() as connection:
            connection.execute(
                sessions.update()
                .where(sessions.c.session_id == session_id, sessions.c.ended_at.is_(None))
                .values(ended_at=at)
            )

    # -- preferences ----------------------------------------------------------------------------

    def language(self, user_id: str) -> str | None:
        """The language ``user_id`` chose for the pages (a BCP 47 tag), or None."""
        with self.engine.connect() as connection:
            chosen = connection.execute(
                select(languages.c.language).where(languages.c.user_id == user_id)
            ).scalar()
        return None if chosen is None else str(chosen)

    def set_language(self, user_id: str, language: str) -> None:
        """Keep ``language`` as the one ``user_id`` reads the pages in."""
        with self.engine.begin() as connection:
            connection.execute(languages.delete().where(languages.c.user_id == user_id))
            connection.execute(languages.insert().values(user_id=user_id, language=language))


def one_time_password(user_id: str = "") -> str:
    """A random password (120 bits) to hand to a person once; it meets the password rules."""
    while True:
        password = secrets.token_urlsafe(15)
        try:
            check_password_rules(user_id, password)
        except PasswordRejected:  # a short user id can turn up by chance: draw again
            continue
        return password
