"""The demonstration cohort of NCT01297972: nine synthetic subjects, as the records a site signs.

Everything here is invented (study codes RP-01 to RP-09, no names, values made up) and says so:
every ``Screened`` carries ``"synthetic": true``. The records are generated from the fixed
tables below by plain arithmetic, with no randomness, so every run yields the same records in
the same order; a subject's n-th record is its entry n, which is what lets a load resume.

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

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

STUDY = "NCT01297972"
SITE = "RP"
COORDINATOR = "coordinator"
"""Signs data entry."""
INVESTIGATOR = "investigator"
"""Signs eligibility, serious adverse events and their notifications, responses and deaths."""

ELIGIBLE = {
    **{f"IN{n}": True for n in range(1, 4)},
    **{f"EX{n}": False for n in range(1, 10)},
}
TCLE_VERSION = "2.0"
SAE_RECIPIENT = "CEP-HCFMRP/CONEP"

RATG_DOSE = "3.5"
CYCLOSPORINE_START_TENTHS = 50  # 5 mg/kg/day
WEEKLY_UNTIL_DAY = 182  # 26 weeks: "weekly until 6 months"
TROUGHS_UNTIL_DAY = 175  # the last weekly trough before cyclosporine stops at 6 months
CYCLOSPORINE_STOP_DAY = 182
MONTH = 30
CHIMERISM_DAYS = (30, 90, 180)
RESPONSE_ASSESSED_ON_DAY = {3: 100, 6: 186}
RECOVERY_WEEK = 15  # partial responders' counts rise from this week (day 105)
LAST_PLATELETS_WEEK = 15  # partial responders' last platelet transfusion (day 105)
LAST_RED_CELLS_WEEK = 17  # and last red cells (day 119): 63 days before the day-182 count

WOBBLE = (0, 3, -2, 5, -4, 1, -1, 4, -3, 2, -5, 2)
"""A fixed sequence that makes successive values differ the way real counts do (mean ~0)."""
TROUGHS = (182, 205, 171, 224, 196, 163, 238, 187, 210, 176, 199, 215, 168, 229)
"""In-target cyclosporine troughs (ng/mL) that weekly measurements cycle through."""
DONORS = ("UD-01", "UD-02", "UD-03", "UD-04", "UD-05", "UD-06")
"""Unrelated, non-HLA-matched marrow donors of the MSC products (codes, no identity)."""

# The order of records made on the same day, as a site enters them.
RANK = {
    "Screened": 0,
    "ConsentObtained": 1,
    "BoneMarrowExamined": 2,
    "BloodCountRecorded": 3,
    "EligibilityAssessed": 4,
    "Enrolled": 5,
    "RatgDoseGiven": 6,
    "CyclosporineStarted": 7,
    "MscInfusionGiven": 8,
    "TransfusionGiven": 9,
    "CyclosporineTroughMeasured": 10,
    "CyclosporineDoseAdjusted": 11,
    "ChimerismAssessed": 12,
    "AdverseEventReported": 13,
    "AdverseEventFollowedUp": 14,
    "ResponseAssessed": 15,
    "ProtocolDeviationRecorded": 16,
    "CyclosporineStopped": 17,
    "EntryCorrected": 18,
    "EntryVoided": 18,
    "SubjectDied": 19,
    "SeriousAdverseEventNotified": 20,
}


@dataclass(frozen=True)
class Record:
    """One record as its author signs it: the kind, its ``data`` in wire form, and who signs."""

    kind: str
    data: dict[str, Any]
    signer: str


@dataclass(frozen=True)
class AdverseEvent:
    """An adverse event of the plan, its days counted from the first rATG dose.

    A serious event is reported when the site learns of it, notified, and followed up when it
    resolves; a non-serious one is reported once it has resolved.
    """

    name: str
    term: str
    category: str
    grade: int
    onset: int
    lasted: int
    seriousness: tuple[str, ...] = ()
    related: tuple[str, str, str] = ("unrelated", "unrelated", "unrelated")
    """Relatedness to MSC, rATG and cyclosporine."""
    expected: bool = True
    pathogen: str | None = None
    learned_after: int = 1
    notified_after: int = 3


@dataclass(frozen=True)
class Death:
    """A death, its cause, and the grade-5 adverse event that caused it."""

    day: int
    cause: str
    term: str
    category: str
    onset_before: int
    pathogen: str | None
    related: tuple[str, str, str]
    notified_after: int
    cyclosporine_stop_reason: str | None = None
    """Why cyclosporine stopped three days before a death inside the 6-month course."""


@dataclass(frozen=True)
class Deviation:
    """A protocol deviation the site recorded, on a study day."""

    day: int
    category: str
    description: str
    major: bool = False


@dataclass(frozen=True)
class Plan:
    """One synthetic subject: who, when, what was given, what happened."""

    code: str
    sex: str
    age: int
    screened_on: date
    doses: tuple[str, ...]
    cellularity: int
    responder: bool = False
    death: Death | None = None
    ended_on: date | None = None
    adverse_events: tuple[AdverseEvent, ...] = ()
    troughs_out_of_range: Mapping[int, int] = field(default_factory=dict)
    """Week -> trough (ng/mL) outside 150-250; each is followed by a dose adjustment."""
    missed_trough_weeks: tuple[int, ...] = ()
    infusion_gaps: tuple[int, ...] = (7, 7, 7, 7)
    deviations: tuple[Deviation, ...] = ()
    mistyped_haemoglobin_week: int | None = None
    """A weekly count whose haemoglobin was entered without its decimal point, then corrected."""
    duplicated_count_week: int | None = None
    """A weekly count entered twice; the second entry is voided."""

    @property
    def enrolled_on(self) -> date:
        """A week after screening."""
        return self.screened_on + timedelta(days=7)

    @property
    def start(self) -> date:
        """Day 0: the first rATG dose, a week after enrolment."""
        return self.screened_on + timedelta(days=14)

    @property
    def last_day(self) -> int:
        """The study day follow-up ends: death, else the end of study."""
        if self.death is not None:
            return self.death.day
        assert self.ended_on is not None
        return (self.ended_on - self.start).days


# -- the cohort ---------------------------------------------------------------------------------


def febrile_neutropenia(name: str, onset: int, lasted: int) -> AdverseEvent:
    """Febrile neutropenia in the aplasia after rATG: serious (hospitalised), not the MSC's."""
    return AdverseEvent(
        name,
        term="Febrile neutropenia",
        category="febrile_neutropenia",
        grade=3,
        onset=onset,
        lasted=lasted,
        seriousness=("hospitalisation",),
        related=("unlikely", "possible", "unrelated"),
    )


