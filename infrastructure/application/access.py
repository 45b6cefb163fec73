"""Authentication under the controls of 21 CFR 11.300, and the authentication half of the
signing ceremony of 11.200 (:meth:`Records.sign` is the ceremony).

One service answers "who is this?" for every channel (a token request, a console command, a
signing): it checks the password, records every success and failure in the authentication
log, locks the account after too many failures (a signed ``AccountLocked`` event, so
administrators see it at once), refuses an expired or one-time password, and keeps sessions
that end after a period of inactivity.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.account import SYSTEM_USER, Account, escaped_user_id, is_user_id
from domain.authentication import FAILED, REFUSED, SUCCEEDED, Attempt
from infrastructure.application.administration import Administration
from infrastructure.application.commands import LockAccount, RecordOwnPasswordChange
from infrastructure.application.policy import AccessPolicy
from infrastructure.application.sealtrail import SealTrail
from infrastructure.errors import (
    AccountLockedOut,
    AuthenticationFailed,
    PasswordExpired,
    SessionExpired,
    SigningComponentsRequired,
)
from infrastructure.identity.authentication_log import AuthenticationLogBook
from infrastructure.identity.credentials import CredentialStore, Session, StoredPassword

Clock = Callable[[], datetime]

WRONG_CREDENTIALS = "wrong user id or password"
FIRST_SIGNING = ("user_id", "password")
"""The components of the first signing of a continuous session (21 CFR 11.200(a)(1)(i))."""
LATER_SIGNING = ("password",)
"""The component of each later signing of the same session (11.200(a)(1)(ii))."""
TOUCH_INTERVAL = timedelta(seconds=1)
"""A session's activity is written at most this often (see :meth:`AccessControl.resume_session`)."""


@dataclass(frozen=True)
class SigningAuthentication:
    """Who passed the authentication half of a signing ceremony, with what, and when.

    ``components`` is :data:`FIRST_SIGNING` for the first signing of a continuous session and
    :data:`LATER_SIGNING` for a later one (21 CFR 11.200(a)(1)(i) and (ii)).
    """

    account: Account
    session_id: str
    components: tuple[str, ...]
    authenticated_at: datetime


