"""The guard sequence every write of a subject's record runs, alone or in a batch.

In order: the body is signed by the person sending it; the person's role allows the kind of
write, and another site's subject answers as one that does not exist; the subject is screened
(unless this is its screening); the versions the author saw and signed are the subject's; the
person may enter this kind at this site; then the kind's own rules, in the domain. A write
alone answers its own retry between the first two checks and the rest (:meth:`Records.record`);
a batch answers its retry whole, before any of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.account import Account
from domain.attribution import check_meaning
from domain.authorship import authored
from domain.errors import SubjectAlreadyScreened, UnknownRecordKind, VersionConflict
from domain.permissions import (
    check_may_at_subject,
    check_may_write,
    check_role_may,
    check_signs_as_self,
    not_screened,
    submit_action,
)
from domain.protocol import protocol_for
from domain.signed import check_signed_version
from domain.subject import KINDS, RECORDERS, SIGNED_IN_CEREMONY, Subject
from domain.subject.aggregate import check_screening
from infrastructure.application.commands import Submission
from infrastructure.errors import SigningCeremonyRequired

SCREENED = Subject.Screened.__name__


def check_may_reach(actor: Account, subject: Subject | None, submission: Submission) -> None:
    """The first checks: who signed, and whether the actor may reach this subject at all.

    The role first (saying nothing of the subject); then another site's subject answers as
    one that does not exist (the same detail). A screening names its own site and is checked
    against it (a code already taken at another site is then already screened, naming no
    site: codes are unique in a study).
    """
    check_signs_as_self(actor, submission.signer_user_id)
    action = submit_action(submission.kind)
    check_role_may(actor, action)
    if subject is not None and submission.kind != SCREENED:
        check_may_at_subject(actor, action, subject.site, submission.stream)


def admit(actor: Account, subject: Subject | None, submission: Submission) -> Subject:
    """The rest of the sequence, ending with the kind's command: the subject as changed.

    Raises:
        SubjectNotFound, VersionConflict, VersionNotSigned, NotPermitted, MeaningInvalid,
        SubjectAlreadyScreened, SigningCeremonyRequired, UnknownRecordKind and the kind's
        ProtocolViolation kinds.
    """
    if subject is None and submission.kind != SCREENED:
        raise not_screened(submission.stream)
    check_expected_version(subject, submission)
    site = _site_of(subject, submission)
    check_may_write(actor, submission.kind, site, str(submission.body["study"]))
    with authored(submission.authorship, idempotency_key=submission.idempotency_key):
        return _apply(subject, submission)


def check_unsigned(
    actor: Account, subject: Subject | None, stream: str, kind: str, fields: Mapping[str, Any]
) -> None:
    """The sequence's checks a record takes before it is signed, in the same order: the role,
    another site's subject as one that does not exist, the subject screened (or for a screening
    not yet), the person's delegation at the site, and the kind's own rules on the subject as it
    stands. ``fields`` are the record's typed values. Nothing is changed.

    Raises:
        NotPermitted, SubjectNotFound, SubjectAlreadyScreened and the kind's ProtocolViolation
        kinds.
    """
    action = submit_action(kind)
    check_role_may(actor, action)
    study = stream.split("/", 1)[0]
    if kind == SCREENED:
        if subject is not None:
            raise SubjectAlreadyScreened("%(stream)s is already screened", stream=stream)
        check_may_write(actor, kind, str(fields.get("site")), study)
        check_screening(fields, protocol_for(study))
        return
    if subject is None:
        raise not_screened(stream)
    check_may_at_subject(actor, action, subject.site, stream)
    check_may_write(actor, kind, subject.site, study)
    subject.check_new(KINDS[kind], fields)


def check_expected_version(subject: Subject | None, submission: Submission) -> None:
    """``If-Match`` (the version the author saw) and the version the author signed (the one
    the event takes) against the subject now: a stale one is a conflict, checked before any
    rule of the event's kind. The event store checks the signed version again as it stores.
    """
    current = 0 if subject is None else subject.version
    expected = submission.expected_version
    if expected is not None and expected != current:
        raise VersionConflict(
            "expected version %(expected)s, the subject is at %(current)s",
            expected=expected,
            current=current,
        )
    check_signed_version(submission.body, current + 1)


def _apply(subject: Subject | None, submission: Submission) -> Subject:
    kind = submission.kind
    # Before the command: its refusal would otherwise hide that this is no entry's meaning.
    # A kind no class declares is refused below, whatever it means.
    if kind in KINDS:
        check_meaning(str(submission.body["meaning"]), KINDS[kind])
    if kind == SCREENED:
        if subject is not None:
            raise SubjectAlreadyScreened("%(stream)s is already screened", stream=submission.stream)
        return Subject.screen(
            protocol=protocol_for(str(submission.body["study"])),
            subject_code=str(submission.body["subject"]),
            **submission.fields,
        )
    if subject is None:
        raise not_screened(submission.stream)
    if kind in SIGNED_IN_CEREMONY:
        raise SigningCeremonyRequired(
            "records are signed through POST /v1/signatures (or 'sealtrail sign'), "
            "with your password re-entered (21 CFR 11.200)"
        )
    command = RECORDERS.get(kind)
    if command is None:
        raise UnknownRecordKind("%(kind)r is not a kind of record", kind=kind)
    command(subject, **submission.fields)
    return subject


def _site_of(subject: Subject | None, submission: Submission) -> str:
    """The site a submission acts at: its subject's, or for a screening the site it names."""
    if subject is None or submission.kind == SCREENED:
        return str(submission.fields.get("site"))
    return subject.site
