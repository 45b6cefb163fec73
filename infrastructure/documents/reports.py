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

import base64
import csv
import io
import json
import os
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from domain.errors import SubjectNotFound
from domain.protocol import StudyProtocol, protocol_for
from domain.subject import Subject, subject_stream
from infrastructure.bootstrap import Store
from infrastructure.checkpoints import SealedCheckpoint
from infrastructure.documents import charts, pdf
from infrastructure.documents.certificate import DocumentSigner, document_signer
from infrastructure.documents.signing import sign_pdf
from infrastructure.study_reports import served_study
from projections.audit_trail import COLUMNS, AuditRow, Period, audit_rows, summary_counts
from projections.conep import (
    SYNTHETIC_NOTICE,
    Document,
    label,
    parse_event_id,
    progress_report,
    sae_notification,
)

Progress = Callable[[int], None]
CHART_DPI = 150
"""Charts are drawn at this resolution unless a caller (a test) asks for less."""


# -- reading the store -------------------------------------------------------------------------


def subject_codes(store: Store, study: str, subject: str | None = None) -> list[str]:
    """The subjects a report covers: one, or every subject of the study by code.

    Raises:
        SubjectNotFound: the named subject was never screened.
    """
    if subject is not None:
        if store.app.find_subject(subject_stream(study, subject)) is None:
            raise SubjectNotFound(f"{study}/{subject} has not been screened")
        return [subject]
    return [str(summary["subject"]) for summary in store.views.of_study(study)]


def load_subject(store: Store, study: str, code: str) -> Subject:
    """A subject as it stands now.

    Raises:
        SubjectNotFound: never screened.
    """
    found = store.app.find_subject(subject_stream(study, code))
    if found is None:
        raise SubjectNotFound(f"{study}/{code} has not been screened")
    return found


def audit_trail_rows(
    store: Store,
    study: str,
    codes: Sequence[str],
    period: Period | None = None,
    progress: Progress | None = None,
) -> list[AuditRow]:
    """Every subject's audit rows, subject by subject, each oldest first."""
    rows: list[AuditRow] = []
    for count, code in enumerate(codes, start=1):
        history = store.app.history(subject_stream(study, code))
        events = [
            (record.position, record.event)
            for record in history
            if isinstance(record.event, Subject.Event)
        ]
        rows += audit_rows(events, period)
        if progress is not None:
            progress(count)
    return rows


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


# -- CSV and JSON --------------------------------------------------------------------------------