class AccessControl:
    """Authentication, lockout, password ageing, sessions and a signing's authentication."""

    def __init__(
        self,
        administration: Administration,
        credentials: CredentialStore,
        policy: AccessPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.administration = administration
        self.app: SealTrail = administration.app
        self.credentials = credentials
        self.policy = policy or AccessPolicy()
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        self.log = AuthenticationLogBook(self.app)

    # -- passwords ------------------------------------------------------------------------------

    def authenticate(
        self, user_id: str, password: str, *, channel: str, allow_expired: bool = False
    ) -> Account:
        """Check a user id and password; every outcome goes into the authentication log.

        ``allow_expired`` is for the one request an expired password still opens: its change.

        Raises:
            AuthenticationFailed: unknown user or wrong password (the account is locked once
                the failures since the last success reach the policy's threshold).
            AccountLockedOut: a locked account, whatever the password: the same error for
                the right one and a wrong one, so a lock is no oracle for guessing on.
            PasswordExpired: right password, but older than the policy allows, or one-time.
        """
        # A name no account can have (a NUL, a lone surrogate) is looked up nowhere: PostgreSQL
        # cannot even hold it. The password is still hashed, so it takes the same time.
        account = self.app.find_account(user_id) if is_user_id(user_id) else None
        # The hash is checked even for a locked account: the same work, the same time taken.
        stored = self.credentials.check_password(user_id, password)
        if account is not None and account.user_id != SYSTEM_USER and account.locked:
            self._record(user_id, channel, REFUSED, "the account is locked")
            raise AccountLockedOut(
                "%(user_id)s is locked; an administrator must unlock it ('sealtrail user unlock')",
                user_id=user_id,
            )
        if account is None or account.user_id == SYSTEM_USER or stored is None:
            self._failed(user_id, account, channel, WRONG_CREDENTIALS)
        assert account is not None and stored is not None
        if not allow_expired:
            self._check_not_expired(user_id, stored, channel)
        self._record(user_id, channel, SUCCEEDED, "password accepted")
        return account

    def change_password(self, user_id: str, password: str, new_password: str) -> None:
        """A person changes their own password, proving the current (even expired) one.

        The server records ``PasswordChanged`` with the person as ``changed_by``.

        Raises:
            AuthenticationFailed, AccountLockedOut, PasswordRejected.
        """
        self.authenticate(user_id, password, channel="password", allow_expired=True)
        self.credentials.set_password(user_id, new_password, at=self.clock())
        self.administration.record_own_password_change(RecordOwnPasswordChange(user_id))

    def password_expires_at(self, user_id: str) -> datetime | None:
        """When the user's password stops opening anything (None without a password).

        A one-time password has expired the moment it was set: it opens only its own change.
        """
        stored = self.credentials.stored_password(user_id)
        if stored is None:
            return None
        if stored.temporary:
            return stored.changed_at
        return stored.changed_at + self.policy.password_max_age

    def attempts(self, user_id: str | None = None, limit: int = 100) -> Sequence[Attempt]:
        """The authentication log, newest first: of one user id as typed, or of everyone."""
        return self.log.attempts(user_id, limit)

    # -- sessions -------------------------------------------------------------------------------

    def open_session(self, account: Account) -> str:
        """Start a continuous period of access for an authenticated person."""
        return self.credentials.open_session(account.user_id, self.clock())

    def resume_session(self, session_id: str, user_id: str) -> Account:
        """The person of a live session, its inactivity clock restarted.

        The restart is written at most once per :attr:`touch_interval`: a session in steady
        use does not commit a write on every request.

        Raises:
            AuthenticationFailed: no account ``user_id``.
            SessionExpired: no such session, not this person's, ended, or inactive too long
                (then it is ended for good), or the account is locked meanwhile.
        """
        session, account = self._live(session_id, user_id)
        now = self.clock()
        if now - session.last_seen_at > self.policy.idle_timeout:
            self.credentials.end_session(session_id, now)
            self._record(user_id, "session", REFUSED, "session ended after inactivity")
            raise SessionExpired(
                "the session was inactive for more than %(minutes)s; authenticate again",
                minutes=_minutes(self.policy.idle_timeout),
            )
        # Recording activity is a committed write; a busy session records it at most once per
        # touch interval. The stored time then lags by less than the interval, so the
        # inactivity clock can only start early (the session ends a little sooner), never late.
        if now - session.last_seen_at >= self.touch_interval:
            self.credentials.touch_session(session_id, now)
        return account

    @property
    def touch_interval(self) -> timedelta:
        """How often a busy session's activity is written: 1 s, or 1 % of a shorter timeout."""
        return min(TOUCH_INTERVAL, self.policy.idle_timeout / 100)

    def end_session(self, session_id: str) -> None:
        """Log out: the session and every token of it stop working."""
        self.credentials.end_session(session_id, self.clock())

    # -- the signing ceremony -------------------------------------------------------------------

    def authenticate_signing(
        self, *, session_id: str, password: str, user_id: str | None = None
    ) -> SigningAuthentication:
        """The authentication half of a signing ceremony (21 CFR 11.200(a)(1)).

        The first signing of a continuous session needs both components, the user id and the
        password; later signings in the same session need the password only; after the
        inactivity timeout the session's continuity is broken and both are needed again.
        Every failure counts toward the lockout, as a failed login does.

        Raises:
            SigningComponentsRequired: both components are needed and the user id is missing.
            SessionExpired: no such session, or it was ended (logout, or a lapse noticed
                by a request).
            AuthenticationFailed: a wrong password, or a user id that is not the session's.
            AccountLockedOut, PasswordExpired: as for :meth:`authenticate`.
        """
        session = self._session_to_sign_in(session_id)
        now = self.clock()
        continuous = self._continuous(session, now)
        if not continuous and user_id is None:
            raise SigningComponentsRequired(
                "the first signing of a session, or the first after %(minutes)s of "
                "inactivity, needs your user id and password",
                minutes=_minutes(self.policy.idle_timeout),
            )
        if user_id is not None and user_id != session.user_id:
            # Someone else at this person's session: a failed attempt on the session's account.
            self._failed(
                session.user_id,
                self.app.find_account(session.user_id),
                "signing",
                f"the user id typed ({user_id[:40]!r}) is not the session's",
            )
        account = self.authenticate(session.user_id, password, channel="signing")
        self.credentials.touch_session(session_id, now, signed=True)
        components = LATER_SIGNING if continuous else FIRST_SIGNING
        return SigningAuthentication(account, session_id, components, now)

    def signing_components(self, session_id: str) -> tuple[str, ...]:
        """What the next signing in this session asks for, as :meth:`authenticate_signing`
        will: :data:`FIRST_SIGNING` for the first of a continuous session, :data:`LATER_SIGNING`
        after that. A page asks for the user id only when it is needed.

        Raises:
            SessionExpired: no such session, or it was ended.
        """
        session = self._session_to_sign_in(session_id)
        return LATER_SIGNING if self._continuous(session, self.clock()) else FIRST_SIGNING

    # -- inside -----------------------------------------------------------------------------------

    def _session_to_sign_in(self, session_id: str) -> Session:
        session = self.credentials.session(session_id)
        if session is None or session.ended_at is not None:
            raise SessionExpired("the session has ended; authenticate again")
        return session

    def _continuous(self, session: Session, now: datetime) -> bool:
        """A signing session goes on (11.200(a)(1)(ii)): this session signed before, and has
        not been inactive longer than the timeout since."""
        return (
            session.signed_at is not None and now - session.last_seen_at <= self.policy.idle_timeout
        )

    def _live(self, session_id: str, user_id: str) -> tuple[Session, Account]:
        # The account first: a token naming no account is not authenticated at all.
        account = self.app.find_account(user_id)
        if account is None:
            raise AuthenticationFailed("the token's account no longer exists")
        session = self.credentials.session(session_id)
        if session is None or session.user_id != user_id:
            raise SessionExpired("the token names no session of this server")
        if session.ended_at is not None:
            raise SessionExpired("the session has ended; authenticate again")
        if account.locked:
            self.credentials.end_session(session_id, self.clock())
            raise AccountLockedOut("%(user_id)s was locked; the session has ended", user_id=user_id)
        return session, account

    def _check_not_expired(self, user_id: str, stored: StoredPassword, channel: str) -> None:
        if stored.temporary:
            self._record(user_id, channel, REFUSED, "one-time password: change required")
            raise PasswordExpired(
                "this is a one-time password: choose your own first "
                "(POST /v1/auth/password, or 'sealtrail user password')"
            )
        if self.clock() - stored.changed_at > self.policy.password_max_age:
            self._record(user_id, channel, REFUSED, "password expired: change required")
            raise PasswordExpired(
                "the password is older than %(days)s days: change it (POST "
                "/v1/auth/password, or 'sealtrail user password')",
                days=self.policy.password_max_age.days,
            )

    def _failed(self, user_id: str, account: Account | None, channel: str, detail: str) -> None:
        """Record a failure, lock the account at the threshold, and refuse."""
        self._record(user_id, channel, FAILED, detail)
        if account is not None and account.user_id != SYSTEM_USER and not account.locked:
            failures = self.log.failures_since(user_id, account.unlocked_at)
            if failures >= self.policy.lockout_after:
                reason = f"{failures} failed authentication attempts"
                self.administration.lock_account(LockAccount(user_id, reason, failures))
                self._record(user_id, channel, REFUSED, f"account locked after {failures} failures")
        raise AuthenticationFailed(WRONG_CREDENTIALS)

    def _record(self, user_id: str, channel: str, outcome: str, detail: str) -> None:
        # Escaped here, where every channel's attempt is recorded: what was typed, kept as
        # evidence, in a form every store can hold (a real user id is unchanged).
        self.log.record(Attempt(escaped_user_id(user_id), self.clock(), channel, outcome, detail))


def _minutes(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    return f"{seconds // 60} minutes" if seconds % 60 == 0 else f"{seconds} seconds"
