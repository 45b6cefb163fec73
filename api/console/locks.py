"""``sealtrail freeze``, ``sealtrail lock subject|site|study``, ``sealtrail reopen site|study``
and ``sealtrail unlock request|approve``: the steps that close a subject's data (issue 18, point
3), each signed with the person's own key (``--as USER --key FILE``) after their password is
checked, and recorded through the same write path as a site's submission.

A sponsor data manager freezes and locks; a site's or the study's lock is the sponsor's
``DatabaseLocked`` (no subject is screened there after it), then one batch of ``SubjectLocked``
over its subjects not locked yet, all or none. The data manager reopens a site or the study with
the sponsor's ``DatabaseReopened`` (screening starts again; locked subjects stay locked). An
unlock is asked by a data manager with the reason and approved by the site's investigator.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from api.console.administration import signer_options
from api.console.command import one_line_errors, store_command
from api.console.exits import USAGE, fail
from api.console.people import signatory
from api.schemas.submissions import submission_from
from domain.account import SPONSOR_ACCOUNT
from domain.database_lock import database_scope
from domain.errors import LockStepRefused
from domain.permissions import not_screened
from domain.subject import Subject, subject_stream
from domain.subject.locks import LockScope, LockState, pending_unlock_request
from domain.text import says_nothing
from infrastructure.application.bodies import signed_event_body
from infrastructure.application.commands import (
    LockDatabase,
    RecordBatch,
    RecordEvent,
    Signatory,
    Submission,
)
from infrastructure.bootstrap import Store
from signatures.authorship import sign_body
from signatures.keys import key_id

STUDY_OPTION = click.option("--study", default="NCT01297972", show_default=True)
SUBJECT_OPTION = click.option("--subject", required=True, help="The subject's code, e.g. RP-01")
REASON_OPTION = click.option("--reason", required=True, help="Why (kept in the signed event)")
SITE_OPTION = click.option("--site", required=True, help="The site, e.g. RP")
REOPEN_REASON_OPTION = click.option(
    "--reason", default="", help="Why the database is reopened (required; kept in the signed event)"
)


def lock_step(command: Callable[..., Any]) -> Callable[..., Any]:
    """A step signed by the person at the console: ``--as`` and ``--key`` (passed as one
    ``person``, authenticated by password), its errors in one line (exit 1 when refused), the
    store opened around it."""

    @wraps(command)
    def by_person(
        store: Store, *args: Any, acting_as: str, signing_key: Path, **kwargs: Any
    ) -> Any:
        return command(store, *args, person=signatory(store, acting_as, signing_key), **kwargs)

    return signer_options("a sponsor data manager; to approve an unlock, the site's investigator")(
        one_line_errors(store_command(by_person))
    )


def signed_step(
    store: Store, person: Signatory, study: str, code: str, kind: str, data: dict[str, Any]
) -> Submission:
    """The person's signed body of one ``kind`` for the subject, at its next version."""
    subject = store.app.find_subject(subject_stream(study, code))
    body = signed_event_body(
        {"study": study, "subject": code},
        version=1 if subject is None else subject.version + 1,
        kind=kind,
        data=data,
        signer=(person.user_id, person.printed_name),
        key_id=key_id(person.private_key.public_key()),
    )
    return submission_from(body, sign_body(person.private_key, body)[1])


def record_step(
    store: Store, person: Signatory, study: str, code: str, kind: str, data: dict[str, Any]
) -> None:
    """Sign and record one step of a subject; prints the server's receipt."""
    submission = signed_step(store, person, study, code, kind, data)
    receipt = store.records.record(RecordEvent(submission, person.user_id))
    click.echo(json.dumps(receipt, indent=2))


@click.command()
@STUDY_OPTION
@SUBJECT_OPTION
@REASON_OPTION
@lock_step
def freeze(store: Store, person: Signatory, study: str, subject: str, reason: str) -> None:
    """Freeze a subject: no new record or correction (queries and signatures go on)."""
    record_step(store, person, study, subject, Subject.SubjectFrozen.kind(), {"reason": reason})


@click.group()
def lock() -> None:
    """Lock a subject, a site or the whole study (database lock before analysis)."""


@lock.command("subject")
@STUDY_OPTION
@SUBJECT_OPTION
@REASON_OPTION
@lock_step
def lock_subject(store: Store, person: Signatory, study: str, subject: str, reason: str) -> None:
    """Lock one subject (its casebook signed as it stands): nothing but an unlock after it."""
    data = {"scope": LockScope.SUBJECT.value, "reason": reason}
    record_step(store, person, study, subject, Subject.SubjectLocked.kind(), data)


