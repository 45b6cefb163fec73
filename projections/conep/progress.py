"""The partial or final report of a study to its ethics committee (Res. CNS 466/2012 XI.2(d)):
the CAAE (the protocol's ``ethics_reference``), numbers recruited, included, withdrawn with
reasons and completed, the serious events and the actions taken, deaths, deviations and results.
Every figure names the entries it came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property
from statistics import median
from typing import Any

from domain.protocol import StudyProtocol
from domain.subject import Entry, Subject
from domain.subject.disposition import ProtocolDeviationRecorded
from domain.subject.enrolment import ScreenFailed
from domain.subject.measurements import ChimerismAssessed
from domain.subject_facts import notification_clocks, responses
from domain.vocabulary import Status
from domain.wire import to_wire
from projections.conep.bilingual import COUNTRIES, ENTRY_COLUMN, label, yes_no
from projections.conep.case_facts import notifications_of, relatedness
from projections.conep.document import (
    Document,
    Section,
    Table,
    coded,
    decimal_text,
    document,
    iso_date,
    section,
    table,
)

SUBJECT_COLUMN = label("Participante", "Subject")
DATE_COLUMN = label("Data", "Date")
REASON_COLUMN = label("Motivo", "Reason")


def progress_report(
    protocol: StudyProtocol,
    subjects: Iterable[Subject],
    *,
    report_date: date,
    final: bool = False,
) -> Document:
    """The partial or final report of a study to its ethics committee (Res. CNS 466/2012).

    Args:
        protocol: the study's protocol (its CAAE/CONEP number is ``ethics_reference``).
        subjects: every subject of the study, folded from their events.
        report_date: the date of this report (the site's calendar).
        final: a final report, rather than a partial one.
    """
    cohort = _Cohort(sorted(subjects, key=lambda s: s.subject_code))
    counts = cohort.counts()
    kind = (
        label("Relatório final", "Final report")
        if final
        else label("Relatório parcial", "Partial report")
    )
    return document(
        "conep-progress",
        title=f"{kind} (Res. CNS 466/2012 XI.2(d))",
        subtitle=f"{protocol.ethics_reference} · {protocol.study_id}",
        synthetic=any(s.synthetic for s in cohort.subjects),
        sections=[
            _identification(protocol, kind, cohort.first_screened, report_date),
            _participants(cohort, counts),
            _deaths(cohort.died),
            _serious_adverse_events(cohort.serious, report_date),
            _protocol_deviations(cohort.deviations, counts),
            section(label("Resultados", "Results"), _results(protocol, cohort.enrolled)),
        ],
        data={
            "study": protocol.study_id,
            "ethics_reference": protocol.ethics_reference,
            "final": final,
            "report_date": to_wire(report_date),
            **counts,
            "withdrawals": [
                {"subject": s.subject_code, "reason": w["reason"], "entry": w.version}
                for s in cohort.withdrawn
                if (w := s.withdrawal) is not None
            ],
            "death_causes": [
                {"subject": s.subject_code, "cause": d["cause"], "entry": d.version}
                for s in cohort.died
                if (d := s.death) is not None
            ],
        },
    )


@dataclass(frozen=True)
class _Cohort:
    """The study's subjects by code, and the groups of them the progress report counts."""

    subjects: list[Subject]

    @cached_property
    def enrolled(self) -> list[Subject]:
        return [s for s in self.subjects if s.enrolment is not None]

    @cached_property
    def screen_failed(self) -> list[Subject]:
        return [s for s in self.subjects if s.latest(ScreenFailed) is not None]

    @cached_property
    def withdrawn(self) -> list[Subject]:
        return [s for s in self.subjects if s.withdrawal is not None]

    @cached_property
    def died(self) -> list[Subject]:
        return [s for s in self.subjects if s.death is not None]

    @cached_property
    def serious(self) -> list[tuple[Subject, str, dict[str, Any]]]:
        """Every serious adverse event: its subject, id and folded event."""
        return [
            (s, name, event)
            for s in self.subjects
            for name, event in s.adverse_events().items()
            if event["serious"]
        ]

    @cached_property
    def deviations(self) -> list[tuple[Subject, Entry]]:
        return [(s, e) for s in self.subjects for e in s.live(ProtocolDeviationRecorded)]

    @property
    def first_screened(self) -> date | None:
        return min((s.screening["screened_on"] for s in self.subjects), default=None)

    def counts(self) -> dict[str, int]:
        """The report's figures, in the order its data gives them."""
        statuses = [s.status for s in self.subjects]
        return {
            "recruited": len(self.subjects),
            "included": len(self.enrolled),
            "screen_failures": len(self.screen_failed),
            "withdrawn": len(self.withdrawn),
            "completed": statuses.count(Status.COMPLETED),
            "lost_to_follow_up": statuses.count(Status.LOST_TO_FOLLOW_UP),
            "ongoing": statuses.count(Status.ENROLLED),
            "deaths": len(self.died),
            "serious_adverse_events": len(self.serious),
            "deviations": len(self.deviations),
            "major_deviations": sum(1 for _, e in self.deviations if e["major"]),
        }


def _identification(
    protocol: StudyProtocol, kind: str, first_screened: date | None, report_date: date
) -> Section:
    return section(
        label("Identificação", "Identification"),
        [
            (label("Título", "Title"), protocol.title),
            (label("Registro", "Registry"), protocol.study_id),
            (label("CAAE / número CONEP", "CAAE / CONEP number"), protocol.ethics_reference),
            (label("Comitê de ética", "Ethics committee"), protocol.ethics_committee),
            (label("Patrocinador", "Sponsor"), protocol.sponsor),
            (label("País", "Country"), COUNTRIES.get(protocol.country, protocol.country)),
            (label("Tipo de relatório", "Report type"), kind),
            (
                label("Período", "Period"),
                f"{iso_date(first_screened)} a / to {iso_date(report_date)}"
                if first_screened
                else "-",
            ),
            (label("Data deste relatório", "Date of this report"), iso_date(report_date)),
        ],
    )


def _participants(cohort: _Cohort, counts: dict[str, int]) -> Section:
    return section(
        label("Participantes", "Participants"),
        [
            (label("Recrutados (triados)", "Recruited (screened)"), str(counts["recruited"])),
            (label("Incluídos (arrolados)", "Included (enrolled)"), str(counts["included"])),
            (label("Falhas de triagem", "Screen failures"), str(counts["screen_failures"])),
            (label("Retirados", "Withdrawn"), str(counts["withdrawn"])),
            (label("Concluídos", "Completed"), str(counts["completed"])),
            (
                label("Perdas de seguimento", "Lost to follow-up"),
                str(counts["lost_to_follow_up"]),
            ),
            (label("Em acompanhamento", "Ongoing"), str(counts["ongoing"])),
            (label("Óbitos", "Deaths"), str(counts["deaths"])),
        ],
        tables=[_withdrawals(cohort.withdrawn), _screen_failures(cohort.screen_failed)],
    )


def _withdrawals(withdrawn: list[Subject]) -> Table:
    return table(
        label("Retiradas e motivos", "Withdrawals and reasons"),
        [
            SUBJECT_COLUMN,
            DATE_COLUMN,
            label("Decidido por", "Decided by"),
            REASON_COLUMN,
            ENTRY_COLUMN,
        ],
        [
            [
                s.subject_code,
                iso_date(w["withdrawn_on"]),
                coded(w["decided_by"]),
                w["reason"],
                str(w.version),
            ]
            for s in withdrawn
            if (w := s.withdrawal) is not None
        ],
        empty=label("Nenhuma retirada", "No withdrawal"),
    )


def _screen_failures(screen_failed: list[Subject]) -> Table:
    return table(
        label("Falhas de triagem e motivos", "Screen failures and reasons"),
        [SUBJECT_COLUMN, DATE_COLUMN, REASON_COLUMN, ENTRY_COLUMN],
        [
            [s.subject_code, iso_date(f["failed_on"]), f["reason"], str(f.version)]
            for s in screen_failed
            if (f := s.latest(ScreenFailed)) is not None
        ],
        empty=label("Nenhuma falha de triagem", "No screen failure"),
    )


def _deaths(died: list[Subject]) -> Section:
    deaths = label("Óbitos", "Deaths")
    return section(
        deaths,
        [],
        tables=[
            table(
                deaths,
                [
                    SUBJECT_COLUMN,
                    DATE_COLUMN,
                    label("Causa", "Cause"),
                    label("Evento adverso", "Adverse event"),
                    ENTRY_COLUMN,
                ],
                [
                    [
                        s.subject_code,
                        iso_date(d["died_on"]),
                        d["cause"],
                        d["adverse_event"] or "-",
                        str(d.version),
                    ]
                    for s in died
                    if (d := s.death) is not None
                ],
                empty=label("Nenhum óbito", "No death"),
            )
        ],
    )


def _serious_adverse_events(
    serious: list[tuple[Subject, str, dict[str, Any]]], report_date: date
) -> Section:
    return section(
        label(
            "Eventos adversos graves e ações tomadas",
            "Serious adverse events and actions taken",
        ),
        [],
        tables=[
            table(
                label("Eventos adversos graves", "Serious adverse events"),
                [
                    label("Evento", "Event"),
                    label("Termo (grau)", "Term (grade)"),
                    label("Início", "Onset"),
                    label("Gravidade", "Seriousness"),
                    label("Relação MSC/rATG/CsA", "Relatedness MSC/rATG/CsA"),
                    label("Desfecho", "Outcome"),
                    label("Ações", "Actions"),
                ],
                [_serious_row(s, name, event, report_date) for s, name, event in serious],
                empty=label("Nenhum evento adverso grave", "No serious adverse event"),
            )
        ],
    )


def _protocol_deviations(
    deviations: list[tuple[Subject, Entry]], counts: dict[str, int]
) -> Section:
    return section(
        label("Desvios de protocolo", "Protocol deviations"),
        [
            (label("Desvios", "Deviations"), str(counts["deviations"])),
            (label("Desvios maiores", "Major deviations"), str(counts["major_deviations"])),
        ],
        tables=[
            table(
                label("Desvios", "Deviations"),
                [
                    SUBJECT_COLUMN,
                    DATE_COLUMN,
                    label("Categoria", "Category"),
                    label("Maior", "Major"),
                    label("Descrição", "Description"),
                    ENTRY_COLUMN,
                ],
                [
                    [
                        s.subject_code,
                        iso_date(e["occurred_on"]),
                        coded(e["category"]),
                        yes_no(e["major"]),
                        e["description"],
                        str(e.version),
                    ]
                    for s, e in deviations
                ],
                empty=label("Nenhum desvio", "No deviation"),
            )
        ],
    )


def _serious_row(subject: Subject, name: str, event: dict[str, Any], today: date) -> list[str]:
    notified = notifications_of(subject, name)
    clock = notification_clocks(subject, today).get(name)
    actions = [
        f"{label('notificado', 'notified')} {e['recipient']} {iso_date(e['notified_on'])}"
        for e in notified
    ]
    if event["follow_ups"]:
        actions.append(f"{len(event['follow_ups'])} " + label("seguimentos", "follow-ups"))
    if clock is not None:
        actions.append(f"{label('prazo', 'clock')}: {clock.status.value}")
    return [
        f"{subject.subject_code}/{name}",
        f"{event['term']} ({event['grade']})",
        iso_date(event["onset_on"]),
        ", ".join(coded(c) for c in event["seriousness"]),
        "/".join(relatedness(event).values()),
        coded(event["outcome"]),
        "; ".join(actions) or "-",
    ]


def _results(protocol: StudyProtocol, enrolled: Sequence[Subject]) -> list[tuple[str, str]]:
    doses = [e["dose"].value for s in enrolled for e in s.infusions]
    infused = sum(1 for s in enrolled if s.infusions)
    infusion_related = sum(
        1 for s in enrolled for e in s.adverse_events().values() if e["relatedness_msc"].is_related
    )
    last_month = max(protocol.schedule.response_months, default=None)
    categories: dict[str, int] = {}
    for s in enrolled:
        for found in responses(s):
            if found.comparison.finding.month == last_month:
                category = found.comparison.finding.category.value
                categories[category] = categories.get(category, 0) + 1
    chimerism = [e for s in enrolled for e in s.live(ChimerismAssessed)]
    detected = sum(1 for e in chimerism if e["donor_signal_detected"])
    return [
        (label("Participantes com infusão de MSC", "Subjects given MSC"), str(infused)),
        (label("Infusões de MSC", "MSC infusions"), str(len(doses))),
        (
            label("Dose mediana por infusão", "Median dose per infusion"),
            f"{decimal_text(Decimal(median(doses)))} {protocol.msc.dose_unit}" if doses else "-",
        ),
        (
            label("Eventos adversos relacionados à MSC", "Adverse events related to MSC"),
            str(infusion_related),
        ),
        (
            label(
                f"Resposta hematológica no mês {last_month}",
                f"Hematologic response at month {last_month}",
            ),
            ", ".join(f"{k}: {v}" for k, v in sorted(categories.items())) or "-",
        ),
        (
            label("Enxertia de MSC detectada", "MSC engraftment detected"),
            f"{detected} / {len(chimerism)} " + label("avaliações", "assessments"),
        ),
    ]
