"""What the record shows around one adverse event, as a notification states it: its
description, the blood counts near it, the study products given, what stopping or giving them
again showed, the concomitant transfusions and the subject's relevant history.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from domain.clinical import TransfusionProduct
from domain.subject import Entry, Subject
from domain.subject.measurements import TransfusionGiven
from domain.subject.safety import SeriousAdverseEventNotified
from domain.subject.treatment import (
    CyclosporineDoseAdjusted,
    CyclosporineStarted,
    CyclosporineStopped,
    RatgDoseGiven,
)
from domain.subject_facts import baseline_severity, blood_counts, treatment_start
from domain.wire import to_wire
from projections.conep.bilingual import NOT_RECORDED, label
from projections.conep.document import coded, decimal_text, iso_date, value_text

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

PRODUCT_LABELS = {
    TransfusionProduct.RED_CELLS: label("Concentrado de hemácias", "Red cells"),
    TransfusionProduct.PLATELETS: label("Concentrado de plaquetas", "Platelets"),
}


def notifications_of(subject: Subject, adverse_event: str) -> list[Entry]:
    """The notifications of the adverse event recorded so far."""
    return [
        e for e in subject.live(SeriousAdverseEventNotified) if e["adverse_event"] == adverse_event
    ]


def seriousness_codes(event: dict[str, Any]) -> list[str]:
    return [coded(c) for c in event["seriousness"]]


def relatedness(event: dict[str, Any]) -> dict[str, str]:
    """The investigator's causality assessment of the event against each study product."""
    return {product: coded(event[field]) for product, field in RELATEDNESS_FIELDS.items()}


def description(subject: Subject, name: str, event: dict[str, Any]) -> str:
    parts = [
        f"{event['term']} (CTCAE v5 {label('grau', 'grade')} {event['grade']}; "
        f"{coded(event['category'])})",
        f"{label('início', 'onset')} {iso_date(event['onset_on'])}",
    ]
    if event.get("pathogen") is not None:
        parts.append(f"{label('patógeno', 'pathogen')}: {coded(event['pathogen'])}")
    parts.append(f"{label('desfecho', 'outcome')}: {coded(event['outcome'])}")
    if event.get("resolved_on") is not None:
        parts.append(f"{label('término', 'ended')} {iso_date(event['resolved_on'])}")
    for version in event["follow_ups"]:
        follow = subject.entries[version]
        changes = ", ".join(f"{k}={value_text(v)}" for k, v in follow["changes"].items())
        parts.append(
            f"{label('seguimento', 'follow-up')} {iso_date(follow['followed_up_on'])}: {changes}"
        )
    death = subject.death
    if death is not None and death["adverse_event"] == name:
        parts.append(
            f"{label('óbito', 'death')} {iso_date(death['died_on'])}: {death['cause']} "
            f"({label('registro', 'entry')} {death.version})"
        )
    return "; ".join(parts) + "."


def lab_data(
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
            iso_date(c.collected_on),
            decimal_text(c.haemoglobin),
            decimal_text(c.neutrophils),
            decimal_text(c.platelets),
            decimal_text(c.reticulocytes),
            str(e.version),
        ]
        for e, c in chosen
    ]
    return rows, [e.version for e, _ in chosen]


