"""The audit trail and the CONEP reports laid out as files and pages, from their content alone.

Nothing here reads the store: the content comes from the pure projections
(:mod:`projections.audit_trail`, :mod:`projections.conep`) and the subjects they are about, and
the document is tied to the log by the checkpoint it is given. So the same pages are drawn by
``sealtrail report`` (which then signs the file, PAdES) and by the packet builder and the
offline packet verifier (which draw them reproducibly, covered by the packet's signed
manifest).
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.protocol import StudyProtocol
from domain.subject import Subject
from domain.vocabulary import Milestone
from infrastructure.documents import charts, pdf
from projections import chunked
from projections.audit_trail import (
    COLUMNS,
    ELECTRONIC_SIGNATURE,
    SIGNED,
    AuditRow,
    Period,
    summary_counts,
)
from projections.conep.bilingual import SYNTHETIC_NOTICE, label
from projections.conep.document import Document
from projections.csv_file import csv_chunks

Progress = Callable[[int], None]
CHART_DPI = 150
"""Charts are drawn at this resolution unless a caller (a test) asks for less."""


@dataclass(frozen=True)
class LogTie:
    """The signed checkpoint a document is tied to, and the log it belongs to."""

    origin: str
    tree_size: int
    root: bytes
    note: str
    sealed_at: datetime


@dataclass(frozen=True)
class Authentication:
    """How a reader checks that the file is as issued: labelled lines for the last page."""

    footer_mark: str
    fields: Sequence[tuple[str, str]]


def audit_trail_csv(rows: Sequence[AuditRow]) -> bytes:
    """The rows as CSV (UTF-8 with a byte-order mark, so spreadsheets read the accents)."""
    return b"".join(audit_trail_csv_chunks(rows))


def audit_trail_csv_chunks(rows: Sequence[AuditRow]) -> Iterator[bytes]:
    """:func:`audit_trail_csv`'s bytes, a chunk at a time as they are written."""
    # The store's one CSV writer: formula-looking text quoted, numbers kept (csv_file.py).
    return csv_chunks(COLUMNS, (row.as_text() for row in rows), byte_order_mark=True)


@dataclass(frozen=True)
class AuditTrailHead:
    """What the JSON audit trail says before its rows: the filters and the checkpoint."""

    study: str
    codes: Sequence[str]
    period: Period
    tie: LogTie | None
    synthetic: bool
    generated_at: datetime


def audit_trail_json(rows: Sequence[AuditRow], head: AuditTrailHead) -> bytes:
    """The rows as one JSON document, with the filters and the checkpoint it is tied to."""
    return b"".join(audit_trail_json_chunks(rows, head))


def audit_trail_json_chunks(rows: Sequence[AuditRow], head: AuditTrailHead) -> Iterator[bytes]:
    """:func:`audit_trail_json`'s bytes, a chunk at a time as they are written."""
    document = {
        "report": "audit-trail",
        "study": head.study,
        "subjects": list(head.codes),
        "from": None if head.period.first is None else head.period.first.isoformat(),
        "to": None if head.period.last is None else head.period.last.isoformat(),
        "synthetic": head.synthetic,
        "generated_at": pdf.generated_at(head.generated_at),
        "counts": summary_counts(rows),
        "checkpoint": None if head.tie is None else _checkpoint_dict(head.tie),
    }
    # One row per line: readable, and written by json's C encoder (an indented document is
    # written by its pure-Python one, several times slower on a large trail). Each row is
    # encoded as it is written: the rows joined as text, then the document, then its bytes,
    # held the trail four times over.
    opening = json.dumps(document, indent=2, ensure_ascii=False)
    written = io.BytesIO()
    written.write(f'{opening[:-2]},\n  "rows": '.encode())
    before = b"[\n    "
    for row in rows:
        written.write(before)
        written.write(json.dumps(row.as_dict(), ensure_ascii=False).encode())
        before = b",\n    "
        if chunked.full(written):
            yield chunked.drained(written)
    written.write(b"\n  ]\n}\n" if rows else b"[]\n}\n")
    yield written.getvalue()


def _checkpoint_dict(tie: LogTie) -> dict[str, Any]:
    return {
        "tree_size": tie.tree_size,
        "root": base64.b64encode(tie.root).decode("ascii"),
        "note": tie.note,
        "sealed_at": pdf.generated_at(tie.sealed_at),
    }


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


