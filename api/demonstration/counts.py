"""Blood counts, transfusions, marrow and chimerism of a demonstration subject: severe aplasia
that persists, or recovers from week 15 for a partial responder."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from api.demonstration.builder import MONTH, SubjectBuilder, hundredths, quantity, tenths, wobble
from domain.subject import Subject

WEEKLY_UNTIL_DAY = 182  # 26 weeks: "weekly until 6 months"
CHIMERISM_DAYS = (30, 90, 180)
RECOVERY_WEEK = 15  # partial responders' counts rise from this week (day 105)
LAST_PLATELETS_WEEK = 15  # partial responders' last platelet transfusion (day 105)
LAST_RED_CELLS_WEEK = 17  # and last red cells (day 119): 63 days before the day-182 count


class Counts(SubjectBuilder):
    """Weekly counts and transfusions until day 182, monthly after; marrow and chimerism."""

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
                self.add(on, Subject.BloodCountRecorded.kind(), data, key=key)
            if week == plan.duplicated_count_week:
                self.add(on, Subject.BloodCountRecorded.kind(), data, key="duplicate")
                self.add(
                    on + timedelta(days=1),
                    Subject.EntryVoided.kind(),
                    {
                        "entry_kind": Subject.BloodCountRecorded.kind(),
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
            self.add(on, Subject.BloodCountRecorded.kind(), self.recovered_count(on, month))
            return
        self.add(on, Subject.BloodCountRecorded.kind(), self.severe_count(on, 30 + month))
        self.transfuse(on, "red_cells", 2)
        self.transfuse(on, "platelets", 1)

    def mistyped(self, on: date, data: dict[str, Any], key: str) -> None:
        """The count as entered with the haemoglobin's decimal point lost, and its correction."""
        right = data["results"]
        value = right["haemoglobin"]["value"]
        wrong = {**right, "haemoglobin": quantity(value.replace(".", ""), "g/dL")}
        self.add(on, Subject.BloodCountRecorded.kind(), {**data, "results": wrong}, key=key)
        self.add(
            on + timedelta(days=2),
            Subject.EntryCorrected.kind(),
            {
                "entry_kind": Subject.BloodCountRecorded.kind(),
                "changes": {"results": {"old": wrong, "new": right}},
                "reason": f"haemoglobin entered as {value.replace('.', '')} g/dL, decimal point "
                f"omitted; the laboratory report reads {value} g/dL",
            },
            target=key,
        )

    def transfuse(self, on: date, product: str, units: int) -> None:
        self.add(
            on,
            Subject.TransfusionGiven.kind(),
            {"given_on": on.isoformat(), "product": product, "units": units},
        )

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
                Subject.BoneMarrowExamined.kind(),
                {"examined_on": on.isoformat(), "cellularity": quantity(str(cellularity), "%")},
            )
            for method in ("FISH", "VNTR"):
                self.add(
                    on,
                    Subject.ChimerismAssessed.kind(),
                    {
                        "study_day": study_day,
                        "method": method,
                        "sample_collected_on": on.isoformat(),
                        "donor_signal_detected": False,
                    },
                )
