"""``/study/database-lock``: a sponsor data manager locks a site's or the whole study's database
in the browser, as ``sealtrail lock site|study`` does at the console: the sponsor's
``DatabaseLocked`` (no subject is screened there after it), then one ``SubjectLocked`` (scope
``site`` or ``study``) for each subject in scope not locked yet, all or none.

1. The data manager chooses the site (or the whole study) and says why.
2. The page offers the bodies: the sponsor's ``DatabaseLocked`` at its account's next version
   (left out when the scope is locked already, as the console leaves it out), then each
   subject's ``SubjectLocked`` at its next version, the reason in each; the data manager signs
   them in their browser with their own key (docs/pages.md, "Signing in the browser").
3. The signed bodies, each exactly as offered, are recorded by the same services as
   ``POST /v1/accounts`` and ``POST /v1/events/batch``
   (:func:`api.web.signing.record_database_lock`), which check the rest (the role, the
   versions, a casebook signed as it stands before its subject is locked). A refusal shows the
   page again with the reason; nothing of the subjects is recorded.

The page shows which subjects it locks: a copy of the subject list, recorded as ``/subjects``
records it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from api.store import get_store
from api.web.account_forms import DatabaseLockForm, DatabaseReopenForm, NothingTypedForm
from api.web.blueprint import web
from api.web.handing_out import handed_out
from api.web.sessions import page_for
from api.web.signing import authorship_offer, record_database_lock
from api.web.wording import gettext as _
from domain.account import SPONSOR_ACCOUNT, Account
from domain.actions import Action
from domain.database_lock import database_scope
from domain.disclosure import SUBJECT_LIST, Scope
from domain.subject import Subject
from domain.subject.locks import LockScope, LockState
from domain.text import says_nothing
from infrastructure.application.bodies import body_to_sign
from infrastructure.views.study_reports import served_study

PREPARE, SIGN = "prepare", "sign"


@dataclass(frozen=True)
class DatabaseStep:
    """A step of a site's or the study's database on the page: its form (the scopes it
    offers), its template's wording, the bodies it signs, and what the page says once they
    are recorded."""

    form: Callable[..., DatabaseLockForm]
    offered: Callable[[str, str | None, str, list[Subject], Account], list[dict[str, Any]]]
    in_scope: Callable[[Subject], bool]
    done: str
    reopening: bool


def _reopened(
    study: str, site: str | None, reason: str, _subjects: list[Subject], account: Account
) -> list[dict[str, Any]]:
    """The sponsor's ``DatabaseReopened`` of the scope, at its account's next version."""
    return [_sponsors("DatabaseReopened", study, site, reason, account)]


LOCK = DatabaseStep(
    lambda sites, _locked, **kwargs: DatabaseLockForm(sites=sites, **kwargs),
    lambda *given: _offered(*given),
    lambda subject: subject.lock_state is not LockState.LOCKED,
    "%(scope)s locked: %(count)s subjects locked now.",
    reopening=False,
)
REOPEN = DatabaseStep(
    lambda _sites, locked, **kwargs: DatabaseReopenForm(locked=locked, **kwargs),
    _reopened,
    lambda _subject: False,
    "%(scope)s reopened: subjects are screened there again; each locked subject stays locked.",
    reopening=True,
)


@web.route("/study/database-lock", methods=["GET", "POST"])
@page_for(Action.FREEZE_AND_LOCK)
def database_lock() -> Response | str | tuple[str, int]:
    """The choice of what is locked and why; the bodies to sign; the signed lock recorded."""
    return _database_step(LOCK)


@web.route("/study/database-lock/reopen", methods=["GET", "POST"])
@page_for(Action.FREEZE_AND_LOCK)
def database_reopen() -> Response | str | tuple[str, int]:
    """The choice of the locked site (or the study) reopened and why; the body to sign; the
    signed reopening recorded, as ``sealtrail reopen site|study`` records it."""
    return _database_step(REOPEN)


def _database_step(step: DatabaseStep) -> Response | str | tuple[str, int]:
    store = get_store()
    study = served_study(None)
    subjects = store.reads.subjects_of(study)
    sites = sorted({subject.site for subject in subjects})
    locked = _locked_scopes(study)
    posted = request.method == "POST"
    asked = step.form(sites, locked) if posted else step.form(sites, locked, formdata=None)
    if not posted or not _given(asked, step):
        return _page(study, step, asked=asked, locked=locked), 400 if posted else 200
    site = asked.site.data or None
    reason = str(asked.reason.data)
    in_scope = [s for s in subjects if site in (None, s.site) and step.in_scope(s)]
    offered = step.offered(study, site, reason, in_scope, g.account)
    form = (
        NothingTypedForm() if request.form.get("stage") == SIGN else NothingTypedForm(formdata=None)
    )
    if request.form.get("stage") == SIGN:
        count = record_database_lock(form, g.account, offered)
        if count is not None:
            flash(_(step.done, scope=database_scope(study, site), count=count), "done")
            return redirect(url_for("web.study"))
    hidden = [("stage", SIGN), ("site", site or ""), ("reason", reason)]
    return _page(
        study, step, asked=asked, form=form, subjects=in_scope, hidden=hidden,
        offer=authorship_offer(g.account, offered),  # type: ignore[arg-type]
    )  # fmt: skip


def _locked_scopes(study: str) -> list[str | None]:
    """The study's databases locked now: None for the whole study, else each site locked."""
    locks = get_store().app.account(SPONSOR_ACCOUNT).database_locks
    sites = sorted(scope.split("/", 1)[1] for scope in locks if scope.startswith(f"{study}/"))
    return [*([None] if study in locks else []), *sites]