def audit_trail_document(
    rows: Sequence[AuditRow],
    *,
    protocol: StudyProtocol,
    subjects: Mapping[str, Subject],
    period: Period,
    tie: LogTie | None,
    authentication: Authentication,
    now: datetime,
    reproducible: bool = False,
    chart_dpi: int = CHART_DPI,
    progress: Progress | None = None,
    selection: str | None = None,
) -> pdf.Document:
    """The audit trail's pages: a cover tying it to the log, then each subject's rows.

    ``selection`` says which rows of the subjects' trail these are, when not all of them (the
    filters and the page a reader chose on the audit page); the cover states it.
    """
    study = protocol.study_id
    document = pdf.Document(
        title=label("Trilha de auditoria", "Audit trail") + " (21 CFR 11.10(e))",
        subtitle=f"{study} · {protocol.ethics_reference} · {protocol.sponsor}",
        wide=True,
        footer=f"sealtrail {study} audit trail · {pdf.generated_at(now)} · "
        f"{authentication.footer_mark}",
        reproducible=reproducible,
    )
    blocks = document.blocks
    if any(subject.synthetic for subject in subjects.values()):
        blocks.append(pdf.Notice(SYNTHETIC_NOTICE))
    blocks.append(_audit_trail_cover(rows, protocol, subjects, period, now, selection))
    blocks += tie_to_log(tie, authentication)
    blocks.append(pdf.Text(HOW_TO_READ_THE_AUDIT_TRAIL, small=True))
    by_subject: dict[str, list[AuditRow]] = {code: [] for code in subjects}
    for row in rows:
        by_subject.setdefault(row.subject, []).append(row)
    for done, (code, subject) in enumerate(subjects.items(), start=1):
        blocks += _subject_audit_trail(study, code, subject, by_subject[code], chart_dpi)
        if progress is not None:
            progress(done)
    return document


HOW_TO_READ_THE_AUDIT_TRAIL = (
    "Each row is one field of a record as created, or as a correction or void changed "
    "it; nothing in the store is ever overwritten. Who: the signer's printed name and "
    "user id. When: the store's recording time in UTC and at the site. Signature: the "
    "meaning the author signed with, the time they signed and their key (21 CFR 11.50). "
    "Pos. is the event's log position: GET /v1/events/<pos>/proof?tree_size=<size> "
    "proves it is in the checkpoint above."
)


def _audit_trail_cover(
    rows: Sequence[AuditRow],
    protocol: StudyProtocol,
    subjects: Mapping[str, Subject],
    period: Period,
    now: datetime,
    selection: str | None,
) -> pdf.Fields:
    """What the audit trail covers: the study, its subjects, the period, the rows chosen (when
    not all) and how many."""
    counts = summary_counts(rows)
    chosen = [] if selection is None else [(label("Seleção", "Selection"), selection)]
    return pdf.Fields(
        [
            (label("Estudo", "Study"), f"{protocol.study_id}: {protocol.title}"),
            (label("Participantes", "Subjects"), ", ".join(subjects) or "-"),
            (
                label("Período (gravação, horário local)", "Period (recorded, site time)"),
                _period(period),
            ),
            *chosen,
            (
                label("Linhas", "Rows"),
                f"{len(rows)}: {counts['created']} created, {counts['corrected']} corrected, "
                f"{counts['voided']} voided, {counts['signed']} signed",
            ),
            (label("Gerado em", "Generated at"), _when(now, protocol)),
        ]
    )


def _subject_audit_trail(
    study: str, code: str, subject: Subject, rows: Sequence[AuditRow], chart_dpi: int
) -> list[pdf.Block]:
    """A subject's pages: its chart, then a table row per event."""
    blocks: list[pdf.Block] = [pdf.NewPage(), pdf.Heading(f"{study}/{code}")]
    if charts.has_chart(subject):
        blocks.append(
            pdf.Picture(
                charts.blood_count_chart(subject, dpi=chart_dpi),
                width=620,
                caption=chart_caption(),
            )
        )
    blocks.append(
        pdf.Grid(
            columns=[name for name, _ in AUDIT_COLUMNS],
            rows=[_audit_cells(event, subject) for event in _by_event(rows)],
            widths=[w for _, w in AUDIT_COLUMNS],
            empty=label("Nenhuma linha no período", "No row in the period"),
            font_size=6.3,
        )
    )
    return blocks


def conep_document(
    content: Document,
    *,
    protocol: StudyProtocol,
    tie: LogTie | None,
    authentication: Authentication,
    now: datetime,
    subject: Subject | None = None,
    reproducible: bool = False,
    chart_dpi: int = CHART_DPI,
) -> pdf.Document:
    """A CONEP notification's or report's pages (with the subject's chart for a notification)."""
    document = pdf.Document(
        title=str(content["title"]),
        subtitle=str(content["subtitle"]),
        footer=f"sealtrail {content['report']} · {pdf.generated_at(now)} · "
        f"{authentication.footer_mark}",
        reproducible=reproducible,
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
                caption=chart_caption(),
                title=label("Hemograma ao longo do tempo", "Blood counts over time"),
            )
        )
    blocks.append(pdf.NewPage())
    blocks += tie_to_log(tie, authentication)
    blocks.append(pdf.Text(label("Gerado em", "Generated at") + ": " + _when(now, protocol)))
    return document


