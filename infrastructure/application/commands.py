"""What the ways in hand the services: a site's signed event, an administrator's signed change,
an account to open, a signature's ceremony. Each is a frozen dataclass (cosmicpython's
``domain/commands.py``): parsed and typed by the caller, never changed on its way through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.account import Role
from domain.authorship import Authorship
from domain.subject import subject_stream


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
