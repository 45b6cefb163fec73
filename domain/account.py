"""People who act on the store, their roles, sites, training and signing keys, as signed events.

Identity lives in the same log as the clinical records (21 CFR 11.10(d) and ICH E6(R3) 4.2.2:
who could change what belongs in the audit trail). Each change of access is its own event, so
the account's stream answers "who had which access when": created, role granted and revoked,
site assigned and unassigned, training attested, key registered, rotated and revoked, password
changed, account locked and unlocked. Passwords themselves are not records and live apart.

A role takes effect only once training for it has been attested (21 CFR 11.10(i)), and a role
granted ``until`` an instant lapses then, without another event (a periodic access review,
ICH E6(R3) and the EMA guideline on computerised systems, sees the end coming).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any

from domain.access_review import check_review
from domain.audit_review import check_audit_review
from domain.database_lock import check_database_lock, database_scope
from domain.delegation import (
    Delegation,
    Task,
    check_period,
    tasks_from_codes,
)
from domain.errors import (
    AccountAlreadyLocked,
    AccountNotLocked,
    DelegationInvalid,
    DelegationNotInForce,
    KeyAlreadyRegistered,
    KeyAlreadyRevoked,
    KeyEndPassed,
    KeyNotRegistered,
    ReasonNotStated,
    RoleAlreadyHeld,
    RoleEndPassed,
    RoleNotGrantable,
    RoleNotHeld,
    SiteAlreadyAssigned,
    SiteNotAssigned,
    UserIdMalformed,
)
from domain.signed import SignedAggregate
from domain.site_copy import check_site_copy_receipt
from domain.text import says_nothing
from signatures.keys import key_id, public_key_from_text

SYSTEM_USER = "system"
"""The server itself: signs receipts, ``sealtrail init`` and what it observes (lockouts)."""
SPONSOR_ACCOUNT = "sponsor"
"""The account of the sponsor's packet-signing key (infrastructure/identity/sponsor_key.py)."""


class Role(Enum):
    """What a person may do (the permission matrix is in :mod:`domain.permissions`)."""

    SITE_COORDINATOR = "site_coordinator"
    INVESTIGATOR = "investigator"
    MONITOR = "monitor"
    AUDITOR = "auditor"
    SPONSOR_DATA_MANAGER = "sponsor_data_manager"
    ADMINISTRATOR = "administrator"
    WITNESS = "witness"
    """A party outside the server (the sponsor, the ethics committee, a site) that cosigns the
    log's checkpoints with its own key after checking each extends the last (docs/witnesses.md)."""
    SYSTEM = "system"


STAFF_ROLES = tuple(role for role in Role if role is not Role.SYSTEM)
"""The roles a person can be granted (the server's own role is not one)."""


USER_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
"""Lower-case letters, digits, dot, dash, underscore: one spelling per person, no look-alikes."""


def is_user_id(text: str) -> bool:
    """Whether ``text`` could name an account (it matches :data:`USER_ID_PATTERN` whole)."""
    return USER_ID_PATTERN.fullmatch(text) is not None


def escaped_user_id(typed: str) -> str:
    """What was typed as a user id, in a form every store and page can hold and show.

    A sign-in attempt is recorded whatever was typed, and a name with U+0000 (which PostgreSQL's
    text cannot hold), another control character or a lone surrogate (which has no UTF-8 form)
    is evidence of a probe. Each such character is written as its Python escape (``\\x00``,
    ``\\ud800``) and a backslash as two, so the record is unambiguous and a real user id,
    which has none of them, is unchanged.
    """
    parts = []
    for character in typed:
        if character == "\\":
            parts.append("\\\\")
        elif unicodedata.category(character) in ("Cc", "Cs"):
            code = ord(character)
            parts.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            parts.append(character)
    return "".join(parts)


def check_user_id(user_id: str) -> None:
    """Refuse a user id that is not lower-case letters, digits, ``.``, ``-`` and ``_``."""
    if not USER_ID_PATTERN.fullmatch(user_id):
        raise UserIdMalformed(
            "%(user_id)r is not a user id: 1-64 of a-z, 0-9, '.', '-', '_', "
            "starting with a letter or digit",
            user_id=user_id,
        )


