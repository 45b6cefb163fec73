"""Every file of a packet that is derived from its events, computed from the events alone.

The builder calls :func:`derive` on the events it read from the store and keeps each file (a
large one spooled to disk); the offline verifier calls it on the events it read from the packet
and compares the bytes file by file, each as it is made.
Nothing here reads a clock, a store or a random source: the one time that documents print (when
they were generated) is the sealing time of the packet's checkpoint, which the signed manifest
carries. The same log and checkpoint therefore always give the same bytes.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar
from uuid import UUID

from domain.account import SYSTEM_USER, Account, server_anchor
from domain.protocol import protocol_for
from domain.signed import SignedAggregate
from domain.subject import Subject
from domain.wire import recorded_instant
from infrastructure.documents import charts, pdf, renderings
from infrastructure.documents.renderings import Authentication, LogTie
from projections.audit_trail import AuditRow, Period, audit_rows
from projections.conep.bilingual import label
from projections.conep.document import Document
from projections.conep.notification import sae_notification
from projections.conep.progress import progress_report
from projections.lock_state import LOCK_STATE, lock_state
from projections.odm import odm_chunks
from projections.sdtm import data_dictionary, sdtm_datasets

KEYS = "log/keys.json"
DATASETS = "datasets"
AUDIT_TRAIL = "audit-trail/audit-trail"
PROGRESS_REPORT = "conep/progress-report"
SAE_NOTIFICATIONS = "conep/sae"
README = "README.txt"

CHART_DPI = 100
"""The packet's charts are drawn finer than a screen needs and coarser than print: each one costs
time twice, at build and at verification."""

LoggedEvent = tuple[int, SignedAggregate.Event]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class PacketLog:
    """What a packet is made from: the events a checkpoint covers, and that checkpoint.

    Attributes:
        study: the study the packet is about.
        origin: the log's origin (the checkpoint's first line and its signer's name).
        server_key: the server's public key text, the anchor of every account and checkpoint.
        tie: the checkpoint the packet is tied to (its note, size, root and sealing time).
        events: every event the checkpoint covers, in log order, with its log position (of a
            site copy: all but other sites' subjects').
        site: the site a site copy is of; None for the whole study's packet.
    """

    study: str
    origin: str
    server_key: str
    tie: LogTie
    events: Sequence[LoggedEvent]
    site: str | None = None

    def accounts(self) -> dict[str, Account]:
        """Every account as the log's events leave it, by user id."""
        folded: dict[UUID, Account] = {}
        for _, event in self.events:
            if isinstance(event, Account.Event):
                folded[event.originator_id] = event.mutate(folded.get(event.originator_id))
        return {account.user_id: account for account in folded.values()}

    def subjects(self) -> dict[str, Subject]:
        """The study's subjects as the log's events leave them, by subject code, in code order."""
        folded: dict[UUID, Subject] = {}
        for _, event in self.events:
            if isinstance(event, Subject.Event) and event.stream.startswith(f"{self.study}/"):
                folded[event.originator_id] = event.mutate(folded.get(event.originator_id))
        return {s.subject_code: s for s in sorted(folded.values(), key=lambda s: s.subject_code)}

    def subject_events(self) -> dict[str, list[tuple[int, Subject.Event]]]:
        """Each subject's events with their log positions, oldest first, by subject code."""
        grouped: dict[str, list[tuple[int, Subject.Event]]] = {}
        for position, event in self.events:
            if isinstance(event, Subject.Event) and event.stream.startswith(f"{self.study}/"):
                grouped.setdefault(event.stream.split("/", 1)[1], []).append((position, event))
        return dict(sorted(grouped.items()))


Held = TypeVar("Held")


@dataclass(frozen=True)
class Derived(Generic[Held]):
    """The derived files, each as :func:`derive` was asked to hold it, and the paths of the
    PDFs the packet holds (drawn or not)."""

    files: dict[str, Held]
    documents: frozenset[str]


Written = Callable[[], Iterable[bytes]]
"""A derived file as it can be written: each call writes it again, a chunk at a time."""


