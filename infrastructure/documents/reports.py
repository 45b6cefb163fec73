"""The audit trail and CONEP reports, assembled from the store and issued as files.

The content is computed by the pure projections (:mod:`projections.audit_trail`,
:mod:`projections.conep`) from the subjects' events; this module reads those events, ties each
document to the log with a signed checkpoint, draws the PDFs (with each subject's chart) and
signs them (PAdES) with the server's document-signing certificate.

Every document is tied to the log by a checkpoint that covers the whole log as it stood when
the document was made: the latest stored checkpoint if it does, else a new one sealed on the
spot (the same act as ``sealtrail checkpoint``; the log never signs two notes for one size).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path

from domain.errors import SubjectNotFound
from domain.protocol import StudyProtocol, protocol_for
from domain.subject import Subject, subject_stream
from infrastructure.bootstrap import Store
from infrastructure.documents import pdf, renderings
from infrastructure.documents.certificate import document_signer
from infrastructure.documents.delegation_pages import delegation_log_csv, delegation_log_document
from infrastructure.documents.renderings import CHART_DPI, LogTie
from infrastructure.documents.signing import pades_authentication, sign_pdf
from infrastructure.store.checkpoints import SealedCheckpoint
from infrastructure.views.study_reports import served_study, site_subjects
from infrastructure.whole_files import replace_whole
from projections.audit_trail import AuditRow, Period
from projections.conep.document import Document
from projections.conep.notification import parse_event_id, sae_notification
from projections.conep.progress import progress_report
from projections.delegation_log import delegation_log

Progress = Callable[[int], None]


# -- reading the store -------------------------------------------------------------------------


def subject_codes(store: Store, study: str, subject: str | None = None) -> list[str]:
    """The subjects a report covers: one, or every subject of the study by code.

    Raises:
        SubjectNotFound: the named subject was never screened.
    """
    if subject is not None:
        if store.app.find_subject(subject_stream(study, subject)) is None:
            raise SubjectNotFound(
                "%(study)s/%(subject)s has not been screened", study=study, subject=subject
            )
        return [subject]
    # From the log, not the views: a summary row removed in the database hides no subject.
    return [found.subject_code for found in site_subjects(store.reads, study, None)]


def load_subject(store: Store, study: str, code: str) -> Subject:
    """A subject as it stands now.

    Raises:
        SubjectNotFound: never screened.
    """
    found = store.app.find_subject(subject_stream(study, code))
    if found is None:
        raise SubjectNotFound("%(study)s/%(code)s has not been screened", study=study, code=code)
    return found


def covering_checkpoint(store: Store) -> SealedCheckpoint | None:
    """A signed checkpoint covering the whole log as it is now (sealed if none does yet)."""
    keeper = store.app.checkpoints
    last = store.app.recorder.max_notification_id()
    if not last:
        return keeper.latest()
    needed = keeper.leaf_index(last) + 1
    latest = keeper.latest()
    if latest is not None and latest.tree_size >= needed:
        return latest
    return keeper.seal()


# -- PDFs -----------------------------------------------------------------------------------------


def audit_trail_pdf(
    store: Store,
    rows: Sequence[AuditRow],
    *,
    study: str,
    codes: Sequence[str],
    period: Period,
    checkpoint: SealedCheckpoint | None,
    chart_dpi: int = CHART_DPI,
    progress: Progress | None = None,
    selection: str | None = None,
) -> bytes:
    """The audit trail as a signed PDF: a cover tying it to the log (and stating
    ``selection``, the rows chosen when not all), then each subject."""
    protocol = protocol_for(study)
    draw = partial(
        renderings.audit_trail_document,
        rows,
        protocol=protocol,
        subjects={code: load_subject(store, study, code) for code in codes},
        period=period,
        chart_dpi=chart_dpi,
        progress=progress,
        selection=selection,
    )
    reason = f"sealtrail audit trail of {study}, {len(rows)} rows, " + (
        f"checkpoint {checkpoint.tree_size}" if checkpoint else "no checkpoint"
    )
    return _signed_pdf(store, protocol, checkpoint, draw, reason=reason)


def sae_document(
    store: Store, event_id: str, *, report_date: date | None, follow_up: bool | None
) -> tuple[Document, Subject]:
    """The CONEP notification content of one serious adverse event, and its subject.

    Raises:
        AdverseEventNotFound: the id is malformed or names no adverse event.
        SubjectNotFound: no such subject.
        SeriousnessCriterionMissing: the event is not serious.
        UnknownStudy: the id names a study this store does not serve.
    """
    study_named, code, name = parse_event_id(event_id)
    study = served_study(study_named)
    subject = load_subject(store, study, code)
    today = report_date or datetime.now(subject.protocol.time_zone).date()
    return sae_notification(subject, name, report_date=today, follow_up=follow_up), subject


def progress_document(
    store: Store, study: str | None, *, final: bool, report_date: date | None
) -> Document:
    """The partial or final progress report's content for the study."""
    study_id = served_study(study)
    protocol = protocol_for(study_id)
    subjects = [load_subject(store, study_id, code) for code in subject_codes(store, study_id)]
    today = report_date or datetime.now(protocol.time_zone).date()
    return progress_report(protocol, subjects, report_date=today, final=final)


