"""A site's delegation of authority log laid out as a CSV file and as pages, from its lines
alone (:mod:`projections.delegation_log`); ``sealtrail report delegation-log`` signs the PDF."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from domain.delegation import Task
from domain.protocol import StudyProtocol
from infrastructure.documents import pdf
from infrastructure.documents.renderings import Authentication, LogTie, tie_to_log
from projections.conep.bilingual import label
from projections.csv_file import csv_bytes
from projections.delegation_log import COLUMNS, DelegationLine

LOG_COLUMNS = (
    (label("Pessoa", "Person"), 120),
    (label("Papel", "Role"), 70),
    (label("Tarefas", "Tasks"), 150),
    (label("Período", "Period"), 95),
    (label("Delegado por", "Delegated by"), 110),
    (label("Assinado em (UTC)", "Signed at (UTC)"), 85),
    (label("Situação", "Status"), 120),
)


def delegation_log_csv(lines: Sequence[DelegationLine]) -> bytes:
    """The log as CSV (UTF-8 with a byte-order mark, so spreadsheets read the accents)."""
    return csv_bytes(COLUMNS, (line.as_text() for line in lines), byte_order_mark=True)


def delegation_log_document(
    lines: Sequence[DelegationLine],
    *,
    site: str,
    protocol: StudyProtocol,
    tie: LogTie | None,
    authentication: Authentication,
    now: datetime,
) -> pdf.Document:
    """The log's pages: the site and study, the tasks' codes, a line per delegation, and the
    tie to the log."""
    today = now.astimezone(protocol.time_zone).date()
    document = pdf.Document(
        title=label("Registro de delegação de funções", "Delegation of authority log"),
        subtitle=f"{protocol.study_id} · {label('Centro', 'Site')} {site} · {protocol.sponsor}",
        wide=True,
        footer=f"sealtrail {protocol.study_id} delegation log {site} · "
        f"{pdf.generated_at(now)} · {authentication.footer_mark}",
    )
    document.blocks += [
        pdf.Fields(
            [
                (label("Estudo", "Study"), f"{protocol.study_id}: {protocol.title}"),
                (label("Centro", "Site"), site),
                (label("Delegações", "Delegations"), str(len(lines))),
                (label("Gerado em", "Generated at"), pdf.generated_at(now)),
            ]
        ),
        pdf.Fields([(task.value, task.title) for task in Task]),
        pdf.Grid(
            columns=[name for name, _ in LOG_COLUMNS],
            rows=[_cells(line, today) for line in lines],
            widths=[width for _, width in LOG_COLUMNS],
            empty=label("Nenhuma delegação", "No delegation"),
        ),
        pdf.Text(HOW_TO_READ, small=True),
    ]
    document.blocks += tie_to_log(tie, authentication)
    return document


HOW_TO_READ = (
    "Each line is a signed TasksDelegated event on the delegate's account, signed by the "
    "site's principal investigator (the principal investigator's own designation by an "
    "administrator). A later delegation at the same site supersedes it; a DelegationEnded ends "
    "it. Periods are days, both included. GET /v1/accounts/<user id>/history shows each event "
    "with its signature."
)


def _cells(line: DelegationLine, today: date) -> list[str]:
    held = line.delegation
    text = line.as_text()
    period = f"{text['starts_on']} → {text['ends_on'] or '…'}"
    return [
        f"{line.printed_name} ({line.user_id})",
        line.role or "-",
        ", ".join(task.value for task in held.tasks),
        period,
        f"{line.delegated_by_name} ({held.delegated_by})",
        text["signed_at"],
        line.status_on(today),
    ]