@dataclass(frozen=True)
class RegisteredKey:
    """A public key registered for an account, with its period of validity."""

    key_id: str
    public_key: str
    valid_from: datetime
    registered_at: datetime
    revoked_at: datetime | None = None
    revoked_retroactively: bool = False

    @property
    def effective_from(self) -> datetime:
        """A key never signs before it was registered, whatever ``valid_from`` claims."""
        return max(self.valid_from, self.registered_at)

    def is_valid_at(self, moment: datetime) -> bool:
        """True from :attr:`effective_from` (inclusive) until ``revoked_at`` (exclusive).

        The one comparison of a key's validity: the store runs it on the way in and every
        verifier runs it again, on the same instants to the microsecond.
        """
        return self.effective_from <= moment and (
            self.revoked_at is None or moment < self.revoked_at
        )


def next_whole_second(moment: datetime) -> datetime:
    """The key boundary of a change asked for "now": the next whole second, strictly after.

    Boundaries are signed to the second. Rounding "now" down would put the boundary before
    events already recorded with the key in the same second; rounding up never does.
    """
    return moment.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)


def check_key_end(end: datetime, retroactive: bool | None, now: datetime) -> None:
    """A key's end is not past when the change is stored, unless stated as retroactive.

    Run by the command, and again by the store once it holds the write turn: every event
    recorded before that turn was recorded before ``now``, so an end not before ``now`` cuts
    none of them off.

    Raises:
        KeyEndPassed: ``end`` is before ``now`` and the change does not say ``retroactive``.
    """
    if end < now and not retroactive:
        raise KeyEndPassed(
            "the key's end %(end)s is already past; state a later instant, or "
            "mark the change retroactive",
            end=end.astimezone(UTC).isoformat(),
        )


def account_stream(user_id: str) -> str:
    """An account's stream name: ``accounts/<user id>``."""
    return f"accounts/{user_id}"