def derive(
    log: PacketLog,
    hold: Callable[[str, Written], Held],
    *,
    documents: bool = True,
    draw: bool = True,
    progress: Progress | None = None,
) -> Derived[Held]:
    """Every derived file of the packet, by its path in the zip, and the PDFs' paths.

    ``hold(path, written)`` is what is kept of each file as soon as it can be written: the
    file itself (a builder's), or what a verifier needs of it once compared, so that the
    files are not all held at once (each is as large as the log). The largest (the ODM and the
    audit trail) are written a chunk at a time, so that a verifier that digests them never
    holds them whole, and written again only where one differs. ``documents``: the packet holds
    the PDFs (audit trail, CONEP reports), the slowest part; without them it still holds every
    record, dataset and report in CSV, JSON and XML. ``draw=False`` leaves the PDFs out of the
    files though the packet holds them (a verifier that checks them by digest only): their
    paths are still given, so that such a verifier still knows which PDFs the packet must hold,
    and that it holds no other.
    """
    note = progress or (lambda _: None)
    subjects = log.subjects()
    held: dict[str, Held] = {}

    def made(files: Mapping[str, bytes]) -> None:
        held.update(
            (path, hold(path, partial(_as_written, content))) for path, content in files.items()
        )

    def written(path: str, chunks: Written) -> None:
        held[path] = hold(path, chunks)

    made({KEYS: keys_file(log)})
    drawings: dict[str, Callable[[], bytes]] = {}
    note("datasets")
    made(dataset_files(subjects))
    note("CDISC ODM")
    written(
        odm_path(log.study),
        partial(odm_chunks, log.events, study=log.study, created_at=log.tie.sealed_at),
    )
    note("audit trail")
    rows = audit_trail_rows(log)
    written(f"{AUDIT_TRAIL}.csv", partial(renderings.audit_trail_csv_chunks, rows))
    written(f"{AUDIT_TRAIL}.json", partial(audit_trail_json, log, subjects, rows))
    note("CONEP reports")
    reports = conep_reports(log, subjects)
    made({f"{path}.json": _json(report.content) for path, report in reports.items()})
    locks = lock_state(log.study, subjects, log.accounts(), log.site)
    if locks is not None:
        made({LOCK_STATE: _json(locks)})
    if documents:
        drawings.update(document_drawings(log, subjects, rows, reports))
    made({README: readme(log, subjects, sorted({*held, *drawings}), documents=documents)})
    if draw:
        note(f"drawing {len(drawings)} PDFs")
        made(draw_all(drawings))
    return Derived(dict(sorted(held.items())), frozenset(drawings))


def _as_written(content: bytes) -> Iterator[bytes]:
    """A file made whole, as :data:`Written` gives it."""
    yield content


# -- drawing ---------------------------------------------------------------------------------------

_drawings: dict[str, Callable[[], bytes]] = {}
"""The drawings of the current :func:`draw_all`, for the processes it forks."""


def draw_all(drawings: Mapping[str, Callable[[], bytes]]) -> dict[str, bytes]:
    """Every drawing done, on every core when this process may fork.

    Drawing (matplotlib's charts, reportlab's pages) is nearly all of a packet's time, and each
    PDF is independent of the others. A forked process shares the events already in memory,
    so nothing is sent to it but a path. Fork is safe only while this process runs one thread
    (a database pool's threads may hold locks a child would inherit), so otherwise, and where
    there is no fork or one core, the PDFs are drawn here, one after another.
    """
    workers = min(len(drawings), os.cpu_count() or 1)
    if workers < 2 or threading.active_count() > 1 or "fork" not in mp.get_all_start_methods():
        return {path: drawing() for path, drawing in drawings.items()}
    # matplotlib is imported when a chart is first drawn: imported before the fork, each
    # process shares it instead of importing its own.
    charts.load_matplotlib()
    _drawings.clear()
    _drawings.update(drawings)
    try:
        with mp.get_context("fork").Pool(workers) as pool:
            drawn = pool.map(_draw, list(drawings), chunksize=1)
    finally:
        _drawings.clear()
    return dict(zip(drawings, drawn, strict=True))


def _draw(path: str) -> bytes:
    return _drawings[path]()


# -- keys ------------------------------------------------------------------------------------------