def suspect_products(subject: Subject, event: dict[str, Any], onset: date) -> list[list[Any]]:
    """One row per product: name, lot, dose, route, dates, duration, relatedness, entry."""
    rows: list[list[Any]] = []
    msc = coded(event["relatedness_msc"])
    for infusion in subject.infusions:
        day = subject.dated_on(infusion)
        rows.append(
            [
                f"MSC ({label('infusão', 'infusion')} {infusion['infusion_number']})",
                f"{infusion['product_lot']} / {infusion['donor_code']}",
                value_text(to_wire(infusion["dose"])),
                ROUTES["MSC"],
                iso_date(day),
                "1 " + label("dia", "day"),
                msc,
                infusion.version,
            ]
        )
    ratg = sorted(subject.live(RatgDoseGiven), key=lambda e: e["given_on"])
    if ratg:
        doses = sorted({value_text(to_wire(e["dose"])) for e in ratg})
        first, last = ratg[0]["given_on"], ratg[-1]["given_on"]
        rows.append(
            [
                "rATG",
                NOT_RECORDED,
                " / ".join(doses) + " " + label("por dia", "daily"),
                ROUTES["rATG"],
                f"{iso_date(first)} a / to {iso_date(last)}",
                f"{len(ratg)} " + label("dias", "days"),
                coded(event["relatedness_ratg"]),
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
                value_text(to_wire(dose_entry["dose"]))
                + f" ({label('no início do evento', 'at onset')})",
                ROUTES["cyclosporine"],
                f"{iso_date(started['started_on'])} a / to "
                + (iso_date(end) if end is not None else label("em curso", "ongoing")),
                f"{span} " + label("dias", "days") if span is not None else "-",
                coded(event["relatedness_cyclosporine"]),
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


def dechallenge(subject: Subject, onset: date, ended: date | None) -> str:
    facts = []
    stopped = subject.latest(CyclosporineStopped)
    # Stopping counts as a dechallenge only while the event was going on.
    if (
        stopped is not None
        and stopped["stopped_on"] >= onset
        and (ended is None or stopped["stopped_on"] <= ended)
    ):
        after = (
            label("evento terminou em", "event ended on") + f" {iso_date(ended)}"
            if ended is not None
            else label("evento não terminou", "event had not ended")
        )
        facts.append(
            f"{label('ciclosporina suspensa em', 'cyclosporine stopped on')} "
            f"{iso_date(stopped['stopped_on'])} ({stopped['reason']}); {after}"
        )
    later = [e for e in subject.infusions if (subject.dated_on(e) or onset) > onset]
    for infusion in later:
        facts.append(
            f"{label('MSC reintroduzida', 'MSC given again')}: "
            f"{label('infusão', 'infusion')} {infusion['infusion_number']} "
            f"{iso_date(subject.dated_on(infusion))}"
        )
    if not facts:
        return label("desconhecido", "unknown") + " (" + NOT_RECORDED + ")"
    return "; ".join(facts)


def concomitant_therapy(subject: Subject, onset: date, ended: date | None) -> str:
    first = onset - timedelta(days=CONCOMITANT_WINDOW_DAYS)
    last = ended or onset
    given = sorted(
        (e for e in subject.live(TransfusionGiven) if first <= e["given_on"] <= last),
        key=lambda e: e["given_on"],
    )
    parts = [
        f"{PRODUCT_LABELS.get(e['product'], coded(e['product']))} {e['units']} "
        f"{label('unidades', 'units')} {iso_date(e['given_on'])}"
        for e in given
    ]
    parts.append(
        label(
            "nenhum outro medicamento concomitante é registrado pelo protocolo",
            "no other concomitant medication is recorded by the protocol",
        )
    )
    return "; ".join(parts)


def relevant_history(subject: Subject, name: str, onset: date) -> str:
    severity = baseline_severity(subject)
    parts = [
        f"{label('gravidade basal (Camitta)', 'baseline severity (Camitta)')}: "
        f"{severity.severity.value}"
    ]
    consent, enrolment, start = subject.consent, subject.enrolment, treatment_start(subject)
    if consent is not None:
        parts.append(f"TCLE {consent['tcle_version']} {iso_date(consent['consented_on'])}")
    if enrolment is not None:
        parts.append(f"{label('inclusão', 'enrolled')} {iso_date(enrolment['enrolled_on'])}")
    if start is not None:
        parts.append(f"{label('início do tratamento', 'treatment start')} {iso_date(start)}")
    earlier = [
        f"{other} {e['term']} ({iso_date(e['onset_on'])})"
        for other, e in subject.adverse_events().items()
        if other != name and e["onset_on"] <= onset
    ]
    if earlier:
        parts.append(f"{label('eventos anteriores', 'earlier events')}: " + ", ".join(earlier))
    return "; ".join(parts)