class Account(SignedAggregate):
    """One person's (or the server's) account. User ids are never reused."""

    class Event(SignedAggregate.Event):
        """An event of an account's stream; the signed body addresses it by ``account``."""

        @staticmethod
        def stream_of(body: dict[str, Any]) -> str:
            return account_stream(str(body.get("account")))

    class Opened(Event, SignedAggregate.Created):
        """An account was created for a person, under the printed name their signatures show."""

        printed_name: str

    class RoleGranted(Event):
        """A role was granted; it takes effect once training for it is attested.

        Events granted before roles could end say no ``until`` (absent from their signed
        ``data``, never ``null``): such a role never lapses.
        """

        role: Role
        until: datetime | None = None
        """The instant the role lapses (in force before it, not from it); None: no end."""

        def apply(self, account: Account) -> None:
            account.role = self.role
            account.role_until = self.until

    class RoleRevoked(Event):
        """A role was taken away, for a stated reason."""

        role: Role
        reason: str

        def apply(self, account: Account) -> None:
            account.role = None
            account.role_until = None

    class SiteAssigned(Event):
        """The person acts for a site from now on."""

        site: str

        def apply(self, account: Account) -> None:
            account.sites = (*account.sites, self.site)

    class SiteUnassigned(Event):
        """The person no longer acts for a site, for a stated reason."""

        site: str
        reason: str

        def apply(self, account: Account) -> None:
            account.sites = tuple(site for site in account.sites if site != self.site)

    class TrainingAttested(Event):
        """The person was trained for a role (21 CFR 11.10(i)): course and date completed."""

        role: Role
        course: str
        completed_on: date

        def apply(self, account: Account) -> None:
            account.trained_for = account.trained_for | {self.role}

    class KeyRegistered(Event):
        """A public key was registered for the account, valid from a given instant."""

        key_id: str
        public_key: str
        valid_from: datetime

        def apply(self, account: Account) -> None:
            account.keys[self.key_id] = RegisteredKey(
                self.key_id, self.public_key, self.valid_from, registered_at=self.timestamp
            )

    class KeyRotated(Event):
        """One key replaced another at a stated instant: the old one ends where the new begins.

        Events signed with the old key before that instant stay verifiable with it.
        """

        old_key_id: str
        key_id: str
        public_key: str
        rotated_at: datetime
        retroactive: bool | None = None
        """True when ``rotated_at`` was already past: the old key is disowned back to then."""

        @property
        def key_end(self) -> datetime:
            """When the old key stops being valid."""
            return self.rotated_at

        def apply(self, account: Account) -> None:
            account._end_key(self.old_key_id, self.rotated_at, retroactively=bool(self.retroactive))
            account.keys[self.key_id] = RegisteredKey(
                self.key_id, self.public_key, self.rotated_at, registered_at=self.timestamp
            )

    class KeyRevoked(Event):
        """A key stopped being valid at a stated instant, for a stated reason."""

        key_id: str
        revoked_at: datetime
        reason: str
        retroactive: bool | None = None
        """True when ``revoked_at`` was already past: the key is disowned back to then."""

        @property
        def key_end(self) -> datetime:
            """When the key stops being valid."""
            return self.revoked_at

        def apply(self, account: Account) -> None:
            account._end_key(self.key_id, self.revoked_at, retroactively=bool(self.retroactive))

    class PasswordChanged(Event):
        """The password was changed (never the password itself: a hash is a secret).

        ``changed_by`` is whoever set it: the person themselves, or an administrator issuing a
        one-time password (``temporary``), which must be changed before it gives any access.
        """

        changed_by: str
        temporary: bool

        def apply(self, account: Account) -> None:
            account.password_changed_at = self.timestamp

    class AccountLocked(Event):
        """The account was locked: by the server after failed authentications, or by an
        administrator. A locked account authenticates nowhere until it is unlocked."""

        reason: str
        failed_attempts: int

        def apply(self, account: Account) -> None:
            account.locked = True

    class AccountUnlocked(Event):
        """An administrator unlocked the account, for a stated reason."""

        reason: str

        def apply(self, account: Account) -> None:
            account.locked = False
            account.unlocked_at = self.timestamp

    class TasksDelegated(Event):
        """Tasks at a site given to the person for a period (``ends_on`` included; none: until
        ended), signed by the site's principal investigator, or by an administrator for the
        designation of the principal investigator (:mod:`domain.delegation`). It replaces the
        person's delegation at that site in force until then."""

        site: str
        tasks: list[str]
        starts_on: date
        ends_on: date | None = None

        def apply(self, account: Account) -> None:
            account._end_delegation(self.site, self.timestamp, "superseded")
            delegation = Delegation(
                self.site,
                tasks_from_codes(self.tasks),
                self.starts_on,
                self.ends_on,
                delegated_by=str(self.authorship.body()["signer"]["user_id"]),
                signed_at=self.timestamp,
            )
            account.delegations = (*account.delegations, delegation)

    class DelegationEnded(Event):
        """The person's delegation at a site ended, for a stated reason."""

        site: str
        reason: str

        def apply(self, account: Account) -> None:
            account._end_delegation(self.site, self.timestamp, self.reason)

    class AccessReviewed(Event):
        """The account's owner reviewed who has which access (:mod:`domain.access_review`):
        at one ``site`` (an investigator, their own) or at every site (an administrator, no
        ``site``), each account as seen, and the changes decided (none is a finding too)."""

        accounts: tuple[Mapping[str, Any], ...]
        changes: tuple[str, ...]
        site: str | None = None

    class AuditTrailReviewed(Event):
        """The account's owner reviewed the audit trail (:mod:`domain.audit_review`): of one
        study, at one ``site`` or every site (none), over the recording dates ``reviewed_from``
        (none: from the start) to ``reviewed_to``; how many findings they saw, the SHA-256 of
        those findings, and what they concluded."""

        study: str
        reviewed_to: date
        findings: int
        findings_sha256: str
        conclusion: str
        site: str | None = None
        reviewed_from: date | None = None

    class SiteCopyReceived(Event):
        """The person received their site's own copy of its data (issue 18, point 8): the
        packet's SHA-256 and the checkpoint it was built at, signed by the person."""

        site: str
        packet_sha256: str
        tree_size: int
        root: str

    class DatabaseLocked(Event):
        """On the sponsor's account: a sponsor data manager locks the database of one ``site``
        of ``study`` (or, with no site, of the whole study) before analysis; no subject is
        screened there until it is reopened (:mod:`domain.database_lock`). Each subject's
        records are locked by its own ``SubjectLocked``."""

        study: str
        reason: str
        site: str | None = None

        def apply(self, account: Account) -> None:
            scope = database_scope(self.study, self.site)
            account.database_locks = (*account.database_locks, scope)

    class DatabaseReopened(Event):
        """On the sponsor's account: the site's (or study's) database lock lifted, with the
        reason; subjects are screened there again (locked subjects stay locked)."""

        study: str
        reason: str
        site: str | None = None

        def apply(self, account: Account) -> None:
            scope = database_scope(self.study, self.site)
            account.database_locks = tuple(s for s in account.database_locks if s != scope)

    def __init__(self, printed_name: str) -> None:
        self.printed_name = printed_name
        self.role: Role | None = None
        self.role_until: datetime | None = None
        self.sites: tuple[str, ...] = ()
        self.trained_for: frozenset[Role] = frozenset()
        self.keys: dict[str, RegisteredKey] = {}
        self.locked = False
        self.unlocked_at: datetime | None = None
        self.password_changed_at: datetime | None = None
        self.delegations: tuple[Delegation, ...] = ()
        self.database_locks: tuple[str, ...] = ()
        """The sponsor's locked databases: a study, or a study's site (``study/site``)."""

    @property
    def user_id(self) -> str:
        """The account's user id, e.g. ``coord1``."""
        return self.stream.split("/", 1)[1]

    @property
    def effective_role(self) -> Role | None:
        """The role in force now (:meth:`role_in_force` at the moment it is asked)."""
        return self.role_in_force(datetime.now(UTC))

    def role_in_force(self, at: datetime) -> Role | None:
        """The role in force at ``at``: granted, not lapsed, and trained for (the server's own
        needs no training)."""
        if self.role is None or self.role_lapsed(at):
            return None
        if self.role is Role.SYSTEM or self.role in self.trained_for:
            return self.role
        return None

    def role_lapsed(self, at: datetime) -> bool:
        """True when the role was granted until an instant that ``at`` has reached."""
        return self.role_until is not None and at >= self.role_until

    # -- commands -------------------------------------------------------------------------------

    @classmethod
    def open(cls, *, user_id: str, printed_name: str) -> Account:
        """Create an account (with no role, no site, no key: each is granted by its own event)."""
        account: Account = cls._create(
            cls.Opened, stream=account_stream(user_id), printed_name=printed_name
        )
        return account

    def grant_role(self, *, role: Role, until: datetime | None = None) -> None:
        """Grant a role (one at a time), for good or ``until`` an instant still to come; the
        server's own role only at initialisation, and for good.

        A lapsed role is still held: it is revoked before another is granted, so the stream
        says why the access ended.
        """
        if role is Role.SYSTEM and (self.user_id != SYSTEM_USER or until is not None):
            raise RoleNotGrantable("the system role belongs to the server alone, for good")
        if self.role is not None:
            raise RoleAlreadyHeld(
                "%(user_id)s holds %(role)s; revoke it before granting %(role2)s",
                user_id=self.user_id,
                role=self.role.value,
                role2=role.value,
            )
        if until is not None and until <= datetime.now(UTC):
            raise RoleEndPassed(
                "the role's end %(until)s is already past: a role is granted until "
                "an instant still to come",
                until=until.astimezone(UTC).isoformat(),
            )
        self.trigger_event(self.RoleGranted, role=role, until=until)

    def revoke_role(self, *, role: Role, reason: str) -> None:
        """Take a role away."""
        if self.role is not role:
            raise RoleNotHeld(
                "%(user_id)s does not hold %(role)s", user_id=self.user_id, role=role.value
            )
        _check_stated(reason, "a role revoked")
        self.trigger_event(self.RoleRevoked, role=role, reason=reason)

    def assign_site(self, *, site: str) -> None:
        """Let the person act for a site."""
        if site in self.sites:
            raise SiteAlreadyAssigned(
                "%(user_id)s already acts for site %(site)r", user_id=self.user_id, site=site
            )
        self.trigger_event(self.SiteAssigned, site=site)

    def unassign_site(self, *, site: str, reason: str) -> None:
        """Stop the person acting for a site."""
        if site not in self.sites:
            raise SiteNotAssigned(
                "%(user_id)s does not act for site %(site)r", user_id=self.user_id, site=site
            )
        _check_stated(reason, "a site unassigned")
        self.trigger_event(self.SiteUnassigned, site=site, reason=reason)

    def attest_training(self, *, role: Role, course: str, completed_on: date) -> None:
        """Record that the person completed training for a role (retraining is recorded too)."""
        if role is Role.SYSTEM:
            raise RoleNotGrantable("the system role needs no training")
        self.trigger_event(
            self.TrainingAttested, role=role, course=course, completed_on=completed_on
        )

    def register_key(self, *, key_id: str, public_key: str, valid_from: datetime) -> None:
        """Register a public signing key for this account."""
        if key_id in self.keys:
            raise KeyAlreadyRegistered(
                "%(key_id)s is already registered for %(user_id)s",
                key_id=key_id,
                user_id=self.user_id,
            )
        self.trigger_event(
            self.KeyRegistered, key_id=key_id, public_key=public_key, valid_from=valid_from
        )

    def rotate_key(
        self,
        *,
        old_key_id: str,
        key_id: str,
        public_key: str,
        rotated_at: datetime,
        retroactive: bool | None = None,
    ) -> None:
        """Replace a key by a new one from a stated instant (a past one only if retroactive)."""
        self._check_live_key(old_key_id)
        if key_id in self.keys:
            raise KeyAlreadyRegistered(
                "%(key_id)s is already registered for %(user_id)s",
                key_id=key_id,
                user_id=self.user_id,
            )
        check_key_end(rotated_at, retroactive, datetime.now(UTC))
        self.trigger_event(
            self.KeyRotated,
            old_key_id=old_key_id,
            key_id=key_id,
            public_key=public_key,
            rotated_at=rotated_at,
            retroactive=retroactive,
        )

    def revoke_key(
        self, *, key_id: str, revoked_at: datetime, reason: str, retroactive: bool | None = None
    ) -> None:
        """Revoke a key from a stated instant (a past one only if retroactive); later
        signatures with it are refused."""
        self._check_live_key(key_id)
        check_key_end(revoked_at, retroactive, datetime.now(UTC))
        _check_stated(reason, "a key revoked")
        self.trigger_event(
            self.KeyRevoked,
            key_id=key_id,
            revoked_at=revoked_at,
            reason=reason,
            retroactive=retroactive,
        )

    def change_password(self, *, changed_by: str, temporary: bool) -> None:
        """Record that the password was changed (the hash itself is kept outside the log)."""
        self.trigger_event(self.PasswordChanged, changed_by=changed_by, temporary=temporary)

    def lock(self, *, reason: str, failed_attempts: int) -> None:
        """Lock the account: it authenticates nowhere until an administrator unlocks it."""
        if self.locked:
            raise AccountAlreadyLocked("%(user_id)s is locked already", user_id=self.user_id)
        _check_stated(reason, "an account locked")
        self.trigger_event(self.AccountLocked, reason=reason, failed_attempts=failed_attempts)

    def unlock(self, *, reason: str) -> None:
        """Unlock the account; failed attempts before this no longer count."""
        if not self.locked:
            raise AccountNotLocked("%(user_id)s is not locked", user_id=self.user_id)
        _check_stated(reason, "an account unlocked")
        self.trigger_event(self.AccountUnlocked, reason=reason)

    def delegate_tasks(
        self, *, site: str, tasks: list[str], starts_on: date, ends_on: date | None = None
    ) -> None:
        """Record tasks delegated at ``site`` (codes of :class:`~domain.delegation.Task`)."""
        given = tasks_from_codes(tasks)
        check_period(starts_on, ends_on)
        if not self.acts_for(site):
            raise DelegationInvalid(
                "%(user_id)s does not act for site %(site)r: assign the site first",
                user_id=self.user_id,
                site=site,
            )
        self.trigger_event(
            self.TasksDelegated,
            site=site,
            tasks=[task.value for task in given],
            starts_on=starts_on,
            ends_on=ends_on,
        )

    def end_delegation(self, *, site: str, reason: str) -> None:
        """End the person's delegation at ``site``."""
        if self.delegation_at(site) is None:
            raise DelegationNotInForce(
                "%(user_id)s holds no delegation at site %(site)r", user_id=self.user_id, site=site
            )
        _check_stated(reason, "a delegation ended")
        self.trigger_event(self.DelegationEnded, site=site, reason=reason)

    def lock_database(self, *, study: str, reason: str, site: str | None = None) -> None:
        """Lock a site's (or the study's) database: the sponsor's account alone records it."""
        check_database_lock(self, study, site, reason, locking=True)
        self.trigger_event(self.DatabaseLocked, study=study, reason=reason, site=site)

    def reopen_database(self, *, study: str, reason: str, site: str | None = None) -> None:
        """Lift a site's (or the study's) database lock, saying why."""
        check_database_lock(self, study, site, reason, locking=False)
        self.trigger_event(self.DatabaseReopened, study=study, reason=reason, site=site)

    def review_access(
        self,
        *,
        accounts: Sequence[Mapping[str, Any]],
        changes: Sequence[str],
        site: str | None = None,
    ) -> None:
        """Record this person's review of the access of ``accounts`` (as seen), at ``site`` or
        at every site, with the changes decided."""
        check_review(accounts, changes)
        self.trigger_event(
            self.AccessReviewed, accounts=tuple(accounts), changes=tuple(changes), site=site
        )

    def review_audit_trail(
        self,
        *,
        study: str,
        reviewed_to: date,
        findings: int,
        findings_sha256: str,
        conclusion: str,
        site: str | None = None,
        reviewed_from: date | None = None,
    ) -> None:
        """Record this person's review of the audit trail (who may: the permission check of
        :data:`domain.permissions.ACCOUNT_CHANGE_CHECKS`)."""
        fields: dict[str, Any] = {
            "study": study, "site": site, "reviewed_from": reviewed_from,
            "reviewed_to": reviewed_to, "findings": findings, "findings_sha256": findings_sha256,
            "conclusion": conclusion,
        }  # fmt: skip
        check_audit_review(**fields)
        self.trigger_event(self.AuditTrailReviewed, **fields)

    def receive_site_copy(
        self, *, site: str, packet_sha256: str, tree_size: int, root: str
    ) -> None:
        """Record that the person received the copy of ``site`` whose zip has this SHA-256
        (hex), built at the checkpoint of this size and root (base64)."""
        check_site_copy_receipt(packet_sha256, tree_size, root)
        named = {"packet_sha256": packet_sha256, "tree_size": tree_size, "root": root}
        self.trigger_event(self.SiteCopyReceived, site=site, **named)

    # -- questions ------------------------------------------------------------------------------

    def acts_for(self, site: str) -> bool:
        """True if the account may act on subjects of ``site``."""
        return site in self.sites

    def delegation_at(self, site: str) -> Delegation | None:
        """The person's delegation at ``site`` that no later event ended, if any."""
        for delegation in self.delegations:
            if delegation.site == site and delegation.ended_at is None:
                return delegation
        return None

    def is_delegated(self, task: Task, site: str, on: date) -> bool:
        """Whether a delegation at ``site`` gives ``task`` on day ``on``."""
        delegation = self.delegation_at(site)
        return delegation is not None and delegation.covers(task, on)

    def is_principal_investigator(self, site: str, on: date, *, at: datetime | None = None) -> bool:
        """An investigator in force (at ``at``; None: now), acting for ``site``, designated its
        principal investigator for day ``on``."""
        return (
            self.role_in_force(at or datetime.now(UTC)) is Role.INVESTIGATOR
            and self.acts_for(site)
            and self.is_delegated(Task.PRINCIPAL_INVESTIGATOR, site, on)
        )

    def _end_delegation(self, site: str, at: datetime, reason: str) -> None:
        self.delegations = tuple(
            replace(delegation, ended_at=at, end_reason=reason)
            if delegation.site == site and delegation.ended_at is None
            else delegation
            for delegation in self.delegations
        )

    def _end_key(self, key_id: str, at: datetime, *, retroactively: bool) -> None:
        # Applied by KeyRotated and KeyRevoked alike: the key stays, valid up to ``at`` only.
        self.keys[key_id] = replace(
            self.keys[key_id], revoked_at=at, revoked_retroactively=retroactively
        )

    def _check_live_key(self, key_id: str) -> None:
        key = self.keys.get(key_id)
        if key is None:
            raise KeyNotRegistered(
                "%(key_id)s is not registered for %(user_id)s", key_id=key_id, user_id=self.user_id
            )
        if key.revoked_at is not None:
            raise KeyAlreadyRevoked(
                "%(key_id)s of %(user_id)s was revoked from %(revoked_at)s",
                key_id=key_id,
                user_id=self.user_id,
                revoked_at=key.revoked_at.isoformat(),
            )


ACCOUNT_EVENT_KINDS = tuple(
    name
    for name, value in vars(Account).items()
    if isinstance(value, type)
    and issubclass(value, Account.Event)
    and value is not Account.Event
    # eventsourcing adds a ``Created`` of its own; accounts are created by ``Opened`` only.
    and (value is Account.Opened or not issubclass(value, SignedAggregate.Created))
)
"""Every kind of account event, by the name authors sign (``Opened``, ``RoleGranted``...)."""


BEGINNING_OF_TIME = datetime(1970, 1, 1, tzinfo=UTC)


def server_anchor(public_key_text: str) -> RegisteredKey:
    """The server's public key as a key valid for all time (the verifier's trust anchor)."""
    return RegisteredKey(
        key_id=key_id(public_key_from_text(public_key_text)),
        public_key=public_key_text,
        valid_from=BEGINNING_OF_TIME,
        registered_at=BEGINNING_OF_TIME,
    )


def _check_stated(reason: str, what: str) -> None:
    """A change that says why says something a reader can see.

    Raises:
        ReasonNotStated: the reason is empty or shows nothing.
    """
    if says_nothing(reason):
        raise ReasonNotStated("%(what)s states its reason: the text shows nothing", what=what)
