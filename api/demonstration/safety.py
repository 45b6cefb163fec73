"""Safety and outcome of a demonstration subject: adverse events, their notification to the
ethics committees, the responses at months 3 and 6, and death."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from api.demonstration.builder import MONTH, SubjectBuilder
from api.demonstration.plans import INVESTIGATOR
from domain.subject import Subject

SAE_RECIPIENT = "CEP-HCFMRP/CONEP"
RESPONSE_ASSESSED_ON_DAY = {3: 100, 6: 186}


class Safety(SubjectBuilder):
    """Adverse events as the site learns of them, notifications, responses and death."""

    def adverse_events(self) -> None:
        for event in self.plan.adverse_events:
            onset = self.day(event.onset)
            learned = self.day(event.onset + event.learned_after)
            resolved = self.day(event.onset + event.lasted)
            msc, ratg, csa = event.related
            report: dict[str, Any] = {
                "adverse_event": event.name,
                "term": event.term,
                "category": event.category,
                "grade": event.grade,
                "serious": bool(event.seriousness),
                "seriousness": list(event.seriousness),
                "relatedness_msc": msc,
                "relatedness_ratg": ratg,
                "relatedness_cyclosporine": csa,
                "expected": event.expected,
                "onset_on": onset.isoformat(),
                "learned_on": learned.isoformat(),
            }
            if event.pathogen is not None:
                report["pathogen"] = event.pathogen
            if not event.seriousness:
                # Entered once it resolved, with its outcome.
                report |= {"outcome": "recovered", "resolved_on": resolved.isoformat()}
                self.add(max(learned, resolved), Subject.AdverseEventReported.kind(), report)
                continue
            self.add(
                learned,
                Subject.AdverseEventReported.kind(),
                report | {"outcome": "not_recovered"},
                INVESTIGATOR,
            )
            self.notify(event.name, learned + timedelta(days=event.notified_after))
            self.add(
                resolved + timedelta(days=1),
                Subject.AdverseEventFollowedUp.kind(),
                {
                    "adverse_event": event.name,
                    "followed_up_on": (resolved + timedelta(days=1)).isoformat(),
                    "changes": {"outcome": "recovered", "resolved_on": resolved.isoformat()},
                },
                INVESTIGATOR,
            )

    def notify(self, name: str, on: date) -> None:
        self.add(
            on,
            Subject.SeriousAdverseEventNotified.kind(),
            {
                "adverse_event": name,
                "notified_on": on.isoformat(),
                "recipient": SAE_RECIPIENT,
                "follow_up": False,
            },
            INVESTIGATOR,
        )

    def death(self) -> None:
        death = self.plan.death
        if death is None:
            return
        died = self.day(death.day)
        name = f"AE-{len(self.plan.adverse_events) + 1:02d}"
        msc, ratg, csa = death.related
        report: dict[str, Any] = {
            "adverse_event": name,
            "term": death.term,
            "category": death.category,
            "grade": 5,
            "serious": True,
            "seriousness": ["death", "hospitalisation"],
            "relatedness_msc": msc,
            "relatedness_ratg": ratg,
            "relatedness_cyclosporine": csa,
            "expected": False,
            "onset_on": self.day(death.day - death.onset_before).isoformat(),
            "learned_on": died.isoformat(),
            "outcome": "fatal",
            "resolved_on": died.isoformat(),
        }
        if death.pathogen is not None:
            report["pathogen"] = death.pathogen
        self.add(died, Subject.AdverseEventReported.kind(), report, INVESTIGATOR)
        self.add(
            died,
            Subject.SubjectDied.kind(),
            {"died_on": died.isoformat(), "cause": death.cause, "adverse_event": name},
            INVESTIGATOR,
        )
        self.notify(name, died + timedelta(days=death.notified_after))

    def responses(self) -> None:
        for month, on_day in RESPONSE_ASSESSED_ON_DAY.items():
            timepoint = month * MONTH
            death = self.plan.death
            if death is None or death.day > timepoint:
                response = "partial" if self.plan.responder and month == 6 else "none"
                assessed = self.day(on_day)
            else:
                # Died before the timepoint: assessed on the day of death, the last day a
                # record of the subject can be dated.
                response = "not_evaluable"
                assessed = self.day(self.plan.last_day)
            self.add(
                assessed,
                Subject.ResponseAssessed.kind(),
                {"month": month, "response": response, "assessed_on": assessed.isoformat()},
                INVESTIGATOR,
            )
