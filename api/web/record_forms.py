"""A site's records entered in the browser: ``/subjects/<code>/record/<Kind>``, a form for each
record kind a site enters (``domain.subject.SITE_RECORDS``), generated from the kind's one
declaration (:mod:`api.web.record_fields`); and ``/subjects/screen``, which asks a new subject's
code and leads to its screening's form.

1. ``GET`` shows the form. ``POST`` (what was typed) checks it as the API would before anything
   is signed: the ``data`` with the API's own schema of the kind, then who may record it, the
   subject, the delegation log and the kind's own rules on the subject as it stands
   (``Records.check_unsigned``). A refusal shows the form again, each message beside its field,
   what was typed kept; nothing is recorded.
2. Once it passes, the page shows the record and the body to sign (the subject's next version,
   the kind, the data, the author: the body less its ``key_id`` and ``signed_at``), which the
   person signs in their browser with their own key (docs/pages.md, "Signing in the browser");
   the signing form carries what was typed (``stage=sign``), and *Change what you typed* takes
   it back to the form (``stage=change``).
3. The signed body and signature are recorded by the same service as ``POST /v1/events``
   (:func:`api.web.signing.record`), if the body is exactly the one offered (its kind, its
   subject, its data as the form typed it): the signature, the role, the site, locks and the
   protocol's rules are checked there again. A refusal shows the form again with the reason;
   success goes to the subject's page, saying the log position.

A role that enters no clinical data is answered 403 before anything is read; another site's
subject, a code that names no subject and a kind that is no site's record (a query, a
correction, a signature, a lock step) 404.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import abort, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from api.schemas.fields import is_code
from api.schemas.records import typed_fields
from api.store import get_store
from api.web.blueprint import web
from api.web.forms import NewSubjectForm
from api.web.handing_out import handed_out
from api.web.record_fields import (
    FORMATS,
    SCREENED,
    RecordForm,
    described,
    form_class,
    in_words,
    place_errors,
    typed_data,
)
from api.web.sessions import page_for
from api.web.signing import REFUSALS, authorship_offer, record
from api.web.subjects import readable, readable_subject
from api.web.wording import gettext as _
from api.web.wording import worded
from domain.actions import Action
from domain.disclosure import RECORD_FORM, Scope
from domain.errors import SubjectNotFound
from domain.subject import SITE_RECORDS, Subject, subject_stream
from infrastructure.application.bodies import body_to_sign
from infrastructure.views.study_reports import served_study

SIGN, CHANGE = "sign", "change"
"""The signing form's stage (what was typed, signed), and *Change what you typed*'s."""


@web.route("/subjects/<code>/record/<kind>", methods=["GET", "POST"])
@page_for(Action.RECORD_CLINICAL_DATA)
def record_form(code: str, kind: str) -> Response | str:
    """The form of record ``kind`` of subject ``code``; what it checks, offers and records."""
    if kind not in SITE_RECORDS:
        abort(404, description=_("%(kind)s is not a record a site enters.", kind=kind))
    study, subject = _subject_for(code, kind)
    form = form_class(kind, study)(formdata=request.form if request.method == "POST" else None)
    stage = request.form.get("stage", "") if request.method == "POST" else CHANGE
    if stage == CHANGE:
        return _form_page(form, study, code, subject)
    data = _checked(form, study, code)
    if data is None:
        return _form_page(form, study, code, subject)
    if stage == SIGN:
        receipt = record(form, g.account, kind, code, data, whole=True)
        if receipt is None:
            return _form_page(form, study, code, subject)
        said = _(
            "%(kind)s of %(subject)s recorded at log position %(position)s, entry %(entry)s.",
            kind=kind, subject=code, position=receipt["position"], entry=receipt["version"],
        )  # fmt: skip
        flash(said, "done")
        return redirect(url_for("web.subject", code=code, _anchor=f"entry-{receipt['version']}"))
    return _signing_page(form, study, code, subject, data)


@web.get("/subjects/screen")
@page_for(Action.RECORD_CLINICAL_DATA)
def screen_subject() -> Response | str:
    """Ask a new subject's code, then lead to its screening's form (a GET form: asking
    changes nothing)."""
    form = NewSubjectForm(request.args if "code" in request.args else None)
    if "code" in request.args and form.validate():
        code = str(form.code.data)
        if _reads_subject(served_study(None), code):
            form.code.errors = [_("%(subject)s is screened already: open its page.", subject=code)]
        else:
            return redirect(url_for("web.record_form", code=code, kind=SCREENED))
    return render_template("records/new_subject.html", form=form)


def _subject_for(code: str, kind: str) -> tuple[str, Subject | None]:
    """The study and the subject a record of ``kind`` is about: the subject as the person may
    read it (another site's, or none, 404), or for a screening a code that names no subject
    yet (whether it does is the service's to say, as over the API)."""
    if kind != SCREENED:
        study, _summary, subject = readable_subject(code)
        return study, subject
    if not is_code(code):
        abort(404, description=_("A subject code such as RP-01 is letters, digits and dashes."))
    return served_study(None), None


def _checked(form: RecordForm, study: str, code: str) -> dict[str, Any] | None:
    """The record's ``data`` from what was typed, once the API's schema and the checks that
    need no signature pass; None, the reasons in ``form``, otherwise."""
    data = typed_data(form)
    try:
        fields = typed_fields(form.kind, data)
    except ma.ValidationError as error:
        place_errors(form, error.messages_dict)
        return None
    try:
        get_store().records.check_unsigned(
            g.account, subject_stream(study, code), form.kind, fields
        )
    except REFUSALS as refused:
        form.form_errors.append(worded(refused))
        return None
    return data


def _form_page(form: RecordForm, study: str, code: str, subject: Subject | None) -> str:
    return _page("records/form.html", form, study, code, subject, formats=FORMATS)


def _signing_page(
    form: RecordForm, study: str, code: str, subject: Subject | None, data: dict[str, Any]
) -> str:
    """What the person is about to sign: the record in words and the body, with the signing
    form carrying what was typed."""
    account = g.account
    body = body_to_sign(
        {"study": study, "subject": code},
        version=1 if subject is None else subject.version + 1,
        kind=form.kind,
        data=data,
        signer=(account.user_id, account.printed_name),
    )
    return _page(
        "records/sign.html", form, study, code, subject,
        shown=in_words(form, data), offer=authorship_offer(account, body), typed=form.typed(),
    )  # fmt: skip


def _page(
    template: str, form: RecordForm, study: str, code: str, subject: Subject | None, **more: Any
) -> str:
    """A page of the record's form, recorded as a copy of the subject's data it shows."""
    page = render_template(
        template,
        form=form,
        kind=form.kind,
        about=described(form.kind),
        code=code,
        subject=subject,
        **more,
    )
    return handed_out(page, RECORD_FORM, Scope(study, subject=code))


def _reads_subject(study: str, code: str) -> bool:
    """Whether ``code`` names a subject the person reads (one of another site, or none, is
    for the service to refuse when the screening is checked, as over the API)."""
    try:
        readable(study, code, get_store().views.get, lambda found: found["site"])
    except SubjectNotFound:
        return False
    return True
