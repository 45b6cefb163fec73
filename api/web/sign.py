"""``/sign``: an investigator signs the records awaiting their signature, and casebooks at their
milestones, in the browser (21 CFR 11.50, 11.70, 11.200; ICH E6(R3) 2.12).

Three steps, one address: ``GET /sign`` lists what awaits the investigator at their sites, each
subject with its unsigned records to choose and its casebook milestones; ``GET /sign?subject=...``
with the records chosen (``entry``, repeated) or a ``milestone``, and a ``meaning``, shows what
will be signed, in words and as the exact body, with the signing form; ``POST /sign`` takes the
body the browser signed and the ceremony's password to the same service as
``POST /v1/signatures`` (:mod:`api.web.signing`).
"""

from __future__ import annotations

import json
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from markupsafe import escape
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from api.store import get_store
from api.web.awaiting_signature import (
    Signing,
    awaiting,
    casebook_signing,
    records_signing,
    subject_to_sign,
)
from api.web.blueprint import web
from api.web.dates import show_in_site_zone
from api.web.forms import CeremonyForm
from api.web.handing_out import handed_out
from api.web.navigation import in_navigation
from api.web.sessions import LARGER_FORMS, page_for
from api.web.signing import offer, sign
from api.web.wording import gettext as _
from api.web.wording import worded
from domain.actions import Action
from domain.disclosure import HISTORY, UNSIGNED, Scope
from domain.errors import SignatureRefused
from domain.subject import Subject
from domain.vocabulary import Milestone
from domain.wire import to_wire
from infrastructure.views.study_reports import served_study

MEANINGS = {
    "review": "Review: I have reviewed these records",
    "approval": "Approval: I approve these records",
    "responsibility": "Responsibility: I take responsibility for these records",
}
"""What each meaning of a signature over records says (21 CFR 11.50(a)(3)), as offered."""
MILESTONES = {
    Milestone.END_OF_TREATMENT: "end of treatment",
    Milestone.MONTH_6: "month 6",
    Milestone.END_OF_STUDY: "end of study",
}
MAX_FORM = 256 * 1024 + Subject.CasebookSigned.MAX_RECORDS * 240
"""The largest signing form: what any form carries, and a casebook signature naming its most
records, form-encoded (about 100 bytes of JSON a record, its quotes, braces and colons each
written as three; 240 leaves room for long numbers)."""
SELECTION = ("subject", "entry", "milestone", "meaning")
"""The query of the confirmation step, carried by its form so a refusal can show it again."""


@web.route("/sign", methods=["GET", "POST"])
@page_for(Action.SIGN_CLINICAL_RECORDS)
def sign_records() -> Response | str:
    """What awaits the investigator's signature; what a choice signs; the signing."""
    if request.method == "POST":
        return _signed()
    if "subject" in request.args:
        return _confirmation(request.args, CeremonyForm(formdata=None))
    return _awaiting()


def _awaiting(problem: str | None = None) -> str:
    """The list of what awaits the investigator, a copy of the unsigned records report of each
    of their sites; ``problem``, why a choice was not shown."""
    page = render_template(
        "sign.html",
        awaiting=awaiting(get_store(), g.account),
        # What each of up to thousands of choices says, looked up once for the page (a lookup
        # per record cost about as much as the rest of the page); the values escaped by %.
        entry_phrase=escape(_("Entry %(entry)s: %(kind)s")),
        meanings=MEANINGS,
        milestones=MILESTONES,
        problem=problem,
    )
    study = served_study(None)
    return handed_out(page, UNSIGNED, *(Scope(study, site=s) for s in sorted(g.account.sites)))


def _signed() -> Response | str:
    form = CeremonyForm()
    signed = sign(form, g.account)
    if signed is None:
        return _confirmation(request.form, form)
    receipt, _ceremony = signed
    flash(
        _(
            "Signed: %(kind)s of %(subject)s, entry %(version)s, at log position %(position)s.",
            kind=receipt["kind"],
            subject=receipt["subject"],
            version=receipt["version"],
            position=receipt["position"],
        ),
        "done",
    )
    return redirect(url_for("web.sign_records"))


def _confirmation(chosen: MultiDict[str, str], form: CeremonyForm) -> str:
    """The confirmation step for the choice in ``chosen`` (the query, or the form posted back),
    with the body as it is to be signed now, a copy of the records it covers; the list again if
    the choice cannot be signed."""
    subject = subject_to_sign(get_store(), g.account, chosen.get("subject", ""))
    show_in_site_zone(subject.site)
    try:
        signing = _signing(subject, chosen)
    except SignatureRefused as refused:
        return _awaiting(worded(refused))
    selection = [(name, value) for name in SELECTION for value in chosen.getlist(name)]
    page = render_template(
        "sign_confirm.html",
        signing=signing,
        offer=offer(g.account, signing.body),
        form=form,
        selection=selection,
        meaning=MEANINGS[signing.body["meaning"]],
        milestone=MILESTONES.get(signing.milestone) if signing.milestone else None,
        shown=_shown,
        body_text=json.dumps(signing.body, indent=2, ensure_ascii=False, sort_keys=True),
    )
    return handed_out(page, HISTORY, Scope(subject.study_id, subject=subject.subject_code))


def _signing(subject: Subject, chosen: MultiDict[str, str]) -> Signing:
    """The signature the choice asks for: over the records chosen, or the casebook's.

    Raises:
        SignatureRefused: a meaning the signature cannot have, no record chosen, a record
            that is not one, a milestone that is none.
    """
    meaning = chosen.get("meaning", "")
    milestone = chosen.get("milestone")
    kind = Subject.CasebookSigned if milestone is not None else Subject.RecordsSigned
    if meaning not in kind.MEANINGS:
        raise SignatureRefused(
            "Choose what your signature means: %(meanings)s", meanings=", ".join(kind.MEANINGS)
        )
    if milestone is not None:
        try:
            reached = Milestone(milestone)
        except ValueError:
            raise SignatureRefused(
                "%(milestone)r is not a milestone", milestone=milestone
            ) from None
        return casebook_signing(subject, g.account, reached, meaning)
    try:
        entries = [int(entry) for entry in chosen.getlist("entry")]
    except ValueError:
        raise SignatureRefused("A record is chosen by its entry number") from None
    return records_signing(subject, g.account, entries, meaning)


def _shown(value: Any) -> str:
    """A field's value as the record reads: its signed form, a quantity with its unit, the
    parts of a group (a blood count's results) each named."""
    return _said(to_wire(value))


def _said(wire: Any) -> str:
    if isinstance(wire, dict) and set(wire) == {"value", "unit"}:
        return f"{wire['value']} {wire['unit']}"
    if isinstance(wire, dict):
        return ", ".join(f"{name}: {_said(part)}" for name, part in wire.items())
    if isinstance(wire, list):
        return ", ".join(_said(part) for part in wire)
    return str(wire)


in_navigation("web.sign_records", "Sign", Action.SIGN_CLINICAL_RECORDS)
LARGER_FORMS["web.sign_records"] = MAX_FORM