def conep_pdf(
    store: Store,
    content: Document,
    *,
    study: str,
    checkpoint: SealedCheckpoint | None,
    subject: Subject | None = None,
    chart_dpi: int = CHART_DPI,
) -> bytes:
    """A CONEP document as a signed PDF (with the subject's chart for a notification)."""
    protocol = protocol_for(study)
    draw = partial(
        renderings.conep_document,
        content,
        protocol=protocol,
        subject=subject,
        chart_dpi=chart_dpi,
    )
    reason = f"sealtrail {content['report']} ({protocol.ethics_reference})"
    return _signed_pdf(store, protocol, checkpoint, draw, reason=reason)


def delegation_log_copy(store: Store, site: str, *, study: str, form: str) -> bytes:
    """A site's delegation of authority log, every delegation made there from every account as
    it stands: as CSV, or (``form`` "pdf") as a signed PDF tied to a checkpoint of the log."""
    lines = delegation_log(store.reads.accounts(), site)
    if form == "csv":
        return delegation_log_csv(lines)
    protocol = protocol_for(study)
    draw = partial(delegation_log_document, lines, site=site, protocol=protocol)
    reason = f"sealtrail delegation log of site {site}, {len(lines)} delegations"
    return _signed_pdf(store, protocol, covering_checkpoint(store), draw, reason=reason)


def _signed_pdf(
    store: Store,
    protocol: StudyProtocol,
    checkpoint: SealedCheckpoint | None,
    draw: Callable[..., pdf.Document],
    *,
    reason: str,
) -> bytes:
    """Draw the document tied to the checkpoint, now, and sign it (PAdES) with the store's
    document-signing certificate; ``draw`` takes the tie, the authentication and the time."""
    signer = document_signer(store.settings)
    document = draw(
        tie=log_tie(store, checkpoint),
        authentication=pades_authentication(signer),
        now=datetime.now(UTC),
    )
    return sign_pdf(
        pdf.render(document),
        signer,
        reason=reason,
        location=protocol.country,
        timestamp_url=store.settings.tsa_url,
    )


def log_tie(store: Store, checkpoint: SealedCheckpoint | None) -> LogTie | None:
    """What ties a document to this store's log: the checkpoint and the log's origin."""
    if checkpoint is None:
        return None
    return LogTie(
        origin=store.app.checkpoints.origin,
        tree_size=checkpoint.tree_size,
        root=checkpoint.root,
        note=checkpoint.note,
        sealed_at=checkpoint.created_at,
    )


# -- writing files --------------------------------------------------------------------------------


def write_file(path: Path, content: bytes) -> Path:
    """Write the file whole (a temporary file renamed into place): never half a report."""
    path = path.expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_whole(path, content)
    return path
