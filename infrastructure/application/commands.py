"""What the ways in hand the services: a site's signed event, an administrator's signed change,
an account to open or change, a signature's ceremony. Each is a frozen dataclass (cosmicpython's
``domain/commands.py``): parsed and typed by the caller, never changed on its way through.

Every action of the records and administration services takes one of these; who signs an
administration on the console (a :class:`Signatory`) is handed beside the command, since the
same command is signed by the server when nobody is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.account import Role
from domain.authorship import Authorship
from domain.subject import subject_stream
from projections.audit_review import AuditReview


@dataclass(frozen=True)
class Submission:
    """A site's signed event, parsed: what the author signed and the typed fields of ``data``."""

    authorship: Authorship
    body: dict[str, Any]
    fields: dict[str, Any]
    idempotency_key: str | None = None
    expected_version: int | None = None

    @property
    def kind(self) -> str:
        """The event kind the author signed."""
        return str(self.body["kind"])

    @property
    def stream(self) -> str:
        """The subject's stream the author addressed."""
        return subject_stream(str(self.body["study"]), str(self.body["subject"]))

    @property
    def signer_user_id(self) -> str:
        """Who signed the event."""
        return str(self.body["signer"]["user_id"])


@dataclass(frozen=True)
class RecordEvent:
    """Record one site's signed event for the person who sent it."""

    submission: Submission
    actor_id: str


@dataclass(frozen=True)
class RecordBatch:
    """Record several signed events in one transaction, all of them or none, in their order."""

    submissions: Sequence[Submission]
    actor_id: str


@dataclass(frozen=True)
class SignRecords:
    """An investigator's signature over records, with the ceremony's components (21 CFR
    11.200): the session it is made in, the password re-entered and, for the first signing of
    a session, the user id typed again."""

    submission: Submission
    actor_id: str
    session_id: str
    password: str
    user_id: str | None = None


@dataclass(frozen=True)
class AccountAction:
    """One signed change of an account: the body as signed, and the typed fields of ``data``."""

    authorship: Authorship
    body: dict[str, Any]
    fields: dict[str, Any]

    @property
    def kind(self) -> str:
        """The account event's kind (``RoleGranted``...)."""
        return str(self.body["kind"])

    @property
    def user_id(self) -> str:
        """The account changed."""
        return str(self.body["account"])

    @property
    def signer_user_id(self) -> str:
        """Who signed the change."""
        return str(self.body["signer"]["user_id"])


@dataclass(frozen=True)
class Signatory:
    """A person who signs account administration with their own key (``--as``, ``--key``)."""

    user_id: str
    printed_name: str
    private_key: Ed25519PrivateKey


@dataclass(frozen=True)
class Training:
    """Training for a role, attested as the account is opened (21 CFR 11.10(i))."""

    course: str
    completed_on: date


@dataclass(frozen=True)
class OpenAccount:
    """An account to open, with whatever of its access is given, in one atomic save.

    The role takes effect once training for it is attested: here (``training``) or later.
    ``one_time_password`` records the ``PasswordChanged`` that stands for a one-time password
    and issues it (the console's ``user add``); the server's own staff (the demonstration
    cohort, a sponsor's account) and the tests' people are opened without one.
    """

    user_id: str
    printed_name: str
    role: Role | None = None
    sites: Sequence[str] = ()
    training: Training | None = None
    public_key: str | None = None
    one_time_password: bool = False


@dataclass(frozen=True)
class AdministerAccount:
    """Record the changes of one account an administrator signed (the API's way in)."""

    actions: Sequence[AccountAction]
    actor_id: str


@dataclass(frozen=True)
class AccountCommand:
    """A change of one existing account, ``user_id``: each action of the administration
    service on an account takes one."""

    user_id: str


@dataclass(frozen=True)
class GrantRole(AccountCommand):
    """Grant a role; it is in force once training for it is attested, until ``until``."""

    role: Role
    until: datetime | None = None
    """The instant the role lapses; None: no end."""


@dataclass(frozen=True)
class ReviewAccess:
    """Review who has which access: at one site (an investigator, their own) or at every site
    (an administrator), with the changes decided (none, when all stays as it is)."""

    site: str | None
    changes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RevokeRole(AccountCommand):
    """Take a role away, for a stated reason."""

    role: Role
    reason: str


@dataclass(frozen=True)
class AssignSite(AccountCommand):
    """Let a person act for a site."""

    site: str


@dataclass(frozen=True)
class UnassignSite(AccountCommand):
    """Stop a person acting for a site, for a stated reason."""

    site: str
    reason: str


@dataclass(frozen=True)
class DelegateTasks(AccountCommand):
    """Delegate tasks at a site for a period (codes of :class:`domain.delegation.Task`)."""

    site: str
    tasks: tuple[str, ...]
    starts_on: date
    ends_on: date | None = None


@dataclass(frozen=True)
class ReceiveSiteCopy(AccountCommand):
    """Record, on one's own account, the receipt of a site's copy: the zip's SHA-256 (hex) and
    the checkpoint (size, base64 root) it was built at."""

    site: str
    packet_sha256: str
    tree_size: int
    root: str


@dataclass(frozen=True)
class LockDatabase(AccountCommand):
    """Lock (or reopen) the database of a site of ``study``, or with no site the whole
    study's, on the sponsor's account (``user_id``), for a stated reason."""

    study: str
    reason: str
    site: str | None = None


@dataclass(frozen=True)
class EndDelegation(AccountCommand):
    """End a person's delegation at a site, for a stated reason."""

    site: str
    reason: str


@dataclass(frozen=True)
class ReviewAuditTrail(AccountCommand):
    """Record the reviewer's (``user_id``, their own account) review of the findings of
    ``review``, as computed for them, with their conclusion."""

    review: AuditReview
    conclusion: str


@dataclass(frozen=True)
class AttestTraining(AccountCommand):
    """Record that a person completed training for a role (21 CFR 11.10(i))."""

    role: Role
    course: str
    completed_on: date


@dataclass(frozen=True)
class RegisterKey(AccountCommand):
    """Register a person's public key (base64 or PEM), valid from an instant (now if None)."""

    public_key: str
    valid_from: datetime | None = None


@dataclass(frozen=True)
class RotateKey(AccountCommand):
    """Replace a key by another from a stated instant (the next whole second if None)."""

    old_key_id: str
    public_key: str
    rotated_at: datetime | None = None


@dataclass(frozen=True)
class RevokeKey(AccountCommand):
    """Revoke a key from a stated instant (the next whole second if None), for a reason."""

    key_id: str
    revoked_at: datetime | None
    reason: str


@dataclass(frozen=True)
class LockAccount(AccountCommand):
    """Lock an account; ``failed_attempts`` is the count that locked it, 0 for a decision."""

    reason: str
    failed_attempts: int = 0


@dataclass(frozen=True)
class UnlockAccount(AccountCommand):
    """Unlock an account; the failures before it no longer count toward a lockout."""

    reason: str


@dataclass(frozen=True)
class ResetPassword(AccountCommand):
    """Issue a person a one-time password, which they must change at their next login."""


@dataclass(frozen=True)
class RecordOwnPasswordChange(AccountCommand):
    """Record that a person changed their own password, which they proved."""