def serum_sickness(name: str, onset: int, lasted: int) -> AdverseEvent:
    """Serum sickness a week or so after rATG: a reaction to the rATG, not to the MSC."""
    return AdverseEvent(
        name,
        term="Serum sickness",
        category="allergic_reaction",
        grade=2,
        onset=onset,
        lasted=lasted,
        related=("unrelated", "probable", "unrelated"),
    )


def hypertension(name: str, onset: int, lasted: int) -> AdverseEvent:
    """Hypertension on cyclosporine, resolving after it stops."""
    return AdverseEvent(
        name,
        term="Hypertension",
        category="other",
        grade=2,
        onset=onset,
        lasted=lasted,
        related=("unrelated", "unrelated", "probable"),
    )


PLANS: tuple[Plan, ...] = (
    Plan(
        code="RP-01",
        sex="F",
        age=34,
        screened_on=date(2011, 2, 14),
        doses=("2.7", "3.1", "2.5", "2.9"),
        cellularity=10,
        responder=True,
        ended_on=date(2013, 11, 4),
        adverse_events=(
            serum_sickness("AE-01", onset=10, lasted=6),
            febrile_neutropenia("AE-02", onset=18, lasted=6),
            hypertension("AE-03", onset=40, lasted=150),
            AdverseEvent(
                "AE-04",
                term="Upper respiratory infection",
                category="infection",
                grade=2,
                onset=64,
                lasted=8,
                pathogen="viral",
            ),
        ),
        troughs_out_of_range={2: 121, 9: 281},
    ),
    Plan(
        code="RP-02",
        sex="M",
        age=58,
        screened_on=date(2011, 3, 28),
        doses=("1.3", "1.8", "2.2"),
        cellularity=15,
        death=Death(
            day=329,
            cause="heart failure",
            term="Heart failure",
            category="organ_dysfunction",
            onset_before=6,
            pathogen=None,
            related=("unrelated", "unrelated", "unlikely"),
            notified_after=3,
        ),
        adverse_events=(
            febrile_neutropenia("AE-01", onset=15, lasted=7),
            AdverseEvent(
                "AE-02",
                term="Creatinine increased",
                category="organ_dysfunction",
                grade=1,
                onset=56,
                lasted=14,
                related=("unrelated", "unrelated", "probable"),
            ),
            AdverseEvent(
                "AE-03",
                term="Lung infection",
                category="infection",
                grade=3,
                onset=95,
                lasted=14,
                seriousness=("hospitalisation",),
                related=("unlikely", "unlikely", "possible"),
                pathogen="bacterial",
                notified_after=5,
            ),
        ),
        troughs_out_of_range={4: 312, 11: 138},
        mistyped_haemoglobin_week=6,
    ),
    Plan(
        code="RP-03",
        sex="M",
        age=27,
        screened_on=date(2011, 5, 16),
        doses=("4.5", "3.8", "3.2", "2.6", "2.4"),
        cellularity=5,
        ended_on=date(2013, 11, 11),
        adverse_events=(
            febrile_neutropenia("AE-01", onset=12, lasted=8),
            AdverseEvent(
                "AE-02",
                term="Catheter related infection",
                category="infection",
                grade=3,
                onset=47,
                lasted=12,
                seriousness=("hospitalisation",),
                related=("unlikely", "unlikely", "unlikely"),
                pathogen="bacterial",
                notified_after=6,
            ),
            AdverseEvent(
                "AE-03", term="Epistaxis", category="haemorrhage", grade=1, onset=80, lasted=1
            ),
            AdverseEvent(
                "AE-04",
                term="Mucosal infection",
                category="infection",
                grade=2,
                onset=150,
                lasted=10,
                related=("unrelated", "unrelated", "possible"),
                pathogen="fungal",
            ),
        ),
        troughs_out_of_range={3: 264},
        missed_trough_weeks=(12,),
        deviations=(
            Deviation(
                84,
                "schedule",
                "Cyclosporine trough of week 12 not collected (sample lost in transport to the "
                "laboratory); the dose was kept unchanged",
            ),
        ),
    ),
    Plan(
        code="RP-04",
        sex="F",
        age=45,
        screened_on=date(2011, 7, 4),
        doses=("2.0", "2.3"),
        cellularity=10,
        death=Death(
            day=41,
            cause="invasive fungal infection",
            term="Lung infection",
            category="infection",
            onset_before=15,
            pathogen="fungal",
            related=("unlikely", "possible", "possible"),
            notified_after=2,
            cyclosporine_stop_reason=(
                "stopped in intensive care: invasive pulmonary aspergillosis with renal dysfunction"
            ),
        ),
        adverse_events=(
            febrile_neutropenia("AE-01", onset=11, lasted=7),
            serum_sickness("AE-02", onset=9, lasted=5),
        ),
        troughs_out_of_range={1: 109},
    ),
    Plan(
        code="RP-05",
        sex="F",
        age=22,
        screened_on=date(2011, 9, 5),
        doses=("3.0", "2.8", "2.7", "2.1"),
        cellularity=20,
        responder=True,
        ended_on=date(2013, 11, 18),
        adverse_events=(
            serum_sickness("AE-01", onset=9, lasted=7),
            febrile_neutropenia("AE-02", onset=16, lasted=6),
            AdverseEvent(
                "AE-03",
                term="Hypomagnesemia",
                category="other",
                grade=1,
                onset=35,
                lasted=30,
                related=("unrelated", "unrelated", "probable"),
            ),
            AdverseEvent(
                "AE-04",
                term="Upper respiratory infection",
                category="infection",
                grade=1,
                onset=120,
                lasted=6,
                pathogen="viral",
            ),
        ),
        troughs_out_of_range={6: 142},
        duplicated_count_week=4,
    ),
    Plan(
        code="RP-06",
        sex="M",
        age=51,
        screened_on=date(2011, 10, 31),
        doses=("1.6", "1.9", "2.6"),
        cellularity=15,
        death=Death(
            day=119,
            cause="bacterial infection",
            term="Sepsis",
            category="infection",
            onset_before=5,
            pathogen="bacterial",
            related=("unlikely", "unlikely", "possible"),
            # Notified 11 days after the site learned of it: past the 7-day clock.
            notified_after=11,
            cyclosporine_stop_reason="stopped in intensive care: septic shock",
        ),
        adverse_events=(
            febrile_neutropenia("AE-01", onset=13, lasted=9),
            AdverseEvent(
                "AE-02", term="Epistaxis", category="haemorrhage", grade=2, onset=60, lasted=2
            ),
        ),
        troughs_out_of_range={5: 297, 13: 131},
    ),
    Plan(
        code="RP-07",
        sex="M",
        age=63,
        screened_on=date(2012, 1, 2),
        doses=("3.4", "3.5"),
        cellularity=10,
        death=Death(
            day=637,
            cause="bacterial infection",
            term="Lung infection",
            category="infection",
            onset_before=9,
            pathogen="bacterial",
            related=("unrelated", "unrelated", "unrelated"),
            notified_after=4,
        ),
        adverse_events=(
            febrile_neutropenia("AE-01", onset=14, lasted=8),
            hypertension("AE-02", onset=28, lasted=170),
        ),
        troughs_out_of_range={8: 256},
    ),
    Plan(
        code="RP-08",
        sex="F",
        age=39,
        screened_on=date(2012, 3, 5),
        doses=("2.7", "3.3", "1.5", "2.4", "4.1"),
        cellularity=5,
        # 609 days from enrolment (2012-03-12): 20.0 months, the cohort's median follow-up.
        ended_on=date(2013, 11, 11),
        adverse_events=(
            febrile_neutropenia("AE-01", onset=12, lasted=7),
            AdverseEvent(
                "AE-02",
                term="Creatinine increased",
                category="organ_dysfunction",
                grade=2,
                onset=70,
                lasted=21,
                related=("unrelated", "unrelated", "probable"),
            ),
            AdverseEvent(
                "AE-03",
                term="Skin infection",
                category="infection",
                grade=2,
                onset=133,
                lasted=10,
                pathogen="bacterial",
            ),
        ),
        troughs_out_of_range={10: 273},
        infusion_gaps=(7, 9, 7, 7),
        deviations=(
            Deviation(
                23,
                "treatment",
                "MSC infusion 3 given 9 days after infusion 2, not 7: release of the product "
                "delayed by the cell-processing laboratory",
            ),
        ),
    ),
    Plan(
        code="RP-09",
        sex="M",
        age=19,
        screened_on=date(2012, 7, 2),
        doses=("2.5", "2.9", "3.6"),
        cellularity=15,
        ended_on=date(2013, 11, 25),
        adverse_events=(
            serum_sickness("AE-01", onset=10, lasted=5),
            febrile_neutropenia("AE-02", onset=17, lasted=8),
            AdverseEvent(
                "AE-03", term="Epistaxis", category="haemorrhage", grade=1, onset=52, lasted=1
            ),
        ),
        troughs_out_of_range={2: 118, 7: 268},
    ),
)


