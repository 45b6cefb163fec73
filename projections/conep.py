"""What the store reports to CONEP (Brazil's National Research Ethics Commission), from events.

Two documents, each a pure function of folded subjects:

- :func:`sae_notification`: the notification of one serious adverse event, with the data
  elements of the CIOMS I form (PROTOCOL.md, "Reporting rules"): country; the subject's study
  code, age and sex; onset; a description with relevant tests and lab data; the seriousness
  criteria; each suspect product with lot, dose, route, indication, therapy dates and duration;
  what happened on stopping or reintroducing it, where the record shows it; concomitant
  therapy; relevant history; sponsor, report source, date received, date of this report, and
  whether it is the initial report or a follow-up.
- :func:`progress_report`: the partial or final report of Res. CNS 466/2012 XI.2(d): the CAAE
  (the protocol's ``ethics_reference``), numbers recruited, included, withdrawn with reasons and
  completed, the serious events and the actions taken, deaths, deviations and results.

Both return a *document*: a JSON-ready dict with a bilingual ``title``, ``sections`` (each with
a title, labelled ``fields`` and ``tables``) and ``data``, the same facts for machines. Labels
are in Portuguese with English beside them ("Óbitos / Deaths"); values are as recorded, dates
in ISO 8601. Every figure names the entries it came from, so a reader can open them in the
subject's history and audit trail.

An adverse event is addressed as ``<subject code>/<adverse event id>``, e.g. ``RP-03/AE-02``
(optionally prefixed by the study: ``NCT01297972/RP-03/AE-02``); neither code may contain
``/``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property
from statistics import median
from typing import Any

from domain.clinical import NotificationClock, TransfusionProduct
from domain.errors import AdverseEventNotFound, SeriousnessCriterionMissing
from domain.protocol import StudyProtocol
from domain.subject import Entry, Subject
from domain.subject.disposition import ProtocolDeviationRecorded
from domain.subject.enrolment import ScreenFailed
from domain.subject.measurements import ChimerismAssessed, TransfusionGiven
from domain.subject.safety import SeriousAdverseEventNotified
from domain.subject.treatment import (
    CyclosporineDoseAdjusted,
    CyclosporineStarted,
    CyclosporineStopped,
    RatgDoseGiven,
)
from domain.subject_facts import (
    baseline_severity,
    blood_counts,
    notification_clocks,
    responses,
    treatment_start,
)
from domain.vocabulary import Status
from domain.wire import to_wire

Document = dict[str, Any]
Section = dict[str, Any]
Table = dict[str, Any]

LAB_WINDOW_DAYS = 14
"""Blood counts this many days either side of the event are its relevant lab data."""
CONCOMITANT_WINDOW_DAYS = 30
"""Transfusions from this many days before onset are concomitant therapy."""

ROUTES = {
    "MSC": "intravenosa / intravenous",
    "rATG": "intravenosa / intravenous",
    "cyclosporine": "oral / oral",
}
"""How each product of the treatment events is given (the event kinds name the products)."""

RELATEDNESS_FIELDS = {
    "MSC": "relatedness_msc",
    "rATG": "relatedness_ratg",
    "cyclosporine": "relatedness_cyclosporine",
}
"""The field of an adverse event that relates it to each product."""

COUNTRIES = {"BR": "Brasil / Brazil"}
NOT_RECORDED = "não registrado / not recorded"
SYNTHETIC_NOTICE = (
    "DADOS SINTÉTICOS: nenhuma pessoa real está por trás destes registros. / "
    "SYNTHETIC DATA: no person stands behind these records."
)


def label(portuguese: str, english: str) -> str:
    """A label in Portuguese with the English beside it."""
    return f"{portuguese} / {english}"


SERIOUSNESS_LABELS = {
    "death": label("Óbito", "Patient died"),
    "life_threatening": label("Risco de morte", "Life-threatening"),
    "hospitalisation": label(
        "Hospitalização ou prolongamento", "Involved or prolonged in-patient hospitalisation"
    ),
    "disability": label(
        "Incapacidade persistente ou significativa", "Persistent or significant disability"
    ),
    "congenital_anomaly": label("Anomalia congênita", "Congenital anomaly"),
    "important_medical_event": label(
        "Outro evento clinicamente importante", "Other medically important condition"
    ),
}
SUBJECT_COLUMN = label("Participante", "Subject")
DATE_COLUMN = label("Data", "Date")
REASON_COLUMN = label("Motivo", "Reason")
ENTRY_COLUMN = label("Registro", "Entry")
SEX_LABELS = {"F": label("Feminino", "Female"), "M": label("Masculino", "Male")}
PRODUCT_LABELS = {
    TransfusionProduct.RED_CELLS: label("Concentrado de hemácias", "Red cells"),
    TransfusionProduct.PLATELETS: label("Concentrado de plaquetas", "Platelets"),
}


# -- addressing ----------------------------------------------------------------------------


def parse_event_id(text: str) -> tuple[str | None, str, str]:
    """Split ``[STUDY/]SUBJECT/AE`` into (study or None, subject code, adverse event id).

    Raises:
        AdverseEventNotFound: the text is not of that form.
    """
    parts = text.strip().split("/")
    if len(parts) == 2 and all(parts):
        return None, parts[0], parts[1]
    if len(parts) == 3 and all(parts):
        return parts[0], parts[1], parts[2]
    raise AdverseEventNotFound(
        f"{text!r} does not name an adverse event: write SUBJECT/AE, e.g. RP-03/AE-02"
    )


# -- the serious adverse event notification -------------------------------------------------


def sae_notification(
    subject: Subject,
    adverse_event: str,
    *,
    report_date: date,
    follow_up: bool | None = None,
) -> Document:
    """The CONEP notification of one serious adverse event of a subject (CIOMS I elements).

    Args:
        subject: the subject, folded from its events.
        adverse_event: the site's id of the event (e.g. ``AE-02``).
        report_date: the date of this report (the site's calendar).
        follow_up: whether this is a follow-up report; by default, a follow-up when a
            notification of this event is already recorded.

    Raises:
        AdverseEventNotFound: the subject has no such adverse event.
        SeriousnessCriterionMissing: the event is not serious.
    """
    event = _serious_event(subject, adverse_event)
    onset: date = event["onset_on"]
    ended: date | None = event.get("resolved_on")
    notified = _notifications(subject, adverse_event)
    is_follow_up = bool(notified) if follow_up is None else follow_up
    sources = [event["reported_in"], *event["follow_ups"]]
    lab_rows, lab_entries = _lab_rows(subject, onset, ended)
    products = _suspect_products(subject, event, onset)
    protocol = subject.protocol
    return _document(
        "conep-sae",
        title=label("Notificação de evento adverso grave", "Serious adverse event notification"),
        subtitle=f"{protocol.ethics_reference} · {protocol.study_id} · "
        f"{subject.subject_code}/{adverse_event}",
        synthetic=subject.synthetic,
        sections=[
            _report_identification(
                subject,
                adverse_event,
                learned_on=event["learned_on"],
                report_date=report_date,
                report_kind=_report_kind(is_follow_up, len(notified)),
            ),
            _patient_information(subject),
            _reaction_information(subject, adverse_event, event, lab_rows),
            _suspect_products_section(subject, onset, ended, products),
            _concomitant_therapy_and_history(subject, adverse_event, onset, ended),
            _notifications_and_clock(
                notified,
                notification_clocks(subject, report_date).get(adverse_event),
                [*sources, *lab_entries, *(p[7] for p in products)],
            ),
        ],
        data={
            "study": protocol.study_id,
            "ethics_reference": protocol.ethics_reference,
            "country": protocol.country,
            "subject": subject.subject_code,
            "age": subject.age,
            "sex": subject.sex.value,
            "adverse_event": adverse_event,
            "term": event["term"],
            "grade": event["grade"],
            "onset_on": to_wire(onset),
            "resolved_on": to_wire(ended),
            "seriousness": _seriousness(event),
            "outcome": _code(event["outcome"]),
            "learned_on": to_wire(event["learned_on"]),
            "report_date": to_wire(report_date),
            "follow_up": is_follow_up,
            "notifications": len(notified),
            "suspect_products": [p[0] for p in products],
            "relatedness": _relatedness(event),
            "lab_entries": lab_entries,
            "entries": sources,
        },
    )


def _serious_event(subject: Subject, adverse_event: str) -> dict[str, Any]:
    """The subject's adverse event, which must be serious to be notified as one."""
    event = subject.adverse_events().get(adverse_event)
    if event is None:
        raise AdverseEventNotFound(f"{subject.subject_code} has no adverse event {adverse_event!r}")
    if not event["serious"]:
        raise SeriousnessCriterionMissing(
            f"adverse event {subject.subject_code}/{adverse_event} is not serious: "
            "it is not notified as one"
        )
    return event


def _notifications(subject: Subject, adverse_event: str) -> list[Entry]:
    """The notifications of the adverse event recorded so far."""
    return [
        e for e in subject.live(SeriousAdverseEventNotified) if e["adverse_event"] == adverse_event
    ]


def _seriousness(event: dict[str, Any]) -> list[str]:
    return [_code(c) for c in event["seriousness"]]


def _relatedness(event: dict[str, Any]) -> dict[str, str]:
    """The investigator's causality assessment of the event against each study product."""
    return {product: _code(event[field]) for product, field in RELATEDNESS_FIELDS.items()}


def _report_kind(follow_up: bool, notifications: int) -> str:
    if follow_up:
        return label("Acompanhamento", "Follow-up") + f" ({notifications})"
    return label("Inicial", "Initial")


def _report_identification(
    subject: Subject, adverse_event: str, *, learned_on: date, report_date: date, report_kind: str
) -> Section:
    protocol = subject.protocol
    return _section(
        label("Identificação do relato", "Report identification"),
        [
            (label("País", "Country"), COUNTRIES.get(protocol.country, protocol.country)),
            (label("Estudo", "Study"), f"{protocol.study_id}: {protocol.title}"),
            (
                label("Referência ética (CAAE/CONEP)", "Ethics reference"),
                protocol.ethics_reference,
            ),
            (label("Patrocinador", "Sponsor"), protocol.sponsor),
            (
                label("Fonte do relato", "Report source"),
                label("Estudo clínico", "Study") + f" ({protocol.study_id})",
            ),
            (label("Data de recebimento", "Date received by sponsor"), _d(learned_on)),
            (label("Data deste relato", "Date of this report"), _d(report_date)),
            (label("Tipo de relato", "Report type"), report_kind),
            (label("Evento", "Event"), f"{subject.subject_code}/{adverse_event}"),
        ],
    )


def _patient_information(subject: Subject) -> Section:
    return _section(
        label("Informação do participante", "Patient information"),
        [
            (
                label("Código no estudo", "Study code (in place of initials)"),
                subject.subject_code,
            ),
            (label("Idade na triagem", "Age at screening"), f"{subject.age} anos / years"),
            (label("Sexo", "Sex"), SEX_LABELS.get(subject.sex.value, subject.sex.value)),
            (label("Centro", "Site"), subject.site),
        ],
    )


def _reaction_information(
    subject: Subject, adverse_event: str, event: dict[str, Any], lab_rows: list[list[str]]
) -> Section:
    ended: date | None = event.get("resolved_on")
    return _section(
        label("Informação da reação", "Reaction information"),
        [
            (label("Início da reação", "Reaction onset"), _d(event["onset_on"])),
            (label("Descrição", "Description"), _description(subject, adverse_event, event)),
            (
                label("Critérios de gravidade", "Seriousness criteria"),
                "; ".join(SERIOUSNESS_LABELS.get(c, c) for c in _seriousness(event))
                or NOT_RECORDED,
            ),
            (label("Esperado", "Expected"), _yes_no(event["expected"])),
            (label("Desfecho", "Outcome"), _code(event["outcome"])),
            (label("Data de término", "End date"), _d(ended) if ended else "-"),
        ],
        tables=[
            _table(
                label("Exames relevantes e dados laboratoriais", "Relevant tests and lab data"),
                [
                    label("Coleta", "Collected"),
                    label("Hemoglobina", "Haemoglobin") + " (g/dL)",
                    label("Neutrófilos", "ANC") + " (10^9/L)",
                    label("Plaquetas", "Platelets") + " (10^9/L)",
                    label("Reticulócitos", "Reticulocytes") + " (10^9/L)",
                    ENTRY_COLUMN,
                ],
                lab_rows,
                empty=label(
                    f"Nenhum hemograma até {LAB_WINDOW_DAYS} dias do evento",
                    f"No blood count within {LAB_WINDOW_DAYS} days of the event",
                ),
            )
        ],
    )


def _suspect_products_section(
    subject: Subject, onset: date, ended: date | None, products: list[list[Any]]
) -> Section:
    return _section(
        label("Produtos suspeitos", "Suspect products"),
        [
            (label("Indicação", "Indication"), subject.protocol.title),
            (
                label(
                    "Cessou ao suspender / reapareceu ao reintroduzir",
                    "Dechallenge / rechallenge",
                ),
                _dechallenge(subject, onset, ended),
            ),
        ],
        tables=[
            _table(
                label("Produtos", "Products"),
                [
                    label("Produto", "Product"),
                    label("Lote / doador", "Lot / donor"),
                    label("Dose", "Dose"),
                    label("Via", "Route"),
                    label("Datas", "Therapy dates"),
                    label("Duração", "Duration"),
                    label("Relação causal", "Relatedness"),
                ],
                [row[:7] for row in products],
                empty=label("Nenhum produto do estudo administrado", "No study product given"),
            )
        ],
    )


def _concomitant_therapy_and_history(
    subject: Subject, adverse_event: str, onset: date, ended: date | None
) -> Section:
    return _section(
        label("Terapia concomitante e história", "Concomitant therapy and history"),
        [
            (
                label("Medicamentos concomitantes", "Concomitant drugs"),
                _concomitant(subject, onset, ended),
            ),
            (
                label("História relevante", "Relevant history"),
                _history(subject, adverse_event, onset),
            ),
        ],
    )


def _notifications_and_clock(
    notified: list[Entry], clock: NotificationClock | None, entries: list[int]
) -> Section:
    return _section(
        label("Notificações e prazo", "Notifications and clock"),
        [
            (
                label("Notificações registradas", "Notifications recorded"),
                "; ".join(_notification_text(e) for e in notified) or label("nenhuma", "none"),
            ),
            (label("Prazo", "Clock"), _clock_text(clock)),
            (
                label("Registros de origem", "Source entries"),
                ", ".join(str(v) for v in entries),
            ),
        ],
    )


def _notification_text(notification: Entry) -> str:
    kind = (
        label("acompanhamento", "follow-up")
        if notification["follow_up"]
        else label("inicial", "initial")
    )
    return (
        f"{_d(notification['notified_on'])} {notification['recipient']} {kind}"
        f" ({label('registro', 'entry')} {notification.version})"
    )


def _clock_text(clock: NotificationClock | None) -> str:
    if clock is None:
        return "-"
    return (
        f"{clock.rule_set_name}: {clock.days_allowed} "
        + label("dias", "days")
        + f", {label('vence em', 'due on')} {_d(clock.due_on)}, {clock.status.value}"
    )


def _description(subject: Subject, name: str, event: dict[str, Any]) -> str:
    parts = [
        f"{event['term']} (CTCAE v5 {label('grau', 'grade')} {event['grade']}; "
        f"{_code(event['category'])})",
        f"{label('início', 'onset')} {_d(event['onset_on'])}",
    ]
    if event.get("pathogen") is not None:
        parts.append(f"{label('patógeno', 'pathogen')}: {_code(event['pathogen'])}")
    parts.append(f"{label('desfecho', 'outcome')}: {_code(event['outcome'])}")
    if event.get("resolved_on") is not None:
        parts.append(f"{label('término', 'ended')} {_d(event['resolved_on'])}")
    for version in event["follow_ups"]:
        follow = subject.entries[version]
        changes = ", ".join(f"{k}={_text(v)}" for k, v in follow["changes"].items())
        parts.append(
            f"{label('seguimento', 'follow-up')} {_d(follow['followed_up_on'])}: {changes}"
        )
    death = subject.death
    if death is not None and death["adverse_event"] == name:
        parts.append(
            f"{label('óbito', 'death')} {_d(death['died_on'])}: {death['cause']} "
            f"({label('registro', 'entry')} {death.version})"
        )
    return "; ".join(parts) + "."


def _lab_rows(
    subject: Subject, onset: date, ended: date | None
) -> tuple[list[list[str]], list[int]]:
    first = onset - timedelta(days=LAB_WINDOW_DAYS)
    last = (ended or onset) + timedelta(days=LAB_WINDOW_DAYS)
    counts = blood_counts(subject)
    chosen = [(e, c) for e, c in counts if first <= c.collected_on <= last]
    if not chosen:
        before = [(e, c) for e, c in counts if c.collected_on <= onset]
        chosen = before[-1:]
    rows = [
        [
            _d(c.collected_on),
            _num(c.haemoglobin),
            _num(c.neutrophils),
            _num(c.platelets),
            _num(c.reticulocytes),
            str(e.version),
        ]
        for e, c in chosen
    ]
    return rows, [e.version for e, _ in chosen]


def _suspect_products(subject: Subject, event: dict[str, Any], onset: date) -> list[list[Any]]:
    """One row per product: name, lot, dose, route, dates, duration, relatedness, entry."""
    rows: list[list[Any]] = []
    msc = _code(event["relatedness_msc"])
    for infusion in subject.infusions:
        day = subject.dated_on(infusion)
        rows.append(
            [
                f"MSC ({label('infusão', 'infusion')} {infusion['infusion_number']})",
                f"{infusion['product_lot']} / {infusion['donor_code']}",
                _text(to_wire(infusion["dose"])),
                ROUTES["MSC"],
                _d(day),
                "1 " + label("dia", "day"),
                msc,
                infusion.version,
            ]
        )
    ratg = sorted(subject.live(RatgDoseGiven), key=lambda e: e["given_on"])
    if ratg:
        doses = sorted({_text(to_wire(e["dose"])) for e in ratg})
        first, last = ratg[0]["given_on"], ratg[-1]["given_on"]
        rows.append(
            [
                "rATG",
                NOT_RECORDED,
                " / ".join(doses) + " " + label("por dia", "daily"),
                ROUTES["rATG"],
                f"{_d(first)} a / to {_d(last)}",
                f"{len(ratg)} " + label("dias", "days"),
                _code(event["relatedness_ratg"]),
                ratg[0].version,
            ]
        )
    started = subject.latest(CyclosporineStarted)
    if started is not None:
        dose_entry: Entry = started
        for adjusted in subject.live(CyclosporineDoseAdjusted):
            if adjusted["effective_on"] <= onset and adjusted["effective_on"] >= _dose_day(
                dose_entry
            ):
                dose_entry = adjusted
        stopped = subject.latest(CyclosporineStopped)
        end = stopped["stopped_on"] if stopped is not None else None
        span = (end - started["started_on"]).days + 1 if end is not None else None
        rows.append(
            [
                label("Ciclosporina", "Cyclosporine"),
                NOT_RECORDED,
                _text(to_wire(dose_entry["dose"]))
                + f" ({label('no início do evento', 'at onset')})",
                ROUTES["cyclosporine"],
                f"{_d(started['started_on'])} a / to "
                + (_d(end) if end is not None else label("em curso", "ongoing")),
                f"{span} " + label("dias", "days") if span is not None else "-",
                _code(event["relatedness_cyclosporine"]),
                started.version,
            ]
        )
    return rows


def _dose_day(entry: Entry) -> date:
    day: date = (
        entry["effective_on"]
        if entry.kind == CyclosporineDoseAdjusted.kind()
        else entry["started_on"]
    )
    return day


def _dechallenge(subject: Subject, onset: date, ended: date | None) -> str:
    facts = []
    stopped = subject.latest(CyclosporineStopped)
    # Stopping counts as a dechallenge only while the event was going on.
    if (
        stopped is not None
        and stopped["stopped_on"] >= onset
        and (ended is None or stopped["stopped_on"] <= ended)
    ):
        after = (
            label("evento terminou em", "event ended on") + f" {_d(ended)}"
            if ended is not None
            else label("evento não terminou", "event had not ended")
        )
        facts.append(
            f"{label('ciclosporina suspensa em', 'cyclosporine stopped on')} "
            f"{_d(stopped['stopped_on'])} ({stopped['reason']}); {after}"
        )
    later = [e for e in subject.infusions if (subject.dated_on(e) or onset) > onset]
    for infusion in later:
        facts.append(
            f"{label('MSC reintroduzida', 'MSC given again')}: "
            f"{label('infusão', 'infusion')} {infusion['infusion_number']} "
            f"{_d(subject.dated_on(infusion))}"
        )
    if not facts:
        return label("desconhecido", "unknown") + " (" + NOT_RECORDED + ")"
    return "; ".join(facts)


def _concomitant(subject: Subject, onset: date, ended: date | None) -> str:
    first = onset - timedelta(days=CONCOMITANT_WINDOW_DAYS)
    last = ended or onset
    given = sorted(
        (e for e in subject.live(TransfusionGiven) if first <= e["given_on"] <= last),
        key=lambda e: e["given_on"],
    )
    parts = [
        f"{PRODUCT_LABELS.get(e['product'], _code(e['product']))} {e['units']} "
        f"{label('unidades', 'units')} {_d(e['given_on'])}"
        for e in given
    ]
    parts.append(
        label(
            "nenhum outro medicamento concomitante é registrado pelo protocolo",
            "no other concomitant medication is recorded by the protocol",
        )
    )
    return "; ".join(parts)


def _history(subject: Subject, name: str, onset: date) -> str:
    severity = baseline_severity(subject)
    parts = [
        f"{label('gravidade basal (Camitta)', 'baseline severity (Camitta)')}: "
        f"{severity.severity.value}"
    ]
    consent, enrolment, start = subject.consent, subject.enrolment, treatment_start(subject)
    if consent is not None:
        parts.append(f"TCLE {consent['tcle_version']} {_d(consent['consented_on'])}")
    if enrolment is not None:
        parts.append(f"{label('inclusão', 'enrolled')} {_d(enrolment['enrolled_on'])}")
    if start is not None:
        parts.append(f"{label('início do tratamento', 'treatment start')} {_d(start)}")
    earlier = [
        f"{other} {e['term']} ({_d(e['onset_on'])})"
        for other, e in subject.adverse_events().items()
        if other != name and e["onset_on"] <= onset
    ]
    if earlier:
        parts.append(f"{label('eventos anteriores', 'earlier events')}: " + ", ".join(earlier))
    return "; ".join(parts)


# -- the progress report ---------------------------------------------------------------------


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
    return _document(
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
            _section(label("Resultados", "Results"), _results(protocol, cohort.enrolled)),
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
    return _section(
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
                f"{_d(first_screened)} a / to {_d(report_date)}" if first_screened else "-",
            ),
            (label("Data deste relatório", "Date of this report"), _d(report_date)),
        ],
    )


