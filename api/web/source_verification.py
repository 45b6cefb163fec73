"""``/subjects/<code>/source-verification``: a monitor verifies a subject's records against the
site's source documents in the browser, as ``sealtrail submit`` of ``SourceVerified`` records
and ``POST /v1/events`` do.

1. ``GET`` lists the subject's records a monitor verifies (every live clinical record, the ones
   of the protocol's risk-based subset marked), each as verified, verified for some fields,
   changed since it was verified (a correction or void changed its record hash, so the
   verification no longer holds), or not verified; each not verified as it stands can be
   chosen.
2. ``POST`` of the records chosen (``stage=choose``) shows the bodies to sign, one
   ``SourceVerified`` a record, each naming the record's hash as it stands now, at the
   subject's next versions; the monitor signs them in their browser with their own key
   (docs/pages.md, "Signing in the browser").
3. ``POST`` of the signed bodies (``stage=sign``) records them together or not at all, with the
   same service as ``POST /v1/events/batch`` (:func:`api.web.signing.record_each`), which
   checks the signature, the role and site, the version and each record's hash again. A
   refusal shows the page again with the reason, the records chosen kept; nothing is recorded.

A role that does not verify source is answered 403 before anything is read; another site's
subject, or a code that names none, 404. The page is a copy of the subject's data, recorded in
the person's disclosure log as the other pages are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from api.web.account_forms import NothingTypedForm
from api.web.blueprint import web
from api.web.handing_out import handed_out
from api.web.sessions import page_for
from api.web.signing import authorship_offer, record_each
from api.web.subjects import offers_work, readable_subject
from api.web.wording import gettext as _
from domain.account import Account
from domain.actions import Action
from domain.disclosure import SOURCE_VERIFICATION, Scope
from domain.permissions import may
from domain.protocol import protocol_for
from domain.subject import Subject
from domain.subject.entries import Entry
from domain.subject.source_verification import (
    SourceVerified,
    risk_based_kinds,
    verifiable,
    verifications_of,
)
from infrastructure.application.bodies import body_to_sign

CHOOSE, SIGN = "choose", "sign"
"""The stages of the page's forms: the records chosen, then their verifications signed."""

MOST_AT_ONCE = 100
"""Records verified in one signing: as many as ``POST /v1/events/batch`` takes at once."""


@dataclass(frozen=True)
class RecordLine:
    """A record a monitor verifies, as the page lists it."""

    entry: Entry
    risk_based: bool
    """Of the protocol's risk-based subset (``[source_verification] kinds``)."""
    standing: str
    """verified, verified in part, changed since verified, or not verified (English)."""
    fields_verified: tuple[str, ...]

    @property
    def to_verify(self) -> bool:
        """Whether the record can be verified now (it is not verified whole as it stands)."""
        return self.standing != VERIFIED


VERIFIED = "Verified as it stands"
IN_PART = "Verified for some fields"
CHANGED = "Changed since it was verified: verify it again"
NOT_VERIFIED = "Not verified"
STANDINGS = (VERIFIED, IN_PART, CHANGED, NOT_VERIFIED)
"""What the page says of a record (phrases the template translates)."""


def record_lines(subject: Subject) -> list[RecordLine]:
    """Each record a monitor verifies, in entry order, with what is verified of it."""
    held = verifications_of(subject)
    once = {entry["entry"] for entry in subject.live(SourceVerified)}
    subset = risk_based_kinds(protocol_for(subject.study_id))
    lines = []
    for record in verifiable(subject, None):
        verification = held.get(record.version)
        if verification is not None and verification.covers(record):
            standing = VERIFIED
        elif verification is not None:
            standing = IN_PART
        elif record.version in once:
            standing = CHANGED
        else:
            standing = NOT_VERIFIED
        risk_based = subset is None or record.kind in subset
        fields = verification.fields if verification is not None else ()
        lines.append(RecordLine(record, risk_based, standing, fields))
    return lines


@offers_work
def verification_offered(account: Account, subject: Subject) -> list[tuple[str, str]]:
    """The page, on the subject's page of a monitor of its site."""
    if not may(account, Action.VERIFY_SOURCE, subject.site):
        return []
    url = url_for("web.source_verification", code=subject.subject_code)
    return [(url, _("Verify its records against source"))]


@web.route("/subjects/<code>/source-verification", methods=["GET", "POST"])
@page_for(Action.VERIFY_SOURCE)
def source_verification(code: str) -> Response | str | tuple[str, int]:
    """The subject's records and what is verified of them; the verifications chosen, to sign;
    the signed verifications, recorded."""
    study, _summary, subject = readable_subject(code)
    lines = record_lines(subject)
    choosable = {line.entry.version: line.entry for line in lines if line.to_verify}
    chosen = _chosen(choosable) if request.method == "POST" else []
    stage = request.form.get("stage", "") if request.method == "POST" else ""
    form = NothingTypedForm() if request.method == "POST" else NothingTypedForm(formdata=None)
    if request.method == "POST" and not chosen:
        form.form_errors.append(_("Choose the records you verified against source"))
        return _page(study, subject, lines, form), 400
    if len(chosen) > MOST_AT_ONCE:
        form.form_errors.append(_("Choose at most %(most)s records at once", most=MOST_AT_ONCE))
        return _page(study, subject, lines, form), 400
    if stage == SIGN:
        abouts = [{"entry": e.version, "entry_kind": e.kind} for e in chosen]
        receipts = record_each(form, g.account, SourceVerified.kind(), code, abouts)
        if receipts is not None:
            flash(
                _(
                    "%(count)s records of %(subject)s verified against source, at log "
                    "positions %(first)s to %(last)s.",
                    count=len(receipts),
                    subject=code,
                    first=receipts[0]["position"],
                    last=receipts[-1]["position"],
                ),
                "done",
            )
            return redirect(url_for("web.source_verification", code=code))
    if not chosen:
        return _page(study, subject, lines, form)
    bodies = [
        body_to_sign(
            {"study": study, "subject": code},
            version=subject.version + number,
            kind=SourceVerified.kind(),
            data={"entry": e.version, "entry_kind": e.kind, "record_hash": e.record_hash},
            signer=(g.account.user_id, g.account.printed_name),
        )
        for number, e in enumerate(chosen, start=1)
    ]
    return _page(
        study, subject, lines, form,
        chosen=chosen, offer=authorship_offer(g.account, bodies),  # type: ignore[arg-type]
        hidden=[("stage", SIGN), *(("entry", str(e.version)) for e in chosen)],
    )  # fmt: skip


def _chosen(choosable: dict[int, Entry]) -> list[Entry]:
    """The records the form chose, in entry order: those still to verify among ``entry``'s
    values (any other value, a record verified already or none, is left out)."""
    numbers = {int(n) for n in request.form.getlist("entry") if n.isdecimal() and len(n) < 10}
    return [choosable[n] for n in sorted(numbers) if n in choosable]


def _page(
    study: str, subject: Subject, lines: list[RecordLine], form: NothingTypedForm, **more: Any
) -> str:
    """The page, recorded as a copy of the subject's data it shows."""
    page = render_template(
        "subjects/source_verification.html",
        subject=subject,
        lines=lines,
        form=form,
        stage_choose=CHOOSE,
        stage_sign=SIGN,
        verified=sum(1 for line in lines if not line.to_verify),
        **more,
    )
    return handed_out(page, SOURCE_VERIFICATION, Scope(study, subject=subject.subject_code))