def lock_database(store: Store, person: Signatory, command: LockDatabase) -> None:
    """The sponsor's ``DatabaseLocked``, then every subject in scope not locked yet in one
    batch (all or none: a subject whose casebook is not signed refuses it, and running the
    command again after it is signed locks the rest)."""
    sponsor = store.app.find_account(SPONSOR_ACCOUNT)
    scope = database_scope(command.study, command.site)
    if sponsor is None or scope not in sponsor.database_locks:
        store.administration.lock_database(command, by=person)
    in_scope = [
        subject
        for subject in store.reads.subjects_of(command.study)
        if command.site in (None, subject.site) and subject.lock_state is not LockState.LOCKED
    ]
    data = {
        "scope": (LockScope.STUDY if command.site is None else LockScope.SITE).value,
        "reason": command.reason,
    }
    kind = Subject.SubjectLocked.kind()
    submissions = [
        signed_step(store, person, command.study, subject.subject_code, kind, data)
        for subject in in_scope
    ]
    if submissions:
        store.records.record_batch(RecordBatch(submissions, person.user_id))
    click.echo(f"locked {scope}: {len(submissions)} subject(s) locked now")


@click.group()
def reopen() -> None:
    """Reopen a site's or the study's locked database, saying why: subjects are screened there
    again (each locked subject stays locked until it is unlocked)."""


def reopen_database(store: Store, person: Signatory, command: LockDatabase) -> None:
    """The sponsor's ``DatabaseReopened``, signed by the data manager at the console."""
    store.administration.lock_database(command, by=person, reopen=True)
    scope = database_scope(command.study, command.site)
    click.echo(f"reopened {scope}: subjects are screened there again (locked ones stay locked)")


DatabaseStep = Callable[[Store, Signatory, LockDatabase], None]


def database_commands(
    group: click.Group,
    step: DatabaseStep,
    reason_option: Callable[[Callable[..., Any]], Callable[..., Any]],
    helps: tuple[str, str],
) -> None:
    """``GROUP site --site S`` and ``GROUP study``: the database ``step`` of a site or of the
    study, with the reason as ``reason_option`` takes it; ``helps``: their help, site's first."""

    @group.command("site", help=helps[0])
    @STUDY_OPTION
    @SITE_OPTION
    @reason_option
    @lock_step
    def of_site(store: Store, person: Signatory, study: str, site: str, reason: str) -> None:
        step(store, person, LockDatabase(SPONSOR_ACCOUNT, study, reason, site))

    @group.command("study", help=helps[1])
    @STUDY_OPTION
    @reason_option
    @lock_step
    def of_study(store: Store, person: Signatory, study: str, reason: str) -> None:
        step(store, person, LockDatabase(SPONSOR_ACCOUNT, study, reason))


def given_reason(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--reason``, required: missing or blank it is wrong usage, said in one line (exit 2)
    before the password is checked or the store opened (click's own message takes several)."""

    @wraps(command)
    def checked(*args: Any, reason: str, **kwargs: Any) -> Any:
        if says_nothing(reason):
            fail("--reason is required: say why the database is reopened", USAGE)
        return command(*args, reason=reason, **kwargs)

    return REOPEN_REASON_OPTION(checked)


database_commands(
    lock,
    lock_database,
    REASON_OPTION,
    (
        "Lock a site's database: no subject screened there, and every subject of it locked.",
        "Lock the study's database: no subject screened, and every subject locked.",
    ),
)
database_commands(
    reopen,
    reopen_database,
    given_reason,
    (
        "Reopen a site's database (a sponsor data manager), saying why.",
        "Reopen the study's database (a sponsor data manager), saying why.",
    ),
)


@click.group()
def unlock() -> None:
    """Unlock a subject: a data manager asks, with the reason; the investigator approves."""


@unlock.command("request")
@STUDY_OPTION
@SUBJECT_OPTION
@REASON_OPTION
@lock_step
def unlock_request(store: Store, person: Signatory, study: str, subject: str, reason: str) -> None:
    """Ask to unlock (or unfreeze) a subject, saying why (a sponsor data manager)."""
    kind = Subject.SubjectUnlockRequested.kind()
    record_step(store, person, study, subject, kind, {"reason": reason})


@unlock.command("approve")
@STUDY_OPTION
@SUBJECT_OPTION
@lock_step
def unlock_approve(store: Store, person: Signatory, study: str, subject: str) -> None:
    """Approve the pending unlock request of a subject of your site (its investigator)."""
    found = store.app.find_subject(subject_stream(study, subject))
    if found is None:
        raise not_screened(subject_stream(study, subject))
    request = pending_unlock_request(found)
    if request is None:
        raise LockStepRefused("%(subject)s has no unlock request pending", subject=subject)
    kind = Subject.SubjectUnlocked.kind()
    record_step(store, person, study, subject, kind, {"request": request})
