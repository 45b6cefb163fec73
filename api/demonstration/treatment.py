"""The treatment of a demonstration subject: rATG, the MSC infusions, and cyclosporine with its
trough levels and dose adjustments."""

from __future__ import annotations

from typing import Any

from api.demonstration.builder import SubjectBuilder, quantity, tenths, wobble
from api.demonstration.plans import PLANS
from domain.subject import Subject

RATG_DOSE = "3.5"
CYCLOSPORINE_START_TENTHS = 50  # 5 mg/kg/day
TROUGHS_UNTIL_DAY = 175  # the last weekly trough before cyclosporine stops at 6 months
CYCLOSPORINE_STOP_DAY = 182
TROUGHS = (182, 205, 171, 224, 196, 163, 238, 187, 210, 176, 199, 215, 168, 229)
"""In-target cyclosporine troughs (ng/mL) that weekly measurements cycle through."""
DONORS = ("UD-01", "UD-02", "UD-03", "UD-04", "UD-05", "UD-06")
"""Unrelated, non-HLA-matched marrow donors of the MSC products (codes, no identity)."""


class Treatment(SubjectBuilder):
    """rATG on days 0 to 4, the MSC infusions from day 7, cyclosporine for six months."""

    def treatment(self) -> None:
        plan = self.plan
        for n in range(5):
            self.add(
                self.day(n),
                Subject.RatgDoseGiven.kind(),
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
            self.add(
                self.day(on_day),
                Subject.MscInfusionGiven.kind(),
                self.infusion(number, dose, on_day),
            )

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
            Subject.CyclosporineStarted.kind(),
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
                Subject.CyclosporineTroughMeasured.kind(),
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
                    Subject.CyclosporineDoseAdjusted.kind(),
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
            Subject.CyclosporineStopped.kind(),
            {"stopped_on": self.day(stop_day).isoformat(), "reason": stop_reason},
        )
