"""A subject as a site, a monitor or an auditor reads it: every record that counts, as corrected,
and the clinical facts derived from them. Derived from the subject's events alone.

Each figure carries the entry (version) it came from, so a reader can open that event in the
subject's history. Notification clocks are stated as of the subject's latest record, so the
same events always give the same summary.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.clinical import NotificationClock
from domain.subject import EVENT_CLASSES, Entry, Query, Subject
from domain.subject.disposition import ProtocolDeviationRecorded
from domain.subject.enrolment import ConsentObtained
from domain.subject.locks import pending_unlock_request
from domain.subject.measurements import (
    BloodCountRecorded,
    BoneMarrowExamined,
    ChimerismAssessed,
    TransfusionGiven,
)
from domain.subject.treatment import (
    CyclosporineDoseAdjusted,
    CyclosporineStarted,
    CyclosporineStopped,
    CyclosporineTroughMeasured,
    RatgDoseGiven,
)
from domain.subject_facts import (
    baseline_severity,
    follow_up_days,
    notification_clocks,
    responses,
    treatment_start,
)
from domain.wire import instant_to_wire, to_wire

Summary = dict[str, Any]

INFUSION_FIELDS = (
    "infusion_number",
    "dose",
    "given_at",
    "product_lot",
    "donor_code",
    "viability",
    "infusion_reaction",
)
"""The fields of an MSC infusion a summary shows."""


def summarise(subject: Subject) -> Summary:
    """The summary document of a subject as it stands after its latest event."""
    consent, enrolment = subject.consent, subject.enrolment
    start = treatment_start(subject)
    severity = baseline_severity(subject)
    latest = max(e.recorded_at for e in subject.entries.values())
    return {
        "study": subject.study_id,
        "subject": subject.subject_code,
        "site": subject.site,
        "synthetic": subject.synthetic,
        "sex": subject.sex.value,
        "age": subject.age,
        "status": subject.status.value,
        "lock_state": subject.lock_state.value,
        "unlock_requested": pending_unlock_request(subject),
        "screened_on": to_wire(subject.screening["screened_on"]),
        "consent": _fields_of(consent, "tcle_version", "consented_on"),
        "consents": len(subject.live(ConsentObtained)),
        "eligibility": _eligibility(subject),
        "enrolment": _fields_of(enrolment, "enrolled_on"),
        "baseline_severity": {
            "severity": severity.severity.value,
            "reasons": list(severity.reasons),
        },
        "treatment_start": to_wire(start),
        "ratg": _ratg(subject),
        "cyclosporine": _cyclosporine(subject),
        "msc_infusions": [_fields_of(e, *INFUSION_FIELDS) for e in subject.infusions],
        "cumulative_msc_dose": _total(e["dose"] for e in subject.infusions),
        **_measurements(subject),
        "adverse_events": _adverse_events(
            subject, latest.astimezone(subject.protocol.time_zone).date()
        ),
        "responses": _responses(subject),
        "death": _fields_of(subject.death, "died_on", "cause", "adverse_event"),
        "withdrawal": _fields_of(subject.withdrawal, "withdrawn_on", "reason", "decided_by"),
        "end_of_study": _fields_of(subject.end_of_study, "ended_on", "reason"),
        "deviations": [
            _fields_of(e, "occurred_on", "category", "description", "major")
            for e in subject.live(ProtocolDeviationRecorded)
        ],
        "follow_up_days": follow_up_days(subject),
        "flags": _flags(subject),
        **_corrections_voids_and_signatures(subject),
        "queries": [_query(q) for q in subject.queries],
        "version": subject.version,
        "updated_at": instant_to_wire(latest),
    }


def _eligibility(subject: Subject) -> dict[str, Any] | None:
    eligibility = subject.eligibility
    if eligibility is None:
        return None
    return {
        "assessed_on": to_wire(eligibility["assessed_on"]),
        "criteria": to_wire(eligibility["criteria"]),
        "entry": eligibility.version,
        "eligible": not subject.eligibility_failures(),
        "failures": subject.eligibility_failures(),
    }


def _corrections_voids_and_signatures(subject: Subject) -> dict[str, list[dict[str, Any]]]:
    """Which entries were corrected or voided, and every signature over each entry."""
    entries = subject.entries.values()
    return {
        "corrected": [
            {"entry": e.version, "kind": e.kind, "corrected_by": list(e.corrected_by)}
            for e in entries
            if e.corrected_by
        ],
        "voided": [
            {"entry": e.version, "kind": e.kind, "voided_by": e.voided_by}
            for e in entries
            if not e.is_live
        ],
        "signatures": [
            {"entry": e.version, "kind": e.kind, **signature}
            for e in entries
            for signature in record_signatures(e)
        ],
    }


def _query(query: Query) -> dict[str, Any]:
    """A data query, its answers and how it was closed."""
    closed_by = query.closed_by
    return {
        "query": query.query,
        "entry": query.entry,
        "entry_kind": query.entry_kind,
        "item": query.item,
        "question": query.question,
        "status": query.status,
        "answers": [{"entry": a.version, "answer": a["answer"]} for a in query.answers],
        "closed_by": None
        if closed_by is None
        else {"entry": closed_by.version, "resolution": closed_by["resolution"]},
    }


def record_signatures(entry: Entry) -> list[dict[str, Any]]:
    """The electronic signatures over a record, each saying whether it still covers the
    record's current value (a correction or void since the signing says it does not)."""
    return [
        {
            "signature_entry": signature.signed_in,
            "user_id": signature.user_id,
            "printed_name": signature.printed_name,
            "signed_at": signature.signed_at,
            "meaning": signature.meaning,
            "record_hash": signature.record_hash,
            "covers_current_value": entry.covers_current_value(signature),
        }
        for signature in entry.signatures
    ]