def keys_file(log: PacketLog) -> bytes:
    """Every public key the log knows, with its period of validity and its holder.

    The server's key is the anchor: valid for all time, it signs the checkpoint and the first
    administration. Every other key is as its account's signed events registered, rotated and
    revoked it.
    """
    anchor = server_anchor(log.server_key)
    keys: list[dict[str, Any]] = [
        {
            "user_id": SYSTEM_USER,
            "printed_name": "sealtrail server (trust anchor)",
            "key_id": anchor.key_id,
            "public_key": anchor.public_key,
            "valid_from": None,
            "revoked_at": None,
            "anchor": True,
        }
    ]
    for user_id, account in sorted(log.accounts().items()):
        for key in sorted(account.keys.values(), key=lambda k: (k.effective_from, k.key_id)):
            if user_id == SYSTEM_USER and key.key_id == anchor.key_id:
                continue
            keys.append(
                {
                    "user_id": user_id,
                    "printed_name": account.printed_name,
                    "key_id": key.key_id,
                    "public_key": key.public_key,
                    "valid_from": recorded_instant(key.effective_from),
                    "revoked_at": None
                    if key.revoked_at is None
                    else recorded_instant(key.revoked_at),
                    "anchor": False,
                }
            )
    return _json({"origin": log.origin, "keys": keys})


# -- CDISC ODM and datasets ------------------------------------------------------------------------


def odm_path(study: str) -> str:
    """Where the packet keeps the study's CDISC ODM 1.3.2 file."""
    return f"odm/{study}.odm.xml"


def dataset_files(subjects: Mapping[str, Subject]) -> dict[str, bytes]:
    """The SDTM-shaped datasets (DM, EX, LB, AE, DS) and their data dictionary."""
    files = {
        f"{DATASETS}/{name}": content
        for name, content in sdtm_datasets(list(subjects.values())).items()
    }
    recorded = {entry.kind for subject in subjects.values() for entry in subject.entries.values()}
    files[f"{DATASETS}/data-dictionary.csv"] = data_dictionary(recorded)
    return files


# -- the audit trail -------------------------------------------------------------------------------


def audit_trail_json(
    log: PacketLog, subjects: Mapping[str, Subject], rows: Sequence[AuditRow]
) -> Iterator[bytes]:
    """The Part 11 audit trail of every subject as JSON (as CSV: ``renderings.audit_trail_csv``),
    a chunk at a time."""
    return renderings.audit_trail_json_chunks(
        rows,
        renderings.AuditTrailHead(
            study=log.study,
            codes=list(subjects),
            period=Period(),
            tie=log.tie,
            synthetic=_synthetic(subjects),
            generated_at=log.tie.sealed_at,
        ),
    )


def audit_trail_rows(log: PacketLog) -> list[AuditRow]:
    """Every subject's audit rows, subject by subject, each oldest first."""
    return [row for events in log.subject_events().values() for row in audit_rows(events)]


# -- CONEP -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConepReport:
    """A CONEP document's content, and the subject it is about (none for the progress report)."""

    content: Document
    subject: Subject | None = None


def conep_reports(log: PacketLog, subjects: Mapping[str, Subject]) -> dict[str, ConepReport]:
    """The partial progress report and a notification of every serious adverse event, by path
    (without extension). Each is dated the day the checkpoint was sealed, at the site."""
    protocol = protocol_for(log.study)
    today = log.tie.sealed_at.astimezone(protocol.time_zone).date()
    reports = {
        PROGRESS_REPORT: ConepReport(
            progress_report(protocol, subjects.values(), report_date=today)
        )
    }
    for code, subject in subjects.items():
        for name, event in sorted(subject.adverse_events().items()):
            if event["serious"]:
                reports[f"{SAE_NOTIFICATIONS}/{code}-{name}"] = ConepReport(
                    sae_notification(subject, name, report_date=today, follow_up=None), subject
                )
    return reports


def document_drawings(
    log: PacketLog,
    subjects: Mapping[str, Subject],
    rows: Sequence[AuditRow],
    reports: Mapping[str, ConepReport],
) -> dict[str, Callable[[], bytes]]:
    """How to draw each PDF of the packet, by its path: drawn only when asked for."""
    drawings: dict[str, Callable[[], bytes]] = {
        f"{AUDIT_TRAIL}.pdf": partial(_audit_trail_pdf, log, subjects, rows)
    }
    for path, report in reports.items():
        drawings[f"{path}.pdf"] = partial(_conep_pdf, log, report)
    return drawings