def _given(asked: DatabaseLockForm, step: DatabaseStep) -> bool:
    """Whether the form names one of the scopes offered, and says why (the reasons beside the
    fields when not)."""
    valid = bool(asked.validate())
    if asked.site.data not in [value for value, _label in asked.site.choices]:
        asked.site.errors = [
            _("Choose a locked site or the whole study")
            if step.reopening
            else _("Choose the whole study or one of its sites")
        ]
        valid = False
    if says_nothing(str(asked.reason.data or "")) and not asked.reason.errors:
        asked.reason.errors = [
            _("Say why the database is reopened")
            if step.reopening
            else _("Say why the database is locked")
        ]
        valid = False
    return valid


def _sponsors(
    kind: str, study: str, site: str | None, reason: str, account: Account
) -> dict[str, Any]:
    """The sponsor's ``kind`` (a database locked or reopened) of the scope, at its account's
    next version, signed by ``account``."""
    sponsor = get_store().app.account(SPONSOR_ACCOUNT)
    return body_to_sign(
        {"account": SPONSOR_ACCOUNT},
        version=sponsor.version + 1,
        kind=kind,
        data={"study": study, "reason": reason, **({"site": site} if site else {})},
        signer=(account.user_id, account.printed_name),
    )


def _offered(
    study: str, site: str | None, reason: str, subjects: list[Subject], account: Account
) -> list[dict[str, Any]]:
    """The bodies the lock signs: the sponsor's ``DatabaseLocked`` unless the scope is locked
    already, then each subject's ``SubjectLocked``."""
    signer = (account.user_id, account.printed_name)
    sponsor = get_store().app.account(SPONSOR_ACCOUNT)
    bodies = []
    if database_scope(study, site) not in sponsor.database_locks:
        bodies.append(_sponsors("DatabaseLocked", study, site, reason, account))
    scope = (LockScope.STUDY if site is None else LockScope.SITE).value
    bodies.extend(
        body_to_sign(
            {"study": study, "subject": subject.subject_code},
            version=subject.version + 1,
            kind=Subject.SubjectLocked.kind(),
            data={"scope": scope, "reason": reason},
            signer=signer,
        )
        for subject in subjects
    )
    return bodies


def _page(study: str, step: DatabaseStep, **context: Any) -> str:
    """The page; once it names the subjects it locks, a copy of the subject list."""
    shown = render_template(
        "database_lock.html",
        study=study,
        stage_prepare=PREPARE,
        reopening=step.reopening,
        **context,
    )
    if "subjects" not in context or step.reopening:
        return shown
    return handed_out(shown, SUBJECT_LIST, Scope(study))
