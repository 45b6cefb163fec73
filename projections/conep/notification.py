"""The CONEP notification of one serious adverse event, with the data elements of the CIOMS I
form (the protocol's reporting rules): country; the subject's study code, age and sex; onset; a
description with relevant tests and lab data; the seriousness criteria; each suspect product with
lot, dose, route, indication, therapy dates and duration; what happened on stopping or
reintroducing it, where the record shows it; concomitant therapy; relevant history; sponsor,
report source, date received, date of this report, and whether it is the initial report or a
follow-up. Every figure names the entries it came from.

An adverse event is addressed as ``<subject code>/<adverse event id>``, e.g. ``RP-03/AE-02``
(optionally prefixed by the study: ``NCT01297972/RP-03/AE-02``); neither code may contain
``/``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.clinical import NotificationClock
from domain.errors import AdverseEventNotFound, SeriousnessCriterionMissing
from domain.subject import Entry, Subject
from domain.subject_facts import notification_clocks
from domain.wire import to_wire
from projections.conep.bilingual import COUNTRIES, ENTRY_COLUMN, NOT_RECORDED, label, yes_no
from projections.conep.case_facts import (
    LAB_WINDOW_DAYS,
    concomitant_therapy,
    dechallenge,
    description,
    lab_data,
    notifications_of,
    relatedness,
    relevant_history,
    seriousness_codes,
    suspect_products,
)
from projections.conep.document import Document, Section, coded, document, iso_date, section, table

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
SEX_LABELS = {"F": label("Feminino", "Female"), "M": label("Masculino", "Male")}


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
        "%(text)r does not name an adverse event: write SUBJECT/AE, e.g. RP-03/AE-02", text=text
    )


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
    notified = notifications_of(subject, adverse_event)
    is_follow_up = bool(notified) if follow_up is None else follow_up
    sources = [event["reported_in"], *event["follow_ups"]]
    lab_rows, lab_entries = lab_data(subject, onset, ended)
    products = suspect_products(subject, event, onset)
    protocol = subject.protocol
    return document(
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
            "seriousness": seriousness_codes(event),
            "outcome": coded(event["outcome"]),
            "learned_on": to_wire(event["learned_on"]),
            "report_date": to_wire(report_date),
            "follow_up": is_follow_up,
            "notifications": len(notified),
            "suspect_products": [p[0] for p in products],
            "relatedness": relatedness(event),
            "lab_entries": lab_entries,
            "entries": sources,
        },
    )


def _serious_event(subject: Subject, adverse_event: str) -> dict[str, Any]:
    """The subject's adverse event, which must be serious to be notified as one."""
    event = subject.adverse_events().get(adverse_event)
    if event is None:
        raise AdverseEventNotFound(
            "%(subject_code)s has no adverse event %(adverse_event)r",
            subject_code=subject.subject_code,
            adverse_event=adverse_event,
        )
    if not event["serious"]:
        raise SeriousnessCriterionMissing(
            "adverse event %(subject_code)s/%(adverse_event)s is not serious: it "
            "is not notified as one",
            subject_code=subject.subject_code,
            adverse_event=adverse_event,
        )
    return event


def _report_kind(follow_up: bool, notifications: int) -> str:
    if follow_up:
        return label("Acompanhamento", "Follow-up") + f" ({notifications})"
    return label("Inicial", "Initial")


def _report_identification(
    subject: Subject, adverse_event: str, *, learned_on: date, report_date: date, report_kind: str
) -> Section:
    protocol = subject.protocol
    return section(
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
            (label("Data de recebimento", "Date received by sponsor"), iso_date(learned_on)),
            (label("Data deste relato", "Date of this report"), iso_date(report_date)),
            (label("Tipo de relato", "Report type"), report_kind),
            (label("Evento", "Event"), f"{subject.subject_code}/{adverse_event}"),
        ],
    )


def _patient_information(subject: Subject) -> Section:
    return section(
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
    return section(
        label("Informação da reação", "Reaction information"),
        [
            (label("Início da reação", "Reaction onset"), iso_date(event["onset_on"])),
            (label("Descrição", "Description"), description(subject, adverse_event, event)),
            (
                label("Critérios de gravidade", "Seriousness criteria"),
                "; ".join(SERIOUSNESS_LABELS.get(c, c) for c in seriousness_codes(event))
                or NOT_RECORDED,
            ),
            (label("Esperado", "Expected"), yes_no(event["expected"])),
            (label("Desfecho", "Outcome"), coded(event["outcome"])),
            (label("Data de término", "End date"), iso_date(ended) if ended else "-"),
        ],
        tables=[
            table(
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
    return section(
        label("Produtos suspeitos", "Suspect products"),
        [
            (label("Indicação", "Indication"), subject.protocol.title),
            (
                label(
                    "Cessou ao suspender / reapareceu ao reintroduzir",
                    "Dechallenge / rechallenge",
                ),
                dechallenge(subject, onset, ended),
            ),
        ],
        tables=[
            table(
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
    return section(
        label("Terapia concomitante e história", "Concomitant therapy and history"),
        [
            (
                label("Medicamentos concomitantes", "Concomitant drugs"),
                concomitant_therapy(subject, onset, ended),
            ),
            (
                label("História relevante", "Relevant history"),
                relevant_history(subject, adverse_event, onset),
            ),
        ],
    )


def _notifications_and_clock(
    notified: list[Entry], clock: NotificationClock | None, entries: list[int]
) -> Section:
    return section(
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
        f"{iso_date(notification['notified_on'])} {notification['recipient']} {kind}"
        f" ({label('registro', 'entry')} {notification.version})"
    )


def _clock_text(clock: NotificationClock | None) -> str:
    if clock is None:
        return "-"
    return (
        f"{clock.rule_set_name}: {clock.days_allowed} "
        + label("dias", "days")
        + f", {label('vence em', 'due on')} {iso_date(clock.due_on)}, {clock.status.value}"
    )