def tie_to_log(tie: LogTie | None, authentication: Authentication) -> list[pdf.Block]:
    """The blocks that tie a document to the log (its checkpoint) and say how it is signed."""
    blocks: list[pdf.Block] = [
        pdf.Heading(label("Vínculo com o registro", "Tie to the log")),
    ]
    if tie is None:
        blocks.append(pdf.Text(label("O registro está vazio", "The log is empty")))
    else:
        blocks.append(
            pdf.Fields(
                [
                    (label("Origem", "Origin"), tie.origin),
                    (label("Tamanho da árvore", "Tree size"), str(tie.tree_size)),
                    (
                        label("Raiz (SHA-256, base64)", "Root hash (SHA-256, base64)"),
                        base64.b64encode(tie.root).decode("ascii"),
                    ),
                    (label("Selado em", "Sealed at"), pdf.generated_at(tie.sealed_at)),
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
        blocks.append(pdf.Mono(tie.note))
    blocks.append(pdf.Fields(list(authentication.fields)))
    return blocks


def chart_caption() -> str:
    """What the marks on a subject's blood-count chart mean."""
    return (
        "Linhas verticais: infusões de MSC; triângulos: transfusões; tracejado: limiares de "
        "Camitta. / Vertical lines: MSC infusions; triangles: transfusions; dashed: Camitta "
        "thresholds."
    )


def _audit_cells(rows: Sequence[AuditRow], subject: Subject) -> list[str | pdf.Summarised]:
    """One table row per event: every field it created or changed, then who, when, why; a
    signature over more records than a page holds, summarised (:func:`_signature_summary`)."""
    row = rows[0]
    changes = []
    for each in rows:
        text = each.as_text()
        if each.action == "created":
            changes.append(f"{each.field}: {text['new']}")
        else:
            changes.append(f"{each.field}: {text['old'] or '∅'} → {text['new'] or '∅'}")
    record = f"{row.subject} #{row.entry} {row.kind}" + (
        f" (by #{row.by_entry})" if row.by_entry != row.entry else ""
    )
    changed = "\n".join(changes)
    what: str | pdf.Summarised = changed
    who: str | pdf.Summarised = record
    if all(each.action == SIGNED and each.field == ELECTRONIC_SIGNATURE for each in rows):
        signing, summary = _signature_summary(rows, subject)
        what = pdf.Summarised(changed, summary)
        who = pdf.Summarised(record, f"{row.subject} #{row.by_entry} {signing}")
    return [
        str(row.position),
        who,
        row.action,
        what,
        f"{row.printed_name} ({row.user_id})",
        f"{row.recorded_at_utc}\n{row.recorded_at_local} {row.time_zone}",
        row.reason,
        f"{row.meaning}, {row.signed_at}\n{row.key_id}",
    ]


def _signature_summary(rows: Sequence[AuditRow], subject: Subject) -> tuple[str, str]:
    """The kind of a signature over records, and what its row says when the record hashes it
    covers, one a line, would not fit on a page: how many records, the first and last entry,
    and for a casebook the milestone and state hash. Each record with the hash signed stays a
    row of the CSV and JSON audit trail (the same rows)."""
    signing = subject.entries.get(rows[0].by_entry)
    kind = Subject.RecordsSigned.kind() if signing is None else signing.kind
    entries = [each.entry for each in rows]
    covers = (
        f"{rows[0].meaning} of {len(rows):,} records, entries {min(entries)} to {max(entries)}; "
        "each record and the hash signed is a row of the CSV and JSON audit trail"
    )
    if signing is not None and kind == Subject.CasebookSigned.kind():
        milestone = Milestone(signing["milestone"]).value
        return kind, (
            f"casebook signed at {milestone}, state hash {signing['state_hash']}: {covers}"
        )
    return kind, f"{ELECTRONIC_SIGNATURE}: {covers}"


def _by_event(rows: Sequence[AuditRow]) -> list[list[AuditRow]]:
    grouped: dict[int, list[AuditRow]] = {}
    for row in rows:
        grouped.setdefault(row.position, []).append(row)
    return list(grouped.values())


def _onset(content: Document) -> date | None:
    onset = content.get("data", {}).get("onset_on")
    return None if onset is None else date.fromisoformat(str(onset))


def _period(period: Period) -> str:
    if period.first is None and period.last is None:
        return label("todo o registro", "the whole record")
    first = "…" if period.first is None else period.first.isoformat()
    last = "…" if period.last is None else period.last.isoformat()
    return f"{first} a / to {last}"


def _when(moment: datetime, protocol: StudyProtocol) -> str:
    local = moment.astimezone(protocol.time_zone)
    return f"{pdf.generated_at(moment)} ({local:%Y-%m-%d %H:%M:%S %z} {protocol.time_zone.key})"
