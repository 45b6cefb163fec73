"""``/admin``: the accounts as they stand (roles and their ends, training, sites, keys and their
validity, locked or active), the sites, and the subjects', sites' and study's locks.

Open to whoever the permission matrix lets read accounts (administrators and auditors, as
``GET /v1/accounts`` and ``sealtrail user list``); any other role is answered 403. Everything is
read through the same application services as the API and the console (``reads.accounts()``,
``reads.subjects_of``), and the page is a copy of personnel data, recorded in the person's
disclosure log (``accounts``, the study's scope) before it is sent, as the API's account reads
are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import g, render_template

from api.store import get_store
from api.web.account_lines import account_line
from api.web.administering import changes_for
from api.web.blueprint import web
from api.web.handing_out import handed_out
from api.web.navigation import in_navigation
from api.web.sessions import page_for, role_may
from domain.account import SPONSOR_ACCOUNT, SYSTEM_USER, Account
from domain.actions import Action
from domain.disclosure import ACCOUNTS, Scope
from domain.permissions import check_may_read_accounts
from domain.subject import Subject
from domain.subject.locks import LockState, pending_unlock_request
from infrastructure.views.study_reports import served_study, site_subjects


@dataclass(frozen=True)
class SiteLine:
    """A site: the people who act for it, its subjects, whether its database is locked."""

    site: str
    people: list[str]
    subjects: int
    database_locked: bool


@dataclass(frozen=True)
class SubjectLock:
    """A subject whose records are frozen or locked, or whose unlock awaits the investigator."""

    code: str
    site: str
    state: str
    unlock_requested: bool


def site_lines(
    accounts: Sequence[Account], subjects: Sequence[Subject], study: str, locked: Sequence[str]
) -> list[SiteLine]:
    """Every site an account acts for or a subject was screened at, in name order."""
    sites = sorted({site for a in accounts for site in a.sites} | {s.site for s in subjects})
    return [
        SiteLine(
            site,
            [a.user_id for a in accounts if site in a.sites],
            sum(1 for subject in subjects if subject.site == site),
            f"{study}/{site}" in locked,
        )
        for site in sites
    ]


def subject_locks(subjects: Sequence[Subject]) -> list[SubjectLock]:
    """The subjects not simply open: frozen, locked, or with an unlock awaiting approval."""
    return [
        SubjectLock(
            subject.subject_code,
            subject.site,
            subject.lock_state.value,
            pending_unlock_request(subject) is not None,
        )
        for subject in subjects
        if subject.lock_state is not LockState.OPEN or pending_unlock_request(subject) is not None
    ]


def may_administer(account: Account) -> bool:
    """Whether ``account``'s role makes changes of accounts (an auditor only reads them)."""
    return role_may(account, Action.ADMINISTER_ACCOUNTS)


@web.get("/admin")
@page_for(Action.READ_ACCOUNTS)
def admin() -> str:
    """Accounts, sites and locks as they stand now."""
    check_may_read_accounts(g.account)
    reads = get_store().reads
    study = served_study(None)
    now = datetime.now(UTC)
    accounts = reads.accounts()
    subjects = site_subjects(reads, study, None)
    sponsor = next((a for a in accounts if a.user_id == SPONSOR_ACCOUNT), None)
    databases = sorted(
        scope
        for scope in (sponsor.database_locks if sponsor is not None else ())
        if scope.split("/", 1)[0] == study
    )
    people = [a for a in accounts if a.user_id not in (SYSTEM_USER, SPONSOR_ACCOUNT)]
    page = render_template(
        "admin/accounts.html",
        study=study,
        accounts=[account_line(account, now) for account in accounts],
        sites=site_lines(people, subjects, study, databases),
        study_locked=study in databases,
        subject_locks=subject_locks(subjects),
        may_administer=may_administer(g.account),
        changes_for=changes_for,
    )
    return handed_out(page, ACCOUNTS, Scope(study))


in_navigation("web.admin", "Administration", Action.READ_ACCOUNTS)
