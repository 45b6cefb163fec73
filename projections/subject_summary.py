"""A subject as a site sees it today: status, infusions and cumulative dose, latest counts,
open adverse events. Derived from the subject's events alone, in log order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.signed import SignedAggregate
from domain.subject import Subject
from domain.wire import decimal_to_wire, instant_to_wire, to_wire

Summary = dict[str, Any]


def summarise(summary: Summary | None, event: SignedAggregate.Event, position: int) -> Summary:
    """Fold one event of a subject's stream into the subject's summary."""
    if isinstance(event, Subject.Screened):
        study, code = event.stream.split("/", 1)
        summary = {
            "study": study,
            "subject": code,
            "site": event.site,
            "sex": event.sex.value,
            "age": event.age,
            "status": "screened",
            "screened_on": event.screened_on.isoformat(),
            "consent": None,
            "enrolled_on": None,
            "msc_infusions": 0,
            "cumulative_msc_dose": None,
            "latest_results": {},
            "open_adverse_events": [],
        }
    assert summary is not None, "a subject's stream starts with its screening"
    if isinstance(event, Subject.ConsentObtained):
        summary["status"] = "consented"
        summary["consent"] = {
            "tcle_version": event.tcle_version,
            "consented_on": event.consented_on.isoformat(),
        }
    elif isinstance(event, Subject.Enrolled):
        summary["status"] = "enrolled"
        summary["enrolled_on"] = event.enrolled_on.isoformat()
    elif isinstance(event, Subject.MscInfusionGiven):
        summary["msc_infusions"] += 1
        previous = summary["cumulative_msc_dose"]
        total = event.dose.value + (Decimal(previous["value"]) if previous else Decimal(0))
        summary["cumulative_msc_dose"] = {"value": decimal_to_wire(total), "unit": event.dose.unit}
    elif isinstance(event, Subject.LabResultRecorded):
        collected_at = instant_to_wire(event.collected_at)
        current = summary["latest_results"].get(event.analyte)
        # Latest by collection time: a result entered late does not hide a newer one.
        if current is None or current["collected_at"] <= collected_at:
            summary["latest_results"][event.analyte] = {
                **to_wire(event.result),
                "collected_at": collected_at,
            }
    elif isinstance(event, Subject.AdverseEventReported):
        summary["open_adverse_events"].append(
            {"version": event.originator_version, **event.signed_data()}
        )
    summary["version"] = event.originator_version
    summary["position"] = position
    summary["updated_at"] = instant_to_wire(event.recorded_at)
    return summary
