"""``/subjects/<code>/lock-steps/<step>``: the steps that close a subject's records, in the
browser, as ``sealtrail freeze``, ``sealtrail lock subject`` and ``sealtrail unlock
request|approve`` take them at the console: a sponsor data manager freezes, locks, or asks to
unlock (saying why); the site's investigator approves the unlock asked for.

Each step is a signed event of the subject's stream, signed **in the person's browser** with
their own key (docs/pages.md, "Signing in the browser"; meaning ``authorship``, as over the API)
and recorded by the same service as ``POST /v1/events`` (:func:`api.web.signing.record`), whose
checks decide what may be recorded: the role and the site, the version signed, the subject's
lock state, a reason that says something, a casebook signed as it stands before a lock, an
unlock approved by another person than who asked. A refusal shows the form again with the
reason, what was typed kept, and nothing recorded.

A role that never takes the step is answered 403 before anything is read; another site's
subject, a code that names none, or no such step, 404; a step that does not apply to the subject
as it stands (a freeze of a frozen subject, an approval with no request pending) is not offered
(409). Each page is a copy of the subject's data, recorded in the person's disclosure log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from api.web.account_forms import AccountReasonForm, NothingTypedForm
from api.web.blueprint import web
from api.web.forms import SignedBodyForm
from api.web.handing_out import handed_out
from api.web.sessions import page_for
from api.web.signing import authorship_offer, record
from api.web.subjects import offers_work, readable_subject
from api.web.wording import gettext as _
from domain.account import Account
from domain.actions import Action
from domain.disclosure import SUBJECT_PAGE, Scope
from domain.errors import NotPermitted
from domain.permissions import check_role_may, may
from domain.subject import Subject
from domain.subject.locks import LockScope, LockState, pending_unlock_request
from infrastructure.application.bodies import body_to_sign


@dataclass(frozen=True)
class LockStepPage:
    """One step's page: the event it signs, who takes it, its words, its form, the data the
    server fixes, and whether it applies to the subject as it stands."""

    kind: str
    action: Action
    title: str
    button: str
    form: Callable[..., SignedBodyForm]
    """The form: a reason the person types and signs, or nothing typed."""
    fixed: Callable[[Subject], dict[str, Any]]
    applies: Callable[[Subject], bool]


def _open_again(subject: Subject) -> bool:
    return subject.lock_state is not LockState.OPEN and pending_unlock_request(subject) is None


STEPS: dict[str, LockStepPage] = {
    "freeze": LockStepPage(
        Subject.SubjectFrozen.kind(),
        Action.FREEZE_AND_LOCK,
        "Freeze the subject's records",
        "Sign and freeze",
        AccountReasonForm,
        lambda _subject: {},
        lambda subject: subject.lock_state is LockState.OPEN,
    ),
    "lock": LockStepPage(
        Subject.SubjectLocked.kind(),
        Action.FREEZE_AND_LOCK,
        "Lock the subject's records",
        "Sign and lock",
        AccountReasonForm,
        lambda _subject: {"scope": LockScope.SUBJECT.value},
        lambda subject: subject.lock_state is not LockState.LOCKED,
    ),
    "request-unlock": LockStepPage(
        Subject.SubjectUnlockRequested.kind(),
        Action.FREEZE_AND_LOCK,
        "Ask to unlock the subject's records",
        "Sign and ask to unlock",
        AccountReasonForm,
        lambda _subject: {},
        _open_again,
    ),
    "approve-unlock": LockStepPage(
        Subject.SubjectUnlocked.kind(),
        Action.SIGN_CLINICAL_RECORDS,
        "Approve the unlock asked for",
        "Sign and unlock",
        NothingTypedForm,
        lambda subject: {"request": pending_unlock_request(subject)},
        lambda subject: pending_unlock_request(subject) is not None,
    ),
}
"""The steps the pages take, by the last part of their URL."""


@offers_work
def steps_offered(account: Account, subject: Subject) -> list[tuple[str, str]]:
    """The steps ``account`` takes at the subject's site that apply to it as it stands."""
    return [
        (url_for("web.lock_step", code=subject.subject_code, step=slug), _(page.title))
        for slug, page in STEPS.items()
        if may(account, page.action, subject.site) and page.applies(subject)
    ]


@web.route("/subjects/<code>/lock-steps/<step>", methods=["GET", "POST"])
@page_for(None)
def lock_step(code: str, step: str) -> Response | str:
    """The form of ``step`` of subject ``code``; its signed event."""
    page = STEPS.get(step)
    if page is None:
        abort(404, description=_("There is no such step of a subject's lock."))
    try:
        check_role_may(g.account, page.action)
    except NotPermitted as refused:
        abort(403, description=str(refused))
    study, _summary, subject = readable_subject(code)
    signing = request.method == "POST"
    if not signing and not page.applies(subject):
        abort(409, description=_("This step does not apply to the subject as it stands."))
    form = page.form() if signing else page.form(formdata=None)
    if signing:
        receipt = record(form, g.account, page.kind, code, page.fixed(subject))
        if receipt is not None:
            flash(
                _(
                    "%(kind)s of %(subject)s recorded at log position %(position)s.",
                    kind=page.kind,
                    subject=code,
                    position=receipt["position"],
                ),
                "done",
            )
            return redirect(url_for("web.subject", code=code))
    body = body_to_sign(
        {"study": study, "subject": code},
        version=subject.version + 1,
        kind=page.kind,
        data=page.fixed(subject),
        signer=(g.account.user_id, g.account.printed_name),
    )
    shown = render_template(
        "subjects/lock_step.html",
        page=page,
        subject=subject,
        form=form,
        offer=authorship_offer(g.account, body),
        pending=pending_unlock_request(subject),
    )
    return handed_out(shown, SUBJECT_PAGE, Scope(study, subject=code))
