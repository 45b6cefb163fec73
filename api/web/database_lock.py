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

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from api.store import get_store
from api.web.account_forms import DatabaseLockForm, NothingTypedForm
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


@web.route("/study/database-lock", methods=["GET", "POST"])
@page_for(Action.FREEZE_AND_LOCK)
def database_lock() -> Response | str | tuple[str, int]:
    """The choice of what is locked and why; the bodies to sign; the signed lock recorded."""
    store = get_store()
    study = served_study(None)
    subjects = store.reads.subjects_of(study)
    sites = sorted({subject.site for subject in subjects})
    posted = request.method == "POST"
    asked = (
        DatabaseLockForm(sites=sites) if posted else DatabaseLockForm(sites=sites, formdata=None)
    )
    if not posted or not _given(asked, sites):
        return _page(study, asked=asked), 400 if posted else 200
    site = asked.site.data or None
    reason = str(asked.reason.data)
    in_scope = [
        s for s in subjects if site in (None, s.site) and s.lock_state is not LockState.LOCKED
    ]
    offered = _offered(study, site, reason, in_scope, g.account)
    form = (
        NothingTypedForm() if request.form.get("stage") == SIGN else NothingTypedForm(formdata=None)
    )
    if request.form.get("stage") == SIGN:
        locked = record_database_lock(form, g.account, offered)
        if locked is not None:
            flash(
                _(
                    "%(scope)s locked: %(count)s subjects locked now.",
                    scope=database_scope(study, site),
                    count=locked,
                ),
                "done",
            )
            return redirect(url_for("web.study"))
    hidden = [("stage", SIGN), ("site", site or ""), ("reason", reason)]
    return _page(
        study, asked=asked, form=form, subjects=in_scope, hidden=hidden,
        offer=authorship_offer(g.account, offered),  # type: ignore[arg-type]
    )  # fmt: skip


def _given(asked: DatabaseLockForm, sites: list[str]) -> bool:
    """Whether the form names the whole study or one of its sites, and says why (the
    reasons beside the fields when not)."""
    valid = bool(asked.validate())
    if asked.site.data not in ("", *sites):
        asked.site.errors = [_("Choose the whole study or one of its sites")]
        valid = False
    if says_nothing(str(asked.reason.data or "")) and not asked.reason.errors:
        asked.reason.errors = [_("Say why the database is locked")]
        valid = False
    return valid


def _offered(
    study: str, site: str | None, reason: str, subjects: list[Subject], account: Account
) -> list[dict[str, Any]]:
    """The bodies the lock signs: the sponsor's ``DatabaseLocked`` unless the scope is locked
    already, then each subject's ``SubjectLocked``."""
    signer = (account.user_id, account.printed_name)
    sponsor = get_store().app.account(SPONSOR_ACCOUNT)
    bodies = []
    if database_scope(study, site) not in sponsor.database_locks:
        data = {"study": study, "reason": reason, **({"site": site} if site else {})}
        bodies.append(
            body_to_sign(
                {"account": SPONSOR_ACCOUNT},
                version=sponsor.version + 1,
                kind="DatabaseLocked",
                data=data,
                signer=signer,
            )
        )
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


def _page(study: str, **context: Any) -> str:
    """The page; once it names the subjects it locks, a copy of the subject list."""
    shown = render_template("database_lock.html", study=study, stage_prepare=PREPARE, **context)
    if "subjects" not in context:
        return shown
    return handed_out(shown, SUBJECT_LIST, Scope(study))
