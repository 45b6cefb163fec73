"""Database lock before analysis: a site's or the whole study's, on the sponsor's account.

A sponsor data manager locks a site (or the study) in two signed steps: ``DatabaseLocked`` on
the sponsor's account (``sponsor``), from which no subject is screened there, then one atomic
batch of ``SubjectLocked`` (scope ``site`` or ``study``) over every subject in scope. Recording
the scope first means no subject is screened between the two; a subject whose casebook is not
signed refuses the batch whole, and it is sent again once it is. ``DatabaseReopened`` (with the
reason) lets screening start again; each locked subject keeps its lock until a data manager and
its investigator unlock it (:mod:`domain.subject.locks`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.errors import LockStepRefused, ScreeningClosed
from domain.text import says_nothing

if TYPE_CHECKING:
    from domain.account import Account


def database_scope(study: str, site: str | None) -> str:
    """How a lock's scope is kept: the study, or ``study/site``."""
    return study if site is None else f"{study}/{site}"


def check_database_lock(
    sponsor: Account, study: str, site: str | None, reason: str, *, locking: bool
) -> None:
    """A lock of a scope not locked, a reopening of one that is, each with its reason.

    Raises:
        LockStepRefused: locked already, not locked, or no reason given.
    """
    scope = database_scope(study, site)
    what = f"site {site} of {study}" if site is not None else f"study {study}"
    if locking and scope in sponsor.database_locks:
        raise LockStepRefused("the database of %(what)s is locked already", what=what)
    if not locking and scope not in sponsor.database_locks:
        raise LockStepRefused("the database of %(what)s is not locked", what=what)
    if says_nothing(reason):
        raise LockStepRefused(
            "a database %(value)s says why", value="lock" if locking else "reopening"
        )


def check_screening_open(sponsor: Account | None, study: str, site: str) -> None:
    """No subject is screened at a site whose database, or whose study's, is locked.

    Raises:
        ScreeningClosed: the site or the study is locked.
    """
    locks = () if sponsor is None else sponsor.database_locks
    for scope in (database_scope(study, site), study):
        if scope in locks:
            raise ScreeningClosed(
                "the database of %(scope)s is locked: no subject is screened there "
                "until a sponsor data manager reopens it",
                scope=scope,
            )


def check_part_of_database_lock(sponsor: Account | None, study: str, site: str, scope: str) -> None:
    """A subject locked as part of its site's or the study's lock (``scope`` ``site`` or
    ``study``) is so only once that database lock is recorded: the signed scope says what was
    decided, and a lock alone says ``subject``.

    Raises:
        LockStepRefused: the site's (or study's) database is not locked.
    """
    if scope not in ("site", "study"):
        return
    wanted = database_scope(study, site if scope == "site" else None)
    if sponsor is None or wanted not in sponsor.database_locks:
        raise LockStepRefused(
            "the database of %(wanted)s is not locked: a subject is locked as "
            "part of it once a sponsor data manager has locked it (alone, its "
            "scope is 'subject')",
            wanted=wanted,
        )