def audit_trail_csv(rows: Sequence[AuditRow]) -> bytes:
    """The rows as CSV (UTF-8 with a byte-order mark, so spreadsheets read the accents)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row.as_text())
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def audit_trail_json(
    rows: Sequence[AuditRow],
    *,
    study: str,
    codes: Sequence[str],
    period: Period,
    checkpoint: SealedCheckpoint | None,
    synthetic: bool,
) -> bytes:
    """The rows as one JSON document, with the filters and the covering checkpoint."""
    document = {
        "report": "audit-trail",
        "study": study,
        "subjects": list(codes),
        "from": None if period.first is None else period.first.isoformat(),
        "to": None if period.last is None else period.last.isoformat(),
        "synthetic": synthetic,
        "generated_at": pdf.generated_at(datetime.now(UTC)),
        "counts": summary_counts(rows),
        "checkpoint": None if checkpoint is None else _checkpoint_dict(checkpoint),
        "rows": [row.as_dict() for row in rows],
    }
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _checkpoint_dict(checkpoint: SealedCheckpoint) -> dict[str, Any]:
    return {
        "tree_size": checkpoint.tree_size,
        "root": base64.b64encode(checkpoint.root).decode("ascii"),
        "note": checkpoint.note,
        "sealed_at": pdf.generated_at(checkpoint.created_at),
    }


# -- PDFs -----------------------------------------------------------------------------------------

AUDIT_COLUMNS = (
    ("Pos.", 30),
    (label("Registro", "Record"), 100),
    (label("Ação", "Action"), 52),
    (label("Campo: anterior → novo", "Field: old → new"), 230),
    (label("Quem", "Who"), 82),
    (label("Quando (UTC; local)", "When (UTC; local)"), 96),
    (label("Motivo", "Why"), 82),
    (label("Assinatura", "Signature"), 100),
)


def _audit_cells(rows: Sequence[AuditRow]) -> list[str]:
    """One table row per event: every field it created or changed, then who, when, why."""
    row = rows[0]
    changes = []
    for each in rows:
        text = each.as_text()
        if each.action == "created":
            changes.append(f"{each.field}: {text['new']}")
        else:
            changes.append(f"{each.field}: {text['old'] or '∅'} → {text['new'] or '∅'}")
    return [
        str(row.position),
        f"{row.subject} #{row.entry} {row.kind}"
        + (f" (by #{row.by_entry})" if row.by_entry != row.entry else ""),
        row.action,
        "\n".join(changes),
        f"{row.printed_name} ({row.user_id})",
        f"{row.recorded_at_utc}\n{row.recorded_at_local} {row.time_zone}",
        row.reason,
        f"{row.meaning}, {row.signed_at}\n{row.key_id}",
    ]


def _by_event(rows: Sequence[AuditRow]) -> list[list[AuditRow]]:
    grouped: dict[int, list[AuditRow]] = {}
    for row in rows:
        grouped.setdefault(row.position, []).append(row)
    return list(grouped.values())


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
) -> bytes:
    """The audit trail as a signed PDF: a cover tying it to the log, then each subject."""
    protocol = protocol_for(study)
    signer = document_signer(store.settings)
    subjects = {code: load_subject(store, study, code) for code in codes}
    synthetic = any(s.synthetic for s in subjects.values())
    counts = summary_counts(rows)
    now = datetime.now(UTC)
    document = pdf.Document(
        title=label("Trilha de auditoria", "Audit trail") + " (21 CFR 11.10(e))",
        subtitle=f"{protocol.study_id} · {protocol.ethics_reference} · {protocol.sponsor}",
        wide=True,
        footer=f"sealtrail {study} audit trail · {pdf.generated_at(now)} · "
        f"{signer.fingerprint[:23]}…",
    )
    blocks = document.blocks
    if synthetic:
        blocks.append(pdf.Notice(SYNTHETIC_NOTICE))
    blocks.append(
        pdf.Fields(
            [
                (label("Estudo", "Study"), f"{protocol.study_id}: {protocol.title}"),
                (label("Participantes", "Subjects"), ", ".join(codes) or "-"),
                (
                    label("Período (gravação, horário local)", "Period (recorded, site time)"),
                    _period(period),
                ),
                (
                    label("Linhas", "Rows"),
                    f"{len(rows)}: {counts['created']} created, {counts['corrected']} corrected, "
                    f"{counts['voided']} voided",
                ),
                (label("Gerado em", "Generated at"), _when(now, protocol)),
            ]
        )
    )
    blocks += _tie_to_log(store, checkpoint, signer)
    blocks.append(
        pdf.Text(
            "Each row is one field of a record as created, or as a correction or void changed "
            "it; nothing in the store is ever overwritten. Who: the signer's printed name and "
            "user id. When: the store's recording time in UTC and at the site. Signature: the "
            "meaning the author signed with, the time they signed and their key (21 CFR 11.50). "
            "Pos. is the event's log position: GET /v1/events/<pos>/proof?tree_size=<size> "
            "proves it is in the checkpoint above.",
            small=True,
        )
    )
    for done, (code, subject) in enumerate(subjects.items(), start=1):
        blocks.append(pdf.NewPage())
        blocks.append(pdf.Heading(f"{study}/{code}"))
        if charts.has_chart(subject):
            blocks.append(
                pdf.Picture(
                    charts.blood_count_chart(subject, dpi=chart_dpi),
                    width=620,
                    caption=_chart_caption(),
                )
            )
        mine = [row for row in rows if row.subject == code]
        blocks.append(
            pdf.Grid(
                columns=[name for name, _ in AUDIT_COLUMNS],
                rows=[_audit_cells(event) for event in _by_event(mine)],
                widths=[w for _, w in AUDIT_COLUMNS],
                empty=label("Nenhuma linha no período", "No row in the period"),
                font_size=6.3,
            )
        )
        if progress is not None:
            progress(done)
    unsigned = pdf.render(document)
    return sign_pdf(
        unsigned,
        signer,
        reason=f"sealtrail audit trail of {study}, {len(rows)} rows, "
        + (f"checkpoint {checkpoint.tree_size}" if checkpoint else "no checkpoint"),
        location=protocol.country,
    )


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
    signer = document_signer(store.settings)
    now = datetime.now(UTC)
    document = pdf.Document(
        title=str(content["title"]),
        subtitle=str(content["subtitle"]),
        footer=f"sealtrail {content['report']} · {pdf.generated_at(now)} · "
        f"{signer.fingerprint[:23]}…",
    )
    blocks = document.blocks
    if content.get("notice"):
        blocks.append(pdf.Notice(str(content["notice"])))
    for section in content["sections"]:
        blocks.append(pdf.Heading(section["title"]))
        blocks.append(pdf.Fields([(f["label"], f["value"]) for f in section["fields"]]))
        for table in section["tables"]:
            blocks.append(
                pdf.Grid(
                    columns=table["columns"],
                    rows=table["rows"],
                    title=table["title"],
                    empty=table["empty"],
                )
            )
    if subject is not None and charts.has_chart(subject):
        blocks.append(
            pdf.Picture(
                charts.blood_count_chart(
                    subject,
                    dpi=chart_dpi,
                    event_on=_onset(content),
                    event_label=str(content["data"].get("adverse_event", "")),
                ),
                width=500,
                caption=_chart_caption(),
                title=label("Hemograma ao longo do tempo", "Blood counts over time"),
            )
        )
    blocks.append(pdf.NewPage())
    blocks += _tie_to_log(store, checkpoint, signer)
    blocks.append(pdf.Text(label("Gerado em", "Generated at") + ": " + _when(now, protocol)))
    return sign_pdf(
        pdf.render(document),
        signer,
        reason=f"sealtrail {content['report']} ({protocol.ethics_reference})",
        location=protocol.country,
    )


def _tie_to_log(
    store: Store, checkpoint: SealedCheckpoint | None, signer: DocumentSigner
) -> list[pdf.Block]:
    blocks: list[pdf.Block] = [
        pdf.Heading(label("Vínculo com o registro", "Tie to the log")),
    ]
    if checkpoint is None:
        blocks.append(pdf.Text(label("O registro está vazio", "The log is empty")))
    else:
        blocks.append(
            pdf.Fields(
                [
                    (label("Origem", "Origin"), store.app.checkpoints.origin),
                    (label("Tamanho da árvore", "Tree size"), str(checkpoint.tree_size)),
                    (
                        label("Raiz (SHA-256, base64)", "Root hash (SHA-256, base64)"),
                        base64.b64encode(checkpoint.root).decode("ascii"),
                    ),
                    (label("Selado em", "Sealed at"), pdf.generated_at(checkpoint.created_at)),
                ]
            )
        )
        blocks.append(
            pdf.Text(
                label("Nota assinada (C2SP checkpoint)", "Signed note (C2SP checkpoint)")
                + ": verify it with the server's public key; `sealtrail verify "
                "--from-checkpoint FILE` checks that the log still extends it.",
                small=True,
            )
        )
        blocks.append(pdf.Mono(checkpoint.note))
    blocks.append(
        pdf.Fields(
            [
                (
                    label("Assinatura do documento (PAdES)", "Document signature (PAdES)"),
                    signer.description,
                ),
                (
                    label("Certificado", "Certificate"),
                    f"{signer.path.parent / 'document-signing.cert.pem'}: trust it by its "
                    "SHA-256 fingerprint; any PDF reader then shows whether this file was "
                    "altered.",
                ),
            ]
        )
    )
    return blocks


def _onset(content: Document) -> date | None:
    onset = content.get("data", {}).get("onset_on")
    return None if onset is None else date.fromisoformat(str(onset))


def _chart_caption() -> str:
    return (
        "Linhas verticais: infusões de MSC; triângulos: transfusões; tracejado: limiares de "
        "Camitta. / Vertical lines: MSC infusions; triangles: transfusions; dashed: Camitta "
        "thresholds."
    )


def _period(period: Period) -> str:
    if period.first is None and period.last is None:
        return label("todo o registro", "the whole record")
    first = "…" if period.first is None else period.first.isoformat()
    last = "…" if period.last is None else period.last.isoformat()
    return f"{first} a / to {last}"


def _when(moment: datetime, protocol: StudyProtocol) -> str:
    local = moment.astimezone(protocol.time_zone)
    return f"{pdf.generated_at(moment)} ({local:%Y-%m-%d %H:%M:%S %z} {protocol.time_zone.key})"


# -- writing files --------------------------------------------------------------------------------


def write_file(path: Path, content: bytes) -> Path:
    """Write the file whole (a temporary file renamed into place): never half a report."""
    path = path.expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    draft.write_bytes(content)
    draft.replace(path)
    return path
