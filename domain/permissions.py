"""Who may do what, where: the permission matrix of the trial, as data.

Each role has a set of actions, each action a scope: the person's own sites, or every site.
A role counts only once it is in force (granted and trained for, 21 CFR 11.10(i)); an account
with no role in force may authenticate and read its own account, nothing else. Every endpoint
and every console command that acts as a person checks one of these actions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, TypeVar

from domain.account import SPONSOR_ACCOUNT, SYSTEM_USER, Account, Role
from domain.actions import Action
from domain.delegation import DelegationRule, Task, check_tasks_given_by, tasks_from_codes
from domain.errors import KeyCustodyViolated, NotDelegated, NotPermitted, SubjectNotFound
from domain.protocol import protocol_for
from domain.subject import KINDS
from domain.wire import instant_to_wire


class Scope(Enum):
    """Where a permitted action reaches."""

    OWN_SITES = "own sites"
    ALL_SITES = "all sites"


_OWN, _ALL = Scope.OWN_SITES, Scope.ALL_SITES

MATRIX: dict[Role, dict[Action, Scope]] = {
    # Enters data for own sites.
    Role.SITE_COORDINATOR: {
        Action.RECORD_CLINICAL_DATA: _OWN,
        Action.READ_CLINICAL_DATA: _OWN,
        Action.READ_LOG_EVIDENCE: _ALL,
    },
    # Enters and signs for own sites, and takes their own copy of their data; the site's
    # principal investigator delegates its tasks; reviews who has access there.
    Role.INVESTIGATOR: {
        Action.RECORD_CLINICAL_DATA: _OWN,
        Action.SIGN_CLINICAL_RECORDS: _OWN,
        Action.DELEGATE_TASKS: _OWN,
        Action.READ_CLINICAL_DATA: _OWN,
        Action.READ_LOG_EVIDENCE: _ALL,
        Action.BUILD_SITE_COPY: _OWN,
        Action.REVIEW_ACCESS: _OWN,
    },
    # Reads own sites, raises queries and verifies records against source; writes no data.
    Role.MONITOR: {
        Action.READ_CLINICAL_DATA: _OWN,
        Action.RAISE_QUERIES: _OWN,
        Action.VERIFY_SOURCE: _OWN,
        Action.READ_LOG_EVIDENCE: _ALL,
    },
    # Reads everything, replays, verifies; writes nothing.
    Role.AUDITOR: {
        Action.READ_CLINICAL_DATA: _ALL,
        Action.READ_LOG_EVIDENCE: _ALL,
        Action.VERIFY_AND_REPLAY: _ALL,
        Action.READ_ACCOUNTS: _ALL,
        Action.REVIEW_AUDIT_TRAIL: _ALL,
    },
    # Reports and packets, for which it reads every site; freezes and locks subjects (the
    # site's investigator signs the other half of an unlock).
    Role.SPONSOR_DATA_MANAGER: {
        Action.READ_CLINICAL_DATA: _ALL,
        Action.READ_LOG_EVIDENCE: _ALL,
        Action.BUILD_REPORTS_AND_PACKETS: _ALL,
        Action.REVIEW_AUDIT_TRAIL: _ALL,
        Action.FREEZE_AND_LOCK: _ALL,
    },
    # Users, sites and keys, and the review of who has access; enters and reads no clinical data.
    Role.ADMINISTRATOR: {
        Action.READ_LOG_EVIDENCE: _ALL,
        Action.READ_ACCOUNTS: _ALL,
        Action.ADMINISTER_ACCOUNTS: _ALL,
        Action.REVIEW_ACCESS: _ALL,
    },
    # A witness (the sponsor's, the ethics committee's, a site's): cosigns checkpoints with its
    # own registered key, nothing else; it reads the public checkpoints and proofs like anyone.
    Role.WITNESS: {
        Action.COSIGN_CHECKPOINTS: _ALL,
        Action.READ_LOG_EVIDENCE: _ALL,
    },
    # The server: initialises the store and records what it observes (lockouts).
    Role.SYSTEM: {
        Action.ADMINISTER_ACCOUNTS: _ALL,
        Action.READ_ACCOUNTS: _ALL,
    },
}

RECORDING_ROLES = frozenset(
    role for role, actions in MATRIX.items() if Action.RECORD_CLINICAL_DATA in actions
)
"""Roles that enter clinical data (administrators, auditors and monitors never do)."""


def check_may(
    actor: Account, action: Action, site: str | None = None, *, at: datetime | None = None
) -> None:
    """Refuse unless the actor's role in force allows ``action`` (at ``site``, if it has one).

    ``at`` is the instant the role must be in force: now (None) on the way in; the instant an
    event was recorded when a verifier asks again of the account as it stood then.

    Raises:
        NotPermitted: no role in force, the role does not do this, or not at this site.
    """
    at = at or datetime.now(UTC)
    role = actor.role_in_force(at)
    if role is None:
        raise NotPermitted(
            "%(why_no_role)s, so does not %(action)s",
            why_no_role=_why_no_role(actor, at),
            action=action.value,
        )
    scope = MATRIX[role].get(action)
    if scope is None:
        raise NotPermitted(
            "%(article)s %(role)s does not %(action)s",
            article=_article(role.value),
            role=role.value,
            action=action.value,
        )
    if scope is Scope.OWN_SITES and site is not None and not actor.acts_for(site):
        raise NotPermitted(
            "%(user_id)s does not act for site %(site)r", user_id=actor.user_id, site=site
        )
    if scope is Scope.OWN_SITES and site is None:
        # An own-sites action with no site named cannot be scoped, so it is not allowed.
        raise NotPermitted(
            "%(article)s %(role)s may %(action)s only at their own sites",
            article=_article(role.value),
            role=role.value,
            action=action.value,
        )


def _why_no_role(actor: Account, at: datetime) -> str:
    """Why an account has no role in force at ``at``: none granted, lapsed, or awaiting
    training."""
    if actor.role is None:
        return f"{actor.user_id} has no role"
    if actor.role_lapsed(at):
        assert actor.role_until is not None
        return (
            f"{actor.user_id}'s role {actor.role.value} lapsed at "
            f"{instant_to_wire(actor.role_until)}"
        )
    return f"{actor.user_id}'s role {actor.role.value} awaits training attestation"


def check_may_at_subject(actor: Account, action: Action, site: str, stream: str) -> None:
    """Refuse ``action`` on an existing subject of ``site`` without saying that it exists.

    First the role, which says nothing about the subject: a role that never does ``action``
    (an administrator reading clinical data) is refused as such (403). Then the site: to a
    person who does not act for it, another site's subject answers exactly as a subject that
    does not exist (404, the same title and detail), so subject codes cannot be probed across
    sites (issue 15, point 11).

    Raises:
        NotPermitted: no role in force, or the role never does ``action``.
        SubjectNotFound: the actor does not act for ``site`` (``not_screened(stream)``).
    """
    role = actor.effective_role
    scope = None if role is None else MATRIX[role].get(action)
    if scope is None:
        check_may(actor, action)  # raises, saying why
    elif scope is Scope.OWN_SITES and not actor.acts_for(site):
        raise not_screened(stream)


T = TypeVar("T")


def readable_subject(
    actor: Account,
    stream: str,
    find: Callable[[str], T | None],
    site_of: Callable[[T], str],
    *,
    names_a_subject: bool = True,
) -> T:
    """What ``find`` gives for the subject at ``stream``, once ``actor`` may read it: every read
    of a subject, on the API and the console, goes through here.

    A role that never reads clinical data is told so (saying nothing of the subject). To anyone
    else, a stream that cannot name a subject (``names_a_subject`` false), a subject that does
    not exist and another site's subject all give the same :func:`not_screened` (issue 15,
    points 10 and 11).

    Raises:
        NotPermitted: the role does not read clinical data.
        SubjectNotFound: no such subject, or none this person may read.
    """
    check_role_may(actor, Action.READ_CLINICAL_DATA)
    found = find(stream) if names_a_subject else None
    if found is None:
        raise not_screened(stream)
    check_may_at_subject(actor, Action.READ_CLINICAL_DATA, site_of(found), stream)
    return found


def check_role_may(actor: Account, action: Action) -> None:
    """Refuse a person whose role in force never does ``action``, at any site.

    Checked before a subject is looked up, so this refusal says nothing about the subject.
    """
    role = actor.effective_role
    if role is None or MATRIX[role].get(action) is None:
        check_may(actor, action)  # raises, saying why


def not_screened(stream: str) -> SubjectNotFound:
    """The one answer for a subject that is not there, or not there for this person."""
    return SubjectNotFound("%(subject)s has not been screened", subject=stream)


def submit_action(kind: str) -> Action:
    """What submitting a record of ``kind`` is, as its declaration says (entering data, raising a
    query...)."""
    return KINDS[kind].SUBMITTED_AS


def check_may_record(actor: Account, site: str) -> None:
    """A coordinator or investigator records data for subjects of their own sites only."""
    check_may(actor, Action.RECORD_CLINICAL_DATA, site)


def check_may_submit(actor: Account, kind: str, site: str, *, at: datetime | None = None) -> None:
    """Each kind is submitted as the action its declaration names: a monitor raises and closes
    queries at their own sites; every clinical record (a query's answer included) is entered by
    the site's coordinators and investigators."""
    check_may(actor, submit_action(kind), site, at=at)


def check_may_write(
    actor: Account, kind: str, site: str, study: str, *, at: datetime | None = None
) -> None:
    """Everything the store demands of the person who signs a subject's event of ``kind`` at
    ``site``: the action the kind is submitted as (:func:`check_may_submit`), and under the
    delegation rule of ``study``'s protocol the delegation of its task
    (:func:`check_delegated`), on the UTC day of ``at``.

    The write path asks it now, of the account as it stands; ``sealtrail verify`` and
    ``sealtrail packet verify`` ask it again, of the account as it stood when the event was
    recorded, at the instant it was recorded.

    Raises:
        NotPermitted: the role in force does not do this, or not at this site.
        NotDelegated: no delegation covers the write's task, where the protocol requires one.
        UnknownStudy: the study is not served here.
    """
    at = at or datetime.now(UTC)
    check_may_submit(actor, kind, site, at=at)
    if kind in KINDS:
        rule = protocol_for(study).delegation
        # The UTC day, as the day a delegation is signed on (every instant of the log is UTC).
        check_delegated(actor, task_of(kind), site, rule, at.astimezone(UTC).date(), at=at)


def check_may_read(actor: Account, site: str) -> None:
    """Auditors and sponsors read every site; site staff and monitors their own only."""
    check_may(actor, Action.READ_CLINICAL_DATA, site)


def reads_site(actor: Account, site: str) -> bool:
    """Whether ``actor`` reads the clinical data of ``site`` (:func:`check_may_read` asked as a
    question): what a list of every site's subjects keeps for them."""
    return may(actor, Action.READ_CLINICAL_DATA, site)


def may(actor: Account, action: Action, site: str) -> bool:
    """Whether ``actor`` may do ``action`` at ``site`` now (:func:`check_may` asked as a
    question): what a page offers them there."""
    try:
        check_may(actor, action, site)
    except NotPermitted:
        return False
    return True


def reads_every_site(actor: Account) -> bool:
    """Whether ``actor`` reads the clinical data of every site, not only their own: what a copy
    of a list of every site's subjects is a copy of (the study, or their site)."""
    try:
        check_may(actor, Action.READ_CLINICAL_DATA)  # no site named: every site's
    except NotPermitted:
        return False
    return True


def check_may_cosign_checkpoints(actor: Account) -> None:
    """Only an account whose role in force is a witness's cosigns the log's checkpoints."""
    check_may(actor, Action.COSIGN_CHECKPOINTS)


def check_may_read_log_evidence(actor: Account) -> None:
    """Checkpoints and proofs hold no clinical data: every role in force may read them."""
    check_may(actor, Action.READ_LOG_EVIDENCE)


def check_may_read_accounts(actor: Account) -> None:
    """Administrators and auditors see every account, its history and authentications."""
    check_may(actor, Action.READ_ACCOUNTS)


KEY_CUSTODY_ACCOUNTS = (SYSTEM_USER, SPONSOR_ACCOUNT)
"""Accounts whose keys sign for the store and the sponsor, not for a person."""

KEY_EVENT_KINDS = ("KeyRegistered", "KeyRotated", "KeyRevoked")


def check_key_custody(
    changed: Account | None,
    user_id: str,
    kind: str,
    signer_id: str,
    signer: Callable[[str], Account | None],
    *,
    at: datetime | None = None,
) -> None:
    """The key-custody procedure of docs/deployment.md, for one account event.

    ``changed`` is the account as it stood before the event (None before it was opened);
    ``signer`` looks up the signer's account as it stood then, whose role must be in force
    ``at`` (now, on the way in; when the event was recorded, in a verifier). The server's key
    is registered once, when the store is initialised, by the server; the sponsor's packet key
    is registered by the server as ``sealtrail init`` opens the account, and after that
    changed only by a sponsor data manager in force, with their own key. Every other account's
    keys are administered as usual.

    Raises:
        KeyCustodyViolated: a key event of ``system`` or ``sponsor`` outside that procedure.
    """
    if user_id not in KEY_CUSTODY_ACCOUNTS or kind not in KEY_EVENT_KINDS:
        return
    if (
        signer_id == SYSTEM_USER
        and kind == "KeyRegistered"
        and (changed is None or not changed.keys)
    ):
        return  # the first key, registered by the store itself as it opens the account
    if user_id == SPONSOR_ACCOUNT:
        account = signer(signer_id)
        in_force = None if account is None else account.role_in_force(at or datetime.now(UTC))
        if in_force is Role.SPONSOR_DATA_MANAGER:
            return
        raise KeyCustodyViolated(
            "%(signer_id)s may not change the sponsor's keys: key custody gives "
            "them to a sponsor data manager (docs/deployment.md)",
            signer_id=signer_id,
        )
    raise KeyCustodyViolated(
        "%(signer_id)s may not change the server's keys: key custody "
        "registers its one key when the store is initialised "
        "(docs/deployment.md)",
        signer_id=signer_id,
    )


def check_logged_key_custody(
    event: Account.Event, before: Account | None, accounts: Mapping[str, Account]
) -> None:
    """:func:`check_key_custody` for an account event read from the log, as verifiers fold
    the accounts in log order: ``before`` is its account and ``accounts`` every account (by
    user id) as they stood just before it.

    Raises:
        KeyCustodyViolated: as :func:`check_key_custody`.
    """
    user_id = event.stream.split("/", 1)[1]
    if user_id not in KEY_CUSTODY_ACCOUNTS or event.kind() not in KEY_EVENT_KINDS:
        return
    signer = event.authorship.body().get("signer")
    signer_id = str(signer.get("user_id")) if isinstance(signer, dict) else ""
    kind, at = event.kind(), event.recorded_at
    check_key_custody(before, user_id, kind, signer_id, accounts.get, at=at)


AccountChangeCheck = Callable[[Account, str, Mapping[str, Any], datetime | None], None]
"""Who may sign one kind of account event: given the signer's account as it stands, the user id
of the account changed, the event's typed fields and the instant the signer's role must be in
force (None: now); raises NotPermitted (or a rule error)."""


def check_may_change_account(
    actor: Account,
    user_id: str,
    kind: str,
    fields: Mapping[str, Any],
    *,
    at: datetime | None = None,
) -> None:
    """Whether ``actor`` may sign one change of the account ``user_id``: the check its kind
    names in :data:`ACCOUNT_CHANGE_CHECKS`, and for every other kind, administration
    (:func:`check_may_administer`). ``at`` as for :func:`check_may`.

    Raises:
        NotPermitted: the actor may not sign this change.
    """
    at = at or datetime.now(UTC)
    check = ACCOUNT_CHANGE_CHECKS.get(kind)
    if check is None:
        check_may_administer(actor, user_id, kind, at=at)
    else:
        check(actor, user_id, fields, at)


def check_may_delegate(
    actor: Account, user_id: str, fields: Mapping[str, Any], at: datetime | None = None
) -> None:
    """A site's principal investigator in force delegates its tasks, to anyone but themselves;
    an administrator designates the principal investigator (the task
    ``principal_investigator`` alone), again never themselves.

    Raises:
        NotPermitted: a delegation to oneself, by someone who is neither, or at another site.
        DelegationInvalid: tasks that are not the vocabulary's, or not the signer's to give.
    """
    _check_not_self(actor, user_id, "delegate tasks to")
    tasks = tasks_from_codes(fields.get("tasks"))
    by_administrator = _administers(actor, at)
    check_tasks_given_by(tasks, by_administrator=by_administrator)
    if not by_administrator:
        _check_principal_investigator(actor, str(fields.get("site")), at)


def check_may_end_delegation(
    actor: Account, user_id: str, fields: Mapping[str, Any], at: datetime | None = None
) -> None:
    """An administrator, or the site's principal investigator, ends a delegation at the site
    (never their own).

    Raises:
        NotPermitted: an end of one's own delegation, or by someone who is neither.
    """
    _check_not_self(actor, user_id, "end a delegation of")
    if _administers(actor, at):
        return
    _check_principal_investigator(actor, str(fields.get("site")), at)


def _administers(actor: Account, at: datetime | None) -> bool:
    role = actor.role_in_force(at or datetime.now(UTC))
    return role is not None and Action.ADMINISTER_ACCOUNTS in MATRIX[role]


def _check_not_self(actor: Account, user_id: str, what: str) -> None:
    if actor.user_id == user_id:
        raise NotPermitted(
            "%(user_id)s may not %(what)s themselves", user_id=actor.user_id, what=what
        )


def _check_principal_investigator(actor: Account, site: str, at: datetime | None) -> None:
    at = at or datetime.now(UTC)
    check_may(actor, Action.DELEGATE_TASKS, site, at=at)
    if not actor.is_principal_investigator(site, at.astimezone(UTC).date(), at=at):
        raise NotPermitted(
            "%(user_id)s is not the principal investigator of site %(site)r "
            "(designated by an administrator): only they delegate its tasks",
            user_id=actor.user_id,
            site=site,
        )


def check_may_review_access(
    actor: Account, user_id: str, fields: Mapping[str, Any], at: datetime | None = None
) -> None:
    """An administrator reviews the access of every site (or one), a site's investigator that
    of their own site; the review is recorded on the reviewer's own account.

    Raises:
        NotPermitted: a review recorded on another's account, by a role that does not review
            access, or of a site (or every site) beyond the reviewer's.
    """
    if user_id != actor.user_id:
        raise NotPermitted(
            "%(user_id)s's access review is recorded on their own account, not %(user_id2)s's",
            user_id=actor.user_id,
            user_id2=user_id,
        )
    site = fields.get("site")
    check_may(actor, Action.REVIEW_ACCESS, None if site is None else str(site), at=at)


def check_may_review_audit_trail(
    actor: Account, user_id: str, fields: Mapping[str, Any], at: datetime | None = None
) -> None:
    """An auditor or a sponsor data manager reviews the audit trail of every site, and records
    the review on their own account.

    Raises:
        NotPermitted: a review recorded on another's account, or by a role that does not review
            the audit trail.
    """
    if user_id != actor.user_id:
        raise NotPermitted(
            "%(user_id)s's audit-trail review is recorded on their own account, not %(user_id2)s's",
            user_id=actor.user_id,
            user_id2=user_id,
        )
    check_may(actor, Action.REVIEW_AUDIT_TRAIL, at=at)


def check_may_receive_site_copy(
    actor: Account, user_id: str, fields: Mapping[str, Any], at: datetime | None = None
) -> None:
    """A site's investigator records, on their own account only, the receipt of the copy of a
    site they act for.

    Raises:
        NotPermitted: a receipt on another's account, by a role that takes no copy, or of
            another site's copy.
    """
    if actor.user_id != user_id:
        raise NotPermitted(
            "%(user_id)s records the receipt of their own copies only", user_id=actor.user_id
        )
    check_may(actor, Action.BUILD_SITE_COPY, str(fields.get("site")), at=at)


def check_may_lock_database(
    actor: Account, user_id: str, fields: Mapping[str, Any], at: datetime | None = None
) -> None:
    """A sponsor data manager locks and reopens a site's or the study's database, on the
    sponsor's account (where the sponsor's decisions about the whole study are kept).

    Raises:
        NotPermitted: on another account, or by a role that does not freeze and lock.
    """
    if user_id != SPONSOR_ACCOUNT:
        raise NotPermitted(
            "a database lock is recorded on the sponsor's account "
            "(%(sponsor_account)s), not %(user_id)s's",
            sponsor_account=SPONSOR_ACCOUNT,
            user_id=user_id,
        )
    del fields  # every site: the data manager's scope is the whole study
    check_may(actor, Action.FREEZE_AND_LOCK, at=at)


ACCOUNT_CHANGE_CHECKS: dict[str, AccountChangeCheck] = {
    Account.TasksDelegated.__name__: check_may_delegate,
    Account.DelegationEnded.__name__: check_may_end_delegation,
    Account.AccessReviewed.__name__: check_may_review_access,
    Account.AuditTrailReviewed.__name__: check_may_review_audit_trail,
    Account.SiteCopyReceived.__name__: check_may_receive_site_copy,
    Account.DatabaseLocked.__name__: check_may_lock_database,
    Account.DatabaseReopened.__name__: check_may_lock_database,
}
"""The account events that are not administration, each with who may sign it. A kind not
named here is administration (:func:`check_may_administer`)."""


def check_may_read_delegation_log(actor: Account, site: str) -> None:
    """A site's delegation log names its staff, not its subjects: who reads accounts
    (administrators, auditors) reads every site's; who reads a site's clinical data (its staff
    and monitors, sponsor data managers) reads that site's.

    Raises:
        NotPermitted: neither.
    """
    role = actor.effective_role
    if role is not None and Action.READ_ACCOUNTS in MATRIX[role]:
        return
    check_may(actor, Action.READ_CLINICAL_DATA, site)


def task_of(kind: str) -> Task:
    """The delegated task a write of ``kind`` is: signing for what is submitted as signing,
    else what its declaration names (data entry, unless consent or an adverse event)."""
    declared = KINDS[kind]
    if declared.SUBMITTED_AS is Action.SIGN_CLINICAL_RECORDS:
        return Task.SIGNING
    return declared.DELEGATED_TASK


def check_delegated(
    actor: Account,
    task: Task,
    site: str,
    rule: DelegationRule,
    on: date,
    *,
    at: datetime | None = None,
) -> None:
    """From the protocol's date, a recording role writes at a site only under a delegation of
    the write's task by the site's principal investigator, who needs none. ``at`` is the
    instant the role must be in force (None: now).

    Raises:
        NotDelegated: the rule applies on ``on`` and no delegation covers ``task`` there.
    """
    at = at or datetime.now(UTC)
    if not rule.applies_on(on) or actor.role_in_force(at) not in RECORDING_ROLES:
        return
    if actor.is_principal_investigator(site, on, at=at) or actor.is_delegated(task, site, on):
        return
    raise NotDelegated(
        "%(user_id)s holds no delegation of %(task)s at site %(site)r on "
        "%(on)s; the protocol requires one from %(required_from)s",
        user_id=actor.user_id,
        task=task.value,
        site=site,
        on=on.isoformat(),
        required_from=rule.required_from,
    )


def check_may_administer(
    actor: Account, user_id: str, kind: str, *, at: datetime | None = None
) -> None:
    """An administrator administers accounts, but never grants themselves access.

    Separation of duties: an administrator who could grant themselves a role, a site or a
    training attestation, or unlock themselves, could give themselves any access. The keys of
    the server and the sponsor are not administered at all: :func:`check_key_custody` alone
    says who changes them.
    """
    if user_id in KEY_CUSTODY_ACCOUNTS and kind in KEY_EVENT_KINDS:
        return
    check_may(actor, Action.ADMINISTER_ACCOUNTS, at=at)
    if actor.user_id == user_id and kind in SELF_GRANTING_KINDS:
        raise NotPermitted(
            "%(user_id)s may not %(change)s themselves",
            user_id=actor.user_id,
            change=SELF_GRANTING_KINDS[kind],
        )


SELF_GRANTING_KINDS = {
    "RoleGranted": "grant a role to",
    "SiteAssigned": "assign a site to",
    "TrainingAttested": "attest training of",
    "AccountUnlocked": "unlock",
}


def check_signs_as_self(actor: Account, signer_user_id: str) -> None:
    """A person submits only what they signed themselves (21 CFR 11.200(a)(2))."""
    if signer_user_id != actor.user_id:
        raise NotPermitted(
            "authenticated as %(user_id)r but the body is signed by %(signer_user_id)r",
            user_id=actor.user_id,
            signer_user_id=signer_user_id,
        )


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"