def _audit_trail_pdf(
    log: PacketLog, subjects: Mapping[str, Subject], rows: Sequence[AuditRow]
) -> bytes:
    document = renderings.audit_trail_document(
        rows,
        protocol=protocol_for(log.study),
        subjects=subjects,
        period=Period(),
        tie=log.tie,
        authentication=_authentication(log),
        now=log.tie.sealed_at,
        reproducible=True,
        chart_dpi=CHART_DPI,
    )
    return pdf.render(document)


def _conep_pdf(log: PacketLog, report: ConepReport) -> bytes:
    document = renderings.conep_document(
        report.content,
        protocol=protocol_for(log.study),
        tie=log.tie,
        authentication=_authentication(log),
        now=log.tie.sealed_at,
        subject=report.subject,
        reproducible=True,
        chart_dpi=CHART_DPI,
    )
    return pdf.render(document)


def _authentication(log: PacketLog) -> Authentication:
    # A packet's PDFs carry no PAdES signature: ECDSA signatures and PAdES signing times
    # differ on every build, and two builds of a packet must be byte-identical. The manifest,
    # signed by the sponsor, covers each file's SHA-256 instead.
    return Authentication(
        footer_mark=f"packet of {log.tie.tree_size} events",
        fields=[
            (
                label("Autenticação", "Authentication"),
                "This file is part of a sealtrail submission packet. Its SHA-256 is listed in "
                "the packet's manifest, which the sponsor signed; `sealtrail packet verify` "
                "checks that signature and draws this file again from the packet's events.",
            )
        ],
    )


# -- the packet's own description ------------------------------------------------------------------


def readme(
    log: PacketLog, subjects: Mapping[str, Subject], paths: Sequence[str], *, documents: bool
) -> bytes:
    """What the packet holds and how to check it, for the person who opens the zip."""
    protocol = protocol_for(log.study)
    lines = [
        f"sealtrail submission packet: {protocol.study_id} ({protocol.ethics_reference})",
        f"{protocol.title}",
        "",
        f"Log: {log.origin}, {log.tie.tree_size} events, checkpoint sealed "
        f"{pdf.generated_at(log.tie.sealed_at)}.",
        f"Subjects: {len(subjects)}. Documents (PDF): {'included' if documents else 'not drawn'}.",
    ]
    if log.site is not None:
        lines += [
            "",
            f"SITE COPY of site {log.site}: its subjects only, built for its investigator. The",
            "events of other sites' subjects and staff are left out; log/withheld-leaves.jsonl",
            "gives each one's leaf (nothing is hidden from the checkpoint) and, for a subject,",
            "the site the builder states it is of: check that no code of this site's is there.",
        ]
    if _synthetic(subjects):
        lines += ["", "SYNTHETIC demonstration data: no person stands behind these records."]
    lines += [
        "",
        "Verify it, offline, with sealtrail installed (no database, no server):",
        "",
        "    sealtrail packet verify PACKET.zip",
        "",
        "It checks the manifest and its signature, every event's signature with the key valid",
        "when the store recorded it, every subject's hash chain, every inclusion proof against",
        "the checkpoint, and that every derived file below equals what the events give.",
        "",
        "Evidence (the log itself):",
        "  log/events.jsonl            every event as stored and as its author signed it",
        "  log/inclusion-proofs.jsonl  each event's RFC 6962 leaf hash and inclusion proof",
        "  log/checkpoint.txt          the C2SP signed checkpoint the proofs lead to",
        "  log/server-key.txt          the server's public key (the log's trust anchor)",
        "Derived from the events:",
    ]
    lines += [f"  {path}" for path in paths if path != README]
    lines += [
        "",
        "manifest.json lists every file with its SHA-256; manifest.sig is the sponsor's",
        "Ed25519 signature over manifest.json's exact bytes (base64).",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _synthetic(subjects: Mapping[str, Subject]) -> bool:
    return any(subject.synthetic for subject in subjects.values())


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