def _fields_of(entry: Entry | None, *names: str) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {
        **{name: to_wire(entry[name]) for name in names if entry[name] is not None},
        "entry": entry.version,
    }


def _total(quantities: Any) -> dict[str, str] | None:
    items = list(quantities)
    if not items:
        return None
    return {"value": format(sum((q.value for q in items), Decimal(0)), "f"), "unit": items[0].unit}


def _ratg(subject: Subject) -> dict[str, Any]:
    doses = sorted(subject.live(RatgDoseGiven), key=lambda e: e["day"])
    return {
        "days_given": [e["day"] for e in doses],
        "total_dose": _total(e["dose"] for e in doses),
        "entries": [e.version for e in doses],
    }


def _cyclosporine(subject: Subject) -> dict[str, Any]:
    started = subject.latest(CyclosporineStarted)
    adjusted = subject.latest(CyclosporineDoseAdjusted)
    troughs = subject.live(CyclosporineTroughMeasured)
    target = subject.protocol.cyclosporine.trough_target
    outside = [e for e in troughs if not target.low <= e["level"].value <= target.high]
    current = adjusted or started
    latest_trough = max(troughs, key=lambda e: e["collected_on"], default=None)
    return {
        "started": _fields_of(started, "started_on", "dose"),
        "current_dose": None if current is None else to_wire(current["dose"]),
        "adjustments": len(subject.live(CyclosporineDoseAdjusted)),
        "stopped": _fields_of(subject.latest(CyclosporineStopped), "stopped_on", "reason"),
        "troughs": len(troughs),
        "troughs_outside_target": [e.version for e in outside],
        "latest_trough": _fields_of(latest_trough, "level", "collected_on"),
    }


def _measurements(subject: Subject) -> dict[str, Any]:
    counts = subject.live(BloodCountRecorded)
    latest = max(counts, key=lambda e: (e["collected_on"], e.version), default=None)
    given = subject.live(TransfusionGiven)
    units: dict[str, int] = {}
    for entry in given:
        units[entry["product"].value] = units.get(entry["product"].value, 0) + entry["units"]
    return {
        "blood_counts": len(counts),
        "latest_blood_count": _fields_of(latest, "collected_on", "results", "reticulocyte_method"),
        "transfusions": {"events": len(given), "units": units},
        "marrow": [
            _fields_of(e, "examined_on", "cellularity") for e in subject.live(BoneMarrowExamined)
        ],
        "chimerism": [
            _fields_of(e, "study_day", "method", "sample_collected_on", "donor_signal_detected")
            for e in subject.live(ChimerismAssessed)
        ],
    }


def _adverse_events(subject: Subject, as_of: Any) -> list[dict[str, Any]]:
    clocks = notification_clocks(subject, as_of)
    shown = []
    for name, event in subject.adverse_events().items():
        fields = {
            key: to_wire(value)
            for key, value in event.items()
            if key not in {"reported_in", "follow_ups"} and value is not None
        }
        shown.append(
            {
                **fields,
                "entry": event["reported_in"],
                "follow_ups": list(event["follow_ups"]),
                "related_to_msc": event["relatedness_msc"].is_related,
                "notification": _clock(clocks.get(name)),
            }
        )
    return shown


def _clock(clock: NotificationClock | None) -> dict[str, Any] | None:
    if clock is None:
        return None
    return {
        "rule_set": clock.rule_set_name,
        "days_allowed": clock.days_allowed,
        "due_on": to_wire(clock.due_on),
        "first_notified_on": to_wire(clock.first_notified_on),
        "status": clock.status.value,
        "days_late": clock.days_late,
        "reasons": list(clock.reasons),
    }


def _responses(subject: Subject) -> list[dict[str, Any]]:
    shown = []
    for found in responses(subject):
        comparison = found.comparison
        finding = comparison.finding
        shown.append(
            {
                "month": finding.month,
                "timepoint": to_wire(finding.timepoint),
                "criteria": finding.category.value,
                "count_used_on": to_wire(finding.count_used_on),
                "count_entry": found.count_entry,
                "transfusion_independent": finding.transfusion_independent,
                "reasons": list(finding.reasons),
                "investigator": None
                if comparison.investigator is None
                else comparison.investigator.value,
                "investigator_entry": found.investigator_entry,
                "agreement": comparison.agreement.value,
            }
        )
    return shown


def _flags(subject: Subject) -> list[dict[str, Any]]:
    flagged = []
    protocol = subject.protocol
    for entry in subject.entries.values():
        if not entry.is_live:
            continue
        flags = EVENT_CLASSES[entry.kind].flags(entry.fields, protocol)
        if flags:
            flagged.append(
                {"entry": entry.version, "kind": entry.kind, "flags": [str(f) for f in flags]}
            )
    return flagged