def _participants(cohort: _Cohort, counts: dict[str, int]) -> Section:
    return _section(
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
    return _table(
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
                _d(w["withdrawn_on"]),
                _code(w["decided_by"]),
                w["reason"],
                str(w.version),
            ]
            for s in withdrawn
            if (w := s.withdrawal) is not None
        ],
        empty=label("Nenhuma retirada", "No withdrawal"),
    )


def _screen_failures(screen_failed: list[Subject]) -> Table:
    return _table(
        label("Falhas de triagem e motivos", "Screen failures and reasons"),
        [SUBJECT_COLUMN, DATE_COLUMN, REASON_COLUMN, ENTRY_COLUMN],
        [
            [s.subject_code, _d(f["failed_on"]), f["reason"], str(f.version)]
            for s in screen_failed
            if (f := s.latest(ScreenFailed)) is not None
        ],
        empty=label("Nenhuma falha de triagem", "No screen failure"),
    )


def _deaths(died: list[Subject]) -> Section:
    deaths = label("Óbitos", "Deaths")
    return _section(
        deaths,
        [],
        tables=[
            _table(
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
                        _d(d["died_on"]),
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
    return _section(
        label(
            "Eventos adversos graves e ações tomadas",
            "Serious adverse events and actions taken",
        ),
        [],
        tables=[
            _table(
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
    return _section(
        label("Desvios de protocolo", "Protocol deviations"),
        [
            (label("Desvios", "Deviations"), str(counts["deviations"])),
            (label("Desvios maiores", "Major deviations"), str(counts["major_deviations"])),
        ],
        tables=[
            _table(
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
                        _d(e["occurred_on"]),
                        _code(e["category"]),
                        _yes_no(e["major"]),
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
    notified = _notifications(subject, name)
    clock = notification_clocks(subject, today).get(name)
    actions = [
        f"{label('notificado', 'notified')} {e['recipient']} {_d(e['notified_on'])}"
        for e in notified
    ]
    if event["follow_ups"]:
        actions.append(f"{len(event['follow_ups'])} " + label("seguimentos", "follow-ups"))
    if clock is not None:
        actions.append(f"{label('prazo', 'clock')}: {clock.status.value}")
    return [
        f"{subject.subject_code}/{name}",
        f"{event['term']} ({event['grade']})",
        _d(event["onset_on"]),
        ", ".join(_code(c) for c in event["seriousness"]),
        "/".join(_relatedness(event).values()),
        _code(event["outcome"]),
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
            f"{_num(Decimal(median(doses)))} {protocol.msc.dose_unit}" if doses else "-",
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


# -- helpers ----------------------------------------------------------------------------------


def _document(
    report: str,
    *,
    title: str,
    subtitle: str,
    synthetic: bool,
    sections: list[Section],
    data: dict[str, Any],
) -> Document:
    return {
        "report": report,
        "title": title,
        "subtitle": subtitle,
        "synthetic": synthetic,
        "notice": SYNTHETIC_NOTICE if synthetic else None,
        "sections": sections,
        "data": data,
    }


def _section(
    title: str,
    fields: Sequence[tuple[str, str]],
    *,
    tables: Sequence[Table] = (),
) -> Section:
    return {
        "title": title,
        "fields": [{"label": name, "value": value} for name, value in fields],
        "tables": list(tables),
    }


def _table(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], *, empty: str
) -> Table:
    return {
        "title": title,
        "columns": list(columns),
        "rows": [[str(cell) for cell in row] for row in rows],
        "empty": empty,
    }


def _code(value: Any) -> str:
    return str(getattr(value, "value", value))


def _d(value: date | None) -> str:
    return "-" if value is None else value.isoformat()


def _num(value: Decimal | None) -> str:
    return "-" if value is None else format(value, "f")


def _yes_no(value: bool) -> str:
    return label("sim", "yes") if value else label("não", "no")


def _text(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"value", "unit"}:
        return f"{value['value']} {value['unit']}"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return _code(to_wire(value)) if not isinstance(value, dict) else str(value)
