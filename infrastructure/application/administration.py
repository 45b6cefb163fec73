"""The administration service: accounts, their roles, sites, training, keys and locks.

One door for each change: the console signs with the administrator's key (a
:class:`Signatory`, ``by``), the API hands the changes an administrator signed
(:meth:`Administration.administer`); without ``by`` the server signs (initialisation, the
demonstration cohort's staff, a sponsor's account). A one-time password is issued here, once,
and never stored in clear.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from domain.access_review import access_as_seen
from domain.account import SYSTEM_USER, Account, Role, next_whole_second
from domain.audit_review import review_fields
from domain.errors import AccountAlreadyLocked, AuditReviewInvalid, KeyEndPassed, VersionConflict
from infrastructure.application.account_changes import (
    SYSTEM_PRINTED_NAME,
    AccountChanges,
    Act,
    key_fields,
    whole_seconds,
)
from infrastructure.application.commands import (
    AdministerAccount,
    AssignSite,
    AttestTraining,
    DelegateTasks,
    EndDelegation,
    GrantRole,
    LockAccount,
    LockDatabase,
    OpenAccount,
    ReceiveSiteCopy,
    RecordOwnPasswordChange,
    RegisterKey,
    ResetPassword,
    ReviewAccess,
    ReviewAuditTrail,
    RevokeKey,
    RevokeRole,
    RotateKey,
    Signatory,
    UnassignSite,
    UnlockAccount,
)
from infrastructure.application.reads import Reads
from infrastructure.application.receipts import Receipt, Receipts
from infrastructure.errors import AdministrationMalformed
from infrastructure.identity.credentials import CredentialStore, one_time_password
from projections.access_review import in_review_scope
from signatures.keys import key_id, public_key_from_text, public_key_to_text

Clock = Callable[[], datetime]

END_KEY_ATTEMPTS = 3
"""Tries of a rotation or revocation "now" whose second passed before its write turn came."""


class Administration:
    """Opens and changes accounts, every change a signed event."""

    def __init__(
        self,
        changes: AccountChanges,
        receipts: Receipts,
        credentials: CredentialStore,
        clock: Clock,
    ) -> None:
        self.changes = changes
        self.app = changes.app
        self.receipts = receipts
        self.credentials = credentials
        self.clock = clock

    def is_initialised(self) -> bool:
        """True once the server's own account is in the log."""
        return self.app.find_account(SYSTEM_USER) is not None

    def initialise(self) -> None:
        """Record the server's account, role and key: the first events of every store."""
        if self.is_initialised():
            return
        server_key = self.app.server_key
        acts: list[Act] = [
            ("Opened", {"printed_name": SYSTEM_PRINTED_NAME}),
            ("RoleGranted", {"role": Role.SYSTEM}),
            (
                "KeyRegistered",
                {
                    "key_id": server_key.key_id,
                    "public_key": public_key_to_text(server_key.public_key),
                    "valid_from": whole_seconds(datetime.now(UTC)),
                },
            ),
        ]
        # The one administration nobody else can sign: the anchor's own account.
        self.changes.apply(self.changes.sign(SYSTEM_USER, acts, None), actor=None)

    def open_account(self, command: OpenAccount, *, by: Signatory | None = None) -> str | None:
        """Open an account with whatever of its access is given, in one atomic save.

        Returns:
            The one-time password, once, if the command issues one; None otherwise.

        Raises:
            AdministrationMalformed: training without a role.
            AccountExists, UserIdMalformed, NotPermitted, KeyFormatError.
        """
        acts: list[Act] = [("Opened", {"printed_name": command.printed_name})]
        if command.role is not None:
            acts.append(("RoleGranted", {"role": command.role}))
        acts += [("SiteAssigned", {"site": site}) for site in command.sites]
        if command.training is not None:
            if command.role is None:
                raise AdministrationMalformed("training is attested for a role: grant one")
            training = command.training
            attested = {"role": command.role, "course": training.course}
            acts.append(("TrainingAttested", {**attested, "completed_on": training.completed_on}))
        if command.public_key is not None:
            acts.append(("KeyRegistered", key_fields(command.public_key, datetime.now(UTC))))
        if command.one_time_password:
            signer = by.user_id if by is not None else SYSTEM_USER
            acts.append(("PasswordChanged", {"changed_by": signer, "temporary": True}))
        self.changes.act(command.user_id, acts, by)
        # Read back once, as an opening always was: with fast-forward on, a save leaves the
        # account out of the aggregate cache, and the readers after it find it there.
        self.app.account(command.user_id)
        return self._issue_one_time_password(command.user_id) if command.one_time_password else None

    def administer(self, command: AdministerAccount) -> tuple[list[Receipt], str | None]:
        """Record an administrator's signed changes of one account; a ``PasswordChanged``
        among them issues a one-time password, answered here once and never stored in clear.

        Returns:
            The server's signed receipt of each change, and the one-time password if issued.

        Raises:
            AdministrationMalformed: a password change that is not a one-time password issued
                by its signer (administrators never choose a person's password).
            And whatever :meth:`AccountChanges.administer` raises.
        """
        resets = [action for action in command.actions if action.kind == "PasswordChanged"]
        for action in resets:
            if action.fields != {"changed_by": action.signer_user_id, "temporary": True}:
                raise AdministrationMalformed(
                    'an administrator issues one-time passwords only: {"changed_by": '
                    '"%(signer_user_id)s", "temporary": true}',
                    signer_user_id=action.signer_user_id,
                )
        records = self.changes.administer(command.actions, actor_id=command.actor_id)
        receipts = [self.receipts.of(record) for record in records]
        if not resets:
            return receipts, None
        return receipts, self._issue_one_time_password(resets[0].user_id)

    def grant_role(self, command: GrantRole, *, by: Signatory | None = None) -> None:
        """Grant a role (in force once trained for), for good or until an instant to come."""
        fields: dict[str, Any] = {"role": command.role}
        if command.until is not None:
            # Absent, not null, when there is no end: the body of a grant for good is unchanged.
            fields["until"] = whole_seconds(command.until)
        self.changes.act(command.user_id, [("RoleGranted", fields)], by)

    def review_access(self, command: ReviewAccess, *, by: Signatory) -> int:
        """Record ``by``'s review of the access of every account in its scope as it stands now
        (on ``by``'s own account); returns how many accounts it names.

        Raises:
            AccessReviewInvalid: no account in the scope. NotPermitted: as
                :func:`domain.permissions.check_may_review_access`.
        """
        now = datetime.now(UTC)
        seen = [
            access_as_seen(account, now)
            for account in Reads(self.app).accounts()
            if in_review_scope(account, command.site)
        ]
        fields: dict[str, Any] = {"accounts": seen, "changes": list(command.changes)}
        if command.site is not None:
            fields["site"] = command.site
        self.changes.act(by.user_id, [("AccessReviewed", fields)], by)
        return len(seen)

    def revoke_role(self, command: RevokeRole, *, by: Signatory | None = None) -> None:
        """Take a role away."""
        fields = {"role": command.role, "reason": command.reason}
        self.changes.act(command.user_id, [("RoleRevoked", fields)], by)

    def assign_site(self, command: AssignSite, *, by: Signatory | None = None) -> None:
        """Let a person act for a site."""
        self.changes.act(command.user_id, [("SiteAssigned", {"site": command.site})], by)

    def unassign_site(self, command: UnassignSite, *, by: Signatory | None = None) -> None:
        """Stop a person acting for a site."""
        fields = {"site": command.site, "reason": command.reason}
        self.changes.act(command.user_id, [("SiteUnassigned", fields)], by)

    def delegate_tasks(self, command: DelegateTasks, *, by: Signatory | None = None) -> None:
        """Record a delegation signed by the site's principal investigator (or, for the
        designation of the principal investigator, by an administrator)."""
        fields: dict[str, Any] = {
            "site": command.site,
            "tasks": list(command.tasks),
            "starts_on": command.starts_on,
        }
        if command.ends_on is not None:  # an optional field left empty is not signed
            fields["ends_on"] = command.ends_on
        self.changes.act(command.user_id, [("TasksDelegated", fields)], by)

    def receive_site_copy(self, command: ReceiveSiteCopy, *, by: Signatory) -> None:
        """Record that ``by`` received a site's own copy (signed by them, on their account)."""
        fields = {
            "site": command.site,
            "packet_sha256": command.packet_sha256,
            "tree_size": command.tree_size,
            "root": command.root,
        }
        self.changes.act(command.user_id, [(Account.SiteCopyReceived.__name__, fields)], by)

    def lock_database(self, command: LockDatabase, *, by: Signatory, reopen: bool = False) -> None:
        """Record a sponsor data manager's lock (or reopening) of a site's or the study's
        database on the sponsor's account (:mod:`domain.database_lock`)."""
        fields: dict[str, Any] = {"study": command.study, "reason": command.reason}
        if command.site is not None:  # an optional field left empty is not signed
            fields["site"] = command.site
        kind = Account.DatabaseReopened if reopen else Account.DatabaseLocked
        self.changes.act(command.user_id, [(kind.__name__, fields)], by)

    def end_delegation(self, command: EndDelegation, *, by: Signatory | None = None) -> None:
        """End a person's delegation at a site."""
        fields = {"site": command.site, "reason": command.reason}
        self.changes.act(command.user_id, [("DelegationEnded", fields)], by)

    def review_audit_trail(self, command: ReviewAuditTrail, *, by: Signatory) -> None:
        """Record a review of the audit trail, signed by the reviewer on their own account: the
        review's scope and period, how many findings it showed and their SHA-256."""
        review = command.review
        if review.period.last is None:
            raise AuditReviewInvalid("a review's period ends on a day: name it")
        fields = review_fields(
            study=review.study, site=review.site, reviewed_from=review.period.first,
            reviewed_to=review.period.last, findings=len(review.findings),
            findings_sha256=review.findings_sha256, conclusion=command.conclusion,
        )  # fmt: skip
        self.changes.act(command.user_id, [("AuditTrailReviewed", fields)], by)

    def attest_training(self, command: AttestTraining, *, by: Signatory | None = None) -> None:
        """Record that a person completed training for a role (21 CFR 11.10(i))."""
        fields = {
            "role": command.role,
            "course": command.course,
            "completed_on": command.completed_on,
        }
        self.changes.act(command.user_id, [("TrainingAttested", fields)], by)

    def register_key(self, command: RegisterKey, *, by: Signatory | None = None) -> str:
        """Register a public key (base64 or PEM) for an account; returns its key id."""
        fields = key_fields(command.public_key, command.valid_from or datetime.now(UTC))
        self.changes.act(command.user_id, [("KeyRegistered", fields)], by)
        return str(fields["key_id"])

    def rotate_key(self, command: RotateKey, *, by: Signatory | None = None) -> str:
        """Replace a key by another from a stated instant; returns the new key's id.

        Without an instant, the next whole second (:func:`next_whole_second`); a stated
        instant already past is recorded as retroactive.
        """
        parsed = public_key_from_text(command.public_key)
        fields = {
            "old_key_id": command.old_key_id,
            "key_id": key_id(parsed),
            "public_key": public_key_to_text(parsed),
        }
        end = ("rotated_at", command.rotated_at)
        self._end_key(command.user_id, "KeyRotated", fields, end, by)
        return str(fields["key_id"])

    def revoke_key(self, command: RevokeKey, *, by: Signatory | None = None) -> None:
        """Revoke a key from a stated instant, as :meth:`rotate_key` takes it (now by default)."""
        fields = {"key_id": command.key_id, "reason": command.reason}
        end = ("revoked_at", command.revoked_at)
        self._end_key(command.user_id, "KeyRevoked", fields, end, by)

    def lock_account(self, command: LockAccount, *, by: Signatory | None = None) -> None:
        """Lock an account; without ``by``, the server records a lockout it observed."""
        fields = {"reason": command.reason, "failed_attempts": command.failed_attempts}
        try:
            self.changes.act(command.user_id, [("AccountLocked", fields)], by)
        except (AccountAlreadyLocked, VersionConflict):
            if by is not None or not self.app.account(command.user_id).locked:
                raise
            # Two failures crossed the threshold at once: the other one recorded the lockout.

    def unlock_account(self, command: UnlockAccount, *, by: Signatory | None = None) -> None:
        """Unlock an account; the failures before this no longer count toward a lockout."""
        fields = {"reason": command.reason}
        self.changes.act(command.user_id, [("AccountUnlocked", fields)], by)

    def reset_password(self, command: ResetPassword, *, by: Signatory | None) -> str:
        """Issue a one-time password (signed ``PasswordChanged``); returns it, once."""
        fields = {"changed_by": by.user_id if by else SYSTEM_USER, "temporary": True}
        self.changes.act(command.user_id, [("PasswordChanged", fields)], by)
        return self._issue_one_time_password(command.user_id)

    def record_own_password_change(self, command: RecordOwnPasswordChange) -> None:
        """Record that a person changed their own password, which they proved (the server
        signs, with the person as ``changed_by``)."""
        fields = {"changed_by": command.user_id, "temporary": False}
        self.changes.act(command.user_id, [("PasswordChanged", fields)], None)

    def _issue_one_time_password(self, user_id: str) -> str:
        password = one_time_password(user_id)
        self.credentials.set_password(user_id, password, at=self.clock(), temporary=True)
        return password

    def _end_key(
        self,
        user_id: str,
        kind: str,
        fields: dict[str, Any],
        end: tuple[str, datetime | None],
        by: Signatory | None,
    ) -> None:
        """Record a rotation or revocation with the boundary rule of docs/signing.md."""
        end_field, stated = end
        for attempt in range(1, END_KEY_ATTEMPTS + 1):
            now = datetime.now(UTC)
            ends: dict[str, Any]
            if stated is None:
                ends = {end_field: next_whole_second(now)}
            else:
                moment = whole_seconds(stated)
                ends = {end_field: moment, **({"retroactive": True} if moment < now else {})}
            try:
                self.changes.act(user_id, [(kind, {**fields, **ends})], by)
                return
            except KeyEndPassed:
                # "Now" became the past while the change waited for its write turn (a loaded
                # store): sign the next second instead. A stated instant is the person's own.
                if stated is not None or attempt == END_KEY_ATTEMPTS:
                    raise