# -- the generator ------------------------------------------------------------------------------


def tenths(value: int) -> str:
    """A value kept in tenths, written as a decimal: 78 -> "7.8"."""
    return f"{value // 10}.{value % 10}"


def hundredths(value: int) -> str:
    """A value kept in hundredths, written as a decimal: 31 -> "0.31"."""
    return f"{value // 100}.{value % 100:02d}"


def quantity(value: str, unit: str) -> dict[str, str]:
    """A quantity in wire form."""
    return {"value": value, "unit": unit}


def wobble(subject: int, step: int) -> int:
    """The fixed variation of a subject's ``step``-th value."""
    return WOBBLE[(subject * 5 + step) % len(WOBBLE)]


@dataclass
class _Item:
    """A record on its way into the subject's order: sorted by day, then as a site enters."""

    on: date
    record: Record
    key: str | None = None
    target: str | None = None
    """For a correction or a void: the key of the record it names (its entry number is known
    only once the records are in order)."""


class _Subject:
    """Builds one subject's records from its plan."""

    def __init__(self, plan: Plan, index: int) -> None:
        self.plan = plan
        self.index = index
        self.items: list[_Item] = []

    def day(self, n: int) -> date:
        return self.plan.start + timedelta(days=n)

    def alive_on(self, n: int) -> bool:
        return n <= self.plan.last_day

    def add(
        self,
        on: date,
        kind: str,
        data: dict[str, Any],
        signer: str = COORDINATOR,
        *,
        key: str | None = None,
        target: str | None = None,
    ) -> None:
        self.items.append(_Item(on, Record(kind, data, signer), key, target))

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
                "ProtocolDeviationRecorded",
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
                "EndOfStudyRecorded",
                {"ended_on": ended_on.isoformat(), "reason": reason},
                COORDINATOR,
            )
        )
        return records

    # -- screening to enrolment ----------------------------------------------------------------

    def enrolment(self) -> None:
        plan = self.plan
        screened = plan.screened_on
        self.add(
            screened,
            "Screened",
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
            "ConsentObtained",
            {"tcle_version": TCLE_VERSION, "consented_on": screened.isoformat()},
        )
        baseline = screened + timedelta(days=3)
        self.add(
            baseline,
            "BoneMarrowExamined",
            {
                "examined_on": baseline.isoformat(),
                "cellularity": quantity(str(plan.cellularity), "%"),
            },
        )
        self.add(baseline, "BloodCountRecorded", self.severe_count(baseline, step=0))
        self.add(
            plan.enrolled_on,
            "EligibilityAssessed",
            {"criteria": dict(ELIGIBLE), "assessed_on": plan.enrolled_on.isoformat()},
            INVESTIGATOR,
        )
        self.add(plan.enrolled_on, "Enrolled", {"enrolled_on": plan.enrolled_on.isoformat()})

    # -- treatment -----------------------------------------------------------------------------

    def treatment(self) -> None:
        plan = self.plan
        for n in range(5):
            self.add(
                self.day(n),
                "RatgDoseGiven",
                {
                    "day": n + 1,
                    "dose": quantity(RATG_DOSE, "mg/kg"),
                    "given_on": self.day(n).isoformat(),
                },
            )
        on_day = 7
        for number, dose in enumerate(plan.doses, start=1):
            if number > 1:
                on_day += plan.infusion_gaps[number - 2]
            self.add(self.day(on_day), "MscInfusionGiven", self.infusion(number, dose, on_day))

    def infusion(self, number: int, dose: str, on_day: int) -> dict[str, Any]:
        w = wobble(self.index, number)
        lot = sum(len(p.doses) for p in PLANS[: self.index]) + number
        before = {
            "heart_rate": quantity(str(84 + w), "/min"),
            "systolic_pressure": quantity(str(118 + 2 * w), "mm[Hg]"),
            "diastolic_pressure": quantity(str(74 + w), "mm[Hg]"),
            "temperature": quantity(tenths(366 + w), "Cel"),
            "respiratory_rate": quantity(str(16 + w // 3), "/min"),
            "oxygen_saturation": quantity(str(98 - abs(w) // 3), "%"),
        }
        after = {
            "heart_rate": quantity(str(82 + w), "/min"),
            "systolic_pressure": quantity(str(120 + w), "mm[Hg]"),
            "diastolic_pressure": quantity(str(76 + w // 2), "mm[Hg]"),
            "temperature": quantity(tenths(367 + w // 2), "Cel"),
            "respiratory_rate": quantity(str(16), "/min"),
            "oxygen_saturation": quantity(str(98), "%"),
        }
        return {
            "infusion_number": number,
            "dose": quantity(dose, "10^6 cells/kg"),
            "product_lot": f"MSC-RP-{lot:03d}",
            "donor_code": DONORS[(self.index + number) % len(DONORS)],
            "viability": quantity(str(92 + w), "%"),
            # 10:00 at the site (UTC-3; UTC-2 in summer time): the same calendar day.
            "given_at": f"{self.day(on_day).isoformat()}T13:00:00Z",
            "vital_signs_before": before,
            "vital_signs_after": after,
            "infusion_reaction": False,
        }

    def cyclosporine(self) -> None:
        plan = self.plan
        self.add(
            self.day(0),
            "CyclosporineStarted",
            {
                "dose": quantity(tenths(CYCLOSPORINE_START_TENTHS), "mg/kg/day"),
                "started_on": self.day(0).isoformat(),
            },
        )
        death = plan.death
        if death is not None and death.day <= CYCLOSPORINE_STOP_DAY:
            stop_day = death.day - 3
            assert death.cyclosporine_stop_reason is not None
            stop_reason = death.cyclosporine_stop_reason
        else:
            stop_day = CYCLOSPORINE_STOP_DAY
            stop_reason = "6-month course of the protocol completed"
        dose = CYCLOSPORINE_START_TENTHS
        for week in range(1, TROUGHS_UNTIL_DAY // 7 + 1):
            on_day = 7 * week
            if on_day >= stop_day or week in plan.missed_trough_weeks:
                continue
            level = plan.troughs_out_of_range.get(
                week, TROUGHS[(self.index * 3 + week) % len(TROUGHS)]
            )
            self.add(
                self.day(on_day),
                "CyclosporineTroughMeasured",
                {
                    "level": quantity(str(level), "ng/mL"),
                    "collected_on": self.day(on_day).isoformat(),
                },
            )
            if week in plan.troughs_out_of_range:
                low = level < 150
                dose += 10 if low else -10
                self.add(
                    self.day(on_day + 1),
                    "CyclosporineDoseAdjusted",
                    {
                        "dose": quantity(tenths(dose), "mg/kg/day"),
                        "effective_on": self.day(on_day + 1).isoformat(),
                        "reason": (
                            f"trough {level} ng/mL {'below' if low else 'above'} the target of "
                            "150-250 ng/mL"
                        ),
                    },
                )
        self.add(
            self.day(stop_day),
            "CyclosporineStopped",
            {"stopped_on": self.day(stop_day).isoformat(), "reason": stop_reason},
        )

    # -- counts and transfusions ---------------------------------------------------------------

    def severe_count(self, on: date, step: int) -> dict[str, Any]:
        """A count that meets the severe criteria: ANC < 0.5, platelets < 20, reticulocytes < 60."""
        w = wobble(self.index, step)
        return self.count(
            on,
            haemoglobin=74 + w,
            neutrophils=28 + 3 * w,
            platelets=11 + w,
            reticulocytes=24 + 2 * w,
            leukocytes=12 + w,
        )

    def recovering_count(self, on: date, step: int) -> dict[str, Any]:
        """A partial responder's count from week 15 to week 26: ANC 0.5-1.0, platelets 20-40,
        haemoglobin below 10 without transfusion; no longer severe, not complete."""
        rise = step - RECOVERY_WEEK + 1  # 1..12
        w = wobble(self.index, step) // 2
        return self.count(
            on,
            haemoglobin=80 + 13 * rise // 10 + w,
            neutrophils=50 + 3 * rise + w,
            platelets=24 + 14 * rise // 10 + w,
            reticulocytes=36 + 2 * rise + w,
            leukocytes=18 + rise + w,
        )

    def recovered_count(self, on: date, month: int) -> dict[str, Any]:
        """A partial responder's monthly count after month 6: better, never complete
        (platelets stay below 100)."""
        w = wobble(self.index, month) // 2
        return self.count(
            on,
            haemoglobin=min(98 + 2 * month, 118) + w,
            neutrophils=min(95 + 3 * month, 140) + w,
            platelets=min(38 + 2 * month, 72) + w,
            reticulocytes=min(60 + 2 * month, 90) + w,
            leukocytes=min(26 + month, 40) + w,
        )

    @staticmethod
    def count(
        on: date,
        *,
        haemoglobin: int,
        neutrophils: int,
        platelets: int,
        reticulocytes: int,
        leukocytes: int,
    ) -> dict[str, Any]:
        """A count in wire form: haemoglobin and leukocytes in tenths, neutrophils in
        hundredths, platelets and reticulocytes whole."""
        return {
            "collected_on": on.isoformat(),
            "results": {
                "haemoglobin": quantity(tenths(haemoglobin), "g/dL"),
                "neutrophils": quantity(hundredths(neutrophils), "10^9/L"),
                "platelets": quantity(str(platelets), "10^9/L"),
                "reticulocytes": quantity(str(reticulocytes), "10^9/L"),
                "leukocytes": quantity(tenths(leukocytes), "10^9/L"),
            },
            "reticulocyte_method": "automated",
        }

    def counts_and_transfusions(self) -> None:
        plan = self.plan
        for week in range(1, WEEKLY_UNTIL_DAY // 7 + 1):
            on_day = 7 * week
            if not self.alive_on(on_day):
                break
            on = self.day(on_day)
            recovering = plan.responder and week >= RECOVERY_WEEK
            data = self.recovering_count(on, week) if recovering else self.severe_count(on, week)
            key = f"count-{week}"
            if week == plan.mistyped_haemoglobin_week:
                self.mistyped(on, data, key)
            else:
                self.add(on, "BloodCountRecorded", data, key=key)
            if week == plan.duplicated_count_week:
                self.add(on, "BloodCountRecorded", data, key="duplicate")
                self.add(
                    on + timedelta(days=1),
                    "EntryVoided",
                    {
                        "entry_kind": "BloodCountRecorded",
                        "reason": f"duplicate entry of the count of {on.isoformat()} "
                        "(same sample entered twice)",
                    },
                    target="duplicate",
                )
            hb = int(data["results"]["haemoglobin"]["value"].replace(".", ""))
            if not plan.responder or week <= LAST_RED_CELLS_WEEK:
                self.transfuse(on, "red_cells", 2 if hb < 75 else 1)
            if not plan.responder or week <= LAST_PLATELETS_WEEK:
                self.transfuse(on, "platelets", 1)
        month = 1
        while True:
            on_day = WEEKLY_UNTIL_DAY + MONTH * month
            if on_day >= plan.last_day:
                break
            self.monthly(on_day, month)
            month += 1
        if plan.death is None:
            # The end-of-study visit's count.
            self.monthly(plan.last_day, month)

    def monthly(self, on_day: int, month: int) -> None:
        on = self.day(on_day)
        if self.plan.responder:
            self.add(on, "BloodCountRecorded", self.recovered_count(on, month))
            return
        self.add(on, "BloodCountRecorded", self.severe_count(on, 30 + month))
        self.transfuse(on, "red_cells", 2)
        self.transfuse(on, "platelets", 1)

    def mistyped(self, on: date, data: dict[str, Any], key: str) -> None:
        """The count as entered with the haemoglobin's decimal point lost, and its correction."""
        right = data["results"]
        value = right["haemoglobin"]["value"]
        wrong = {**right, "haemoglobin": quantity(value.replace(".", ""), "g/dL")}
        self.add(on, "BloodCountRecorded", {**data, "results": wrong}, key=key)
        self.add(
            on + timedelta(days=2),
            "EntryCorrected",
            {
                "entry_kind": "BloodCountRecorded",
                "changes": {"results": {"old": wrong, "new": right}},
                "reason": f"haemoglobin entered as {value.replace('.', '')} g/dL, decimal point "
                f"omitted; the laboratory report reads {value} g/dL",
            },
            target=key,
        )

    def transfuse(self, on: date, product: str, units: int) -> None:
        self.add(
            on,
            "TransfusionGiven",
            {"given_on": on.isoformat(), "product": product, "units": units},
        )

    # -- marrow ----------------------------------------------------------------------------------

    def marrow_and_chimerism(self) -> None:
        for study_day in CHIMERISM_DAYS:
            if not self.alive_on(study_day):
                continue
            on = self.day(study_day)
            cellularity = self.plan.cellularity + (
                15 if self.plan.responder and study_day == 180 else 0
            )
            self.add(
                on,
                "BoneMarrowExamined",
                {"examined_on": on.isoformat(), "cellularity": quantity(str(cellularity), "%")},
            )
            for method in ("FISH", "VNTR"):
                self.add(
                    on,
                    "ChimerismAssessed",
                    {
                        "study_day": study_day,
                        "method": method,
                        "sample_collected_on": on.isoformat(),
                        "donor_signal_detected": False,
                    },
                )

    # -- safety ----------------------------------------------------------------------------------

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
                self.add(max(learned, resolved), "AdverseEventReported", report)
                continue
            self.add(
                learned, "AdverseEventReported", report | {"outcome": "not_recovered"}, INVESTIGATOR
            )
            self.notify(event.name, learned + timedelta(days=event.notified_after))
            self.add(
                resolved + timedelta(days=1),
                "AdverseEventFollowedUp",
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
            "SeriousAdverseEventNotified",
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
        self.add(died, "AdverseEventReported", report, INVESTIGATOR)
        self.add(
            died,
            "SubjectDied",
            {"died_on": died.isoformat(), "cause": death.cause, "adverse_event": name},
            INVESTIGATOR,
        )
        self.notify(name, died + timedelta(days=death.notified_after))

    # -- response ------------------------------------------------------------------------------

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
                "ResponseAssessed",
                {"month": month, "response": response, "assessed_on": assessed.isoformat()},
                INVESTIGATOR,
            )


def subject_records(plan: Plan) -> list[Record]:
    """Every record of one planned subject, in the order they are signed and submitted."""
    return _Subject(plan, PLANS.index(plan)).records()


def cohort() -> Iterator[tuple[str, list[Record]]]:
    """Each subject's study code and records, RP-01 first."""
    for plan in PLANS:
        yield plan.code, subject_records(plan)
