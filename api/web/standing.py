"""Where the study stands, for the sites a person reads: what ``/study`` shows.

Built from the application's own reads, the way the API builds its views: the dashboard of
:func:`~infrastructure.views.study_reports.study_dashboard` (the very one ``GET
/v1/study/dashboard`` answers, for a person who reads every site; computed from their sites'
subject summaries alone for anyone else), the subjects as the log folds them (queries, locks,
source data verification coverage), the sponsor's database locks, the latest checkpoint and the
last verification recorded with this home.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.account import SPONSOR_ACCOUNT, Account
from domain.actions import Action
from domain.database_lock import database_scope
from domain.disclosure import Scope
from domain.permissions import MATRIX, reads_site
from domain.permissions import Scope as Reach
from domain.subject import Subject
from domain.subject.locks import LockState
from infrastructure.bootstrap import Store
from infrastructure.store.checkpoints import SealedCheckpoint
from infrastructure.verification.last_run import LastVerification, last_verification
from infrastructure.views.study_reports import site_subjects, study_dashboard
from projections.source_verification import study_coverage
from signatures.checkpoint import Checkpoint


@dataclass(frozen=True)
class SiteStanding:
    """One site's queries, source data verification and locks."""

    site: str
    subjects: int
    open_queries: int
    answered_queries: int
    verified: int
    to_verify: int
    locks: dict[str, int]
    database_locked: bool

    @property
    def verified_percent(self) -> int | None:
        """The records verified, in whole percent of those to verify (None of none)."""
        return None if not self.to_verify else self.verified * 100 // self.to_verify


@dataclass(frozen=True)
class StudyStanding:
    """What ``/study`` shows, of ``sites`` (every site of the study, for ``every_site``)."""

    study: str
    every_site: bool
    sites: list[SiteStanding]
    dashboard: dict[str, Any]
    clocks: list[dict[str, Any]]
    study_locked: bool
    checkpoint: SealedCheckpoint | None
    log_now: Checkpoint
    verification: LastVerification | None
    scopes: list[Scope] = field(default_factory=list)
    """What the page holds, for the disclosure log: the study, or each site shown."""


def reads_every_site(account: Account) -> bool:
    """True when the person's role in force reads the clinical data of every site."""
    role = account.effective_role
    return role is not None and MATRIX[role].get(Action.READ_CLINICAL_DATA) is Reach.ALL_SITES


def study_standing(store: Store, account: Account, study: str) -> StudyStanding:
    """Where ``study`` stands for ``account``: every site, or the sites they read."""
    every_site = reads_every_site(account)
    subjects = [s for s in site_subjects(store.reads, study, None) if reads_site(account, s.site)]
    sites = sorted(
        {s.site for s in subjects} | {s for s in account.sites if reads_site(account, s)}
    )
    dashboard = study_dashboard(store.views, store.reads, study, None if every_site else sites)
    sponsor = store.app.find_account(SPONSOR_ACCOUNT)
    database_locks = () if sponsor is None else sponsor.database_locks
    coverage = {row["site"]: row for row in study_coverage(study, subjects, site=None)["sites"]}
    return StudyStanding(
        study=study,
        every_site=every_site,
        sites=[
            site_standing(
                site, [s for s in subjects if s.site == site], coverage, study, database_locks
            )
            for site in sites
        ],
        dashboard=dashboard,
        clocks=clocks(dashboard),
        study_locked=study in database_locks,
        checkpoint=store.app.checkpoints.latest(),
        log_now=store.app.checkpoints.head(),
        verification=last_verification(store.settings),
        scopes=[Scope(study)] if every_site else [Scope(study, site=site) for site in sites],
    )


def site_standing(
    site: str,
    subjects: list[Subject],
    coverage: dict[str, dict[str, Any]],
    study: str,
    database_locks: tuple[str, ...],
) -> SiteStanding:
    """One site's figures, from its subjects as the log folds them."""
    queries = Counter(query.status for subject in subjects for query in subject.queries)
    locks = Counter(subject.lock_state.value for subject in subjects)
    counted = coverage.get(site, {"verified": 0, "total": 0})
    return SiteStanding(
        site=site,
        subjects=len(subjects),
        open_queries=queries["open"],
        answered_queries=queries["answered"],
        verified=int(counted["verified"]),
        to_verify=int(counted["total"]),
        locks={state.value: locks[state.value] for state in LockState},
        database_locked=database_scope(study, site) in database_locks,
    )


def clocks(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """The SAE notification clocks still running or missed (pending or overdue), most urgent
    first, each with the days left before it is due (negative: overdue by that many)."""
    today = date.fromisoformat(dashboard["as_of"])
    running = [
        {**clock, "days_left": (date.fromisoformat(clock["due_on"]) - today).days}
        for clock in dashboard["notifications"]
        if clock["status"] in ("pending", "overdue")
    ]
    return sorted(running, key=lambda clock: (clock["days_left"], clock["subject"]))
