"""The records of the demonstration cohort, as a site signs them, made from the plans.

Everything here is invented (study codes RP-01 to RP-09, no names, values made up) and says so:
every ``Screened`` carries ``"synthetic": true``. The records are generated from the plans
(``cohort.toml``) by plain arithmetic, with no randomness, so every run yields the same records
in the same order; a subject's n-th record is its entry n, which is what lets a load resume.

The cohort reproduces what Cytotherapy 2015;17(12):1696-705 published, from its events alone:

- 9 subjects enrolled, each given 2 to 5 weekly MSC infusions, 31 in all, with doses of median
  2.7 and range 1.3-4.5 x 10^6 cells/kg (:data:`PLANS`, ``doses``);
- no infusion-related adverse event: no infusion reaction, every adverse event unrelated or
  unlikely to be related to the MSC;
- 4 deaths: heart failure (RP-02, month 11), invasive fungal infection (RP-04, day 41),
  bacterial infection (RP-06, day 119, notified late; RP-07, month 21);
- at month 6, 2 partial responses (RP-01, RP-05) and no complete one, by the investigator and by
  the counts: their day-180 counts no longer meet the severe criteria and their last
  transfusion was on day 119, more than 56 days before; every other subject alive then still
  meets them (no response), and those who died before are not evaluable;
- FISH and VNTR at days 30, 90 and 180 (for those alive then), never a donor signal;
- median follow-up 20 months: RP-08 is followed from enrolment for 609 days (20.0 months of
  30.4375 days), four subjects for less and four for longer.

Day 0 of every schedule is the first rATG dose (the treatment start the response timepoints
count from): weekly blood counts, transfusions and cyclosporine troughs until day 182, monthly
counts after that until death or the end of study.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from api.demonstration.builder import quantity
from api.demonstration.counts import Counts
from api.demonstration.plans import (
    COORDINATOR,
    INVESTIGATOR,
    PLANS,
    SITE,
    Plan,
    Record,
)
from api.demonstration.safety import Safety
from api.demonstration.treatment import Treatment
from domain.subject import Subject

ELIGIBLE = {
    **{f"IN{n}": True for n in range(1, 4)},
    **{f"EX{n}": False for n in range(1, 10)},
}
TCLE_VERSION = "2.0"

# The order of records made on the same day, as a site enters them.
RANK = {
    Subject.Screened.kind(): 0,
    Subject.ConsentObtained.kind(): 1,
    Subject.BoneMarrowExamined.kind(): 2,
    Subject.BloodCountRecorded.kind(): 3,
    Subject.EligibilityAssessed.kind(): 4,
    Subject.Enrolled.kind(): 5,
    Subject.RatgDoseGiven.kind(): 6,
    Subject.CyclosporineStarted.kind(): 7,
    Subject.MscInfusionGiven.kind(): 8,
    Subject.TransfusionGiven.kind(): 9,
    Subject.CyclosporineTroughMeasured.kind(): 10,
    Subject.CyclosporineDoseAdjusted.kind(): 11,
    Subject.ChimerismAssessed.kind(): 12,
    Subject.AdverseEventReported.kind(): 13,
    Subject.AdverseEventFollowedUp.kind(): 14,
    Subject.ResponseAssessed.kind(): 15,
    Subject.ProtocolDeviationRecorded.kind(): 16,
    Subject.CyclosporineStopped.kind(): 17,
    Subject.EntryCorrected.kind(): 18,
    Subject.EntryVoided.kind(): 18,
    Subject.SubjectDied.kind(): 19,
    Subject.SeriousAdverseEventNotified.kind(): 20,
}


class SubjectRecords(Counts, Treatment, Safety):
    """Builds one subject's records from its plan."""

    def records(self) -> list[Record]:
        plan = self.plan
        self.items = []
        self.enrolment()
        self.treatment()
        self.counts_and_transfusions()
        self.cyclosporine()
        self.marrow_and_chimerism()
        self.adverse_events()
        self.responses()
        for deviation in plan.deviations:
            self.add(
                self.day(deviation.day),
                Subject.ProtocolDeviationRecorded.kind(),
                {
                    "occurred_on": self.day(deviation.day).isoformat(),
                    "category": deviation.category,
                    "description": deviation.description,
                    "major": deviation.major,
                },
            )
        self.death()
        # Stable sort: records of the same day and rank keep the order they were made in.
        ordered = sorted(self.items, key=lambda item: (item.on, RANK[item.record.kind]))
        entries = {item.key: n for n, item in enumerate(ordered, start=1) if item.key}
        records = []
        for item in ordered:
            record = item.record
            if item.target is not None:
                record = Record(
                    record.kind, {"entry": entries[item.target], **record.data}, record.signer
                )
            records.append(record)
        # Last of all, after the notifications that may follow a death.
        ended_on = self.day(plan.last_day)
        reason = "death" if plan.death is not None else "completed"
        records.append(
            Record(
                Subject.EndOfStudyRecorded.kind(),
                {"ended_on": ended_on.isoformat(), "reason": reason},
                COORDINATOR,
            )
        )
        return records

    def enrolment(self) -> None:
        plan = self.plan
        screened = plan.screened_on
        self.add(
            screened,
            Subject.Screened.kind(),
            {
                "site": SITE,
                "sex": plan.sex,
                "age": plan.age,
                "screened_on": screened.isoformat(),
                "synthetic": True,
            },
        )
        self.add(
            screened,
            Subject.ConsentObtained.kind(),
            {"tcle_version": TCLE_VERSION, "consented_on": screened.isoformat()},
        )
        baseline = screened + timedelta(days=3)
        self.add(
            baseline,
            Subject.BoneMarrowExamined.kind(),
            {
                "examined_on": baseline.isoformat(),
                "cellularity": quantity(str(plan.cellularity), "%"),
            },
        )
        self.add(baseline, Subject.BloodCountRecorded.kind(), self.severe_count(baseline, step=0))
        self.add(
            plan.enrolled_on,
            Subject.EligibilityAssessed.kind(),
            {"criteria": dict(ELIGIBLE), "assessed_on": plan.enrolled_on.isoformat()},
            INVESTIGATOR,
        )
        self.add(
            plan.enrolled_on, Subject.Enrolled.kind(), {"enrolled_on": plan.enrolled_on.isoformat()}
        )


def subject_records(plan: Plan) -> list[Record]:
    """Every record of one planned subject, in the order they are signed and submitted."""
    return SubjectRecords(plan, PLANS.index(plan)).records()


def cohort() -> Iterator[tuple[str, list[Record]]]:
    """Each subject's study code and records, RP-01 first."""
    for plan in PLANS:
        yield plan.code, subject_records(plan)
