"""A subject of NCT01297972 at each step of the study, and valid records of every kind.

Domain tests build subjects through the command methods, as a site would, with typed values;
each builder answers a record that the protocol accepts, so a test changes one field to make
it wrong. Dates are in 2011, the study's first year, so none is in the future.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from domain.authorship import Authorship, authored
from domain.clinical import (
    ResponseCategory,
    ReticulocyteMethod,
    SeriousnessCriterion,
    TransfusionProduct,
)
from domain.protocol import NCT01297972, StudyProtocol
from domain.quantities import Quantity
from domain.subject import ABOUT_RECORDS, Subject
from domain.subject.locks import LockScope
from domain.vocabulary import (
    AdverseEventCategory,
    AdverseEventOutcome,
    ChimerismMethod,
    DeviationCategory,
    EndOfStudyReason,
    Pathogen,
    Relatedness,
    Sex,
    WithdrawalDecidedBy,
)

ELIGIBLE = {**{f"IN{n}": True for n in range(1, 4)}, **{f"EX{n}": False for n in range(1, 10)}}
SCREENED_ON = date(2011, 2, 14)
CONSENTED_ON = date(2011, 2, 14)
ASSESSED_ON = date(2011, 2, 18)
ENROLLED_ON = date(2011, 2, 21)
FIRST_INFUSION = datetime(2011, 3, 10, 13, 0, tzinfo=UTC)  # 10:00 in Ribeirão Preto
CELLS = "10^6 cells/kg"


def signed_by_someone() -> Iterator[None]:
    """Domain tests do not check signatures; the store does (tests/integration)."""
    with authored(Authorship("{}", base64.b64encode(bytes(64)).decode())):
        yield


def events_of(subject: Subject) -> list[Subject.Event]:
    """The events a subject's commands made, oldest first (they are collected once)."""
    return [cast(Subject.Event, event) for event in subject.collect_events()]


def q(value: str, unit: str) -> Quantity:
    """A quantity from its text, kept exact."""
    return Quantity(Decimal(value), unit)


def today_plus(days: int) -> date:
    """A date relative to today (two days ahead is the future in every time zone)."""
    return datetime.now(UTC).date() + timedelta(days=days)


# -- subjects at each step ---------------------------------------------------------------------


def screened(
    age: int = 34, *, protocol: StudyProtocol = NCT01297972, code: str = "RP-101"
) -> Subject:
    return Subject.screen(
        protocol=protocol,
        subject_code=code,
        site="RP",
        sex=Sex.FEMALE,
        age=age,
        screened_on=SCREENED_ON,
    )


def consented(age: int = 34, **kwargs: Any) -> Subject:
    subject = screened(age, **kwargs)
    subject.obtain_consent(tcle_version="2.0", consented_on=CONSENTED_ON)
    return subject


def assessed(age: int = 34, **answers: bool) -> Subject:
    """Consented and assessed, every criterion answered (override any)."""
    subject = consented(age)
    subject.assess_eligibility(criteria={**ELIGIBLE, **answers}, assessed_on=ASSESSED_ON)
    return subject


def enrolled() -> Subject:
    subject = assessed()
    subject.enrol(enrolled_on=ENROLLED_ON)
    return subject


def on_cyclosporine() -> Subject:
    subject = enrolled()
    subject.start_cyclosporine(**cyclosporine_start())
    return subject


def with_adverse_event(**overrides: Any) -> Subject:
    subject = enrolled()
    subject.report_adverse_event(**adverse_event(**overrides))
    return subject


QUESTION = {"entry": 3, "entry_kind": "EligibilityAssessed", "question": "Date on source?"}


def with_query() -> Subject:
    """Enrolled, and a monitor's query (entry 5) about the eligibility assessment's date."""
    subject = enrolled()
    subject.raise_query(**QUESTION, item="assessed_on")
    return subject


def signed_as(user_id: str, meaning: str = "authorship") -> Authorship:
    """A body ``user_id`` signs with ``meaning`` (the domain reads the manifestation, not the
    signature)."""
    body = {
        "signer": {"user_id": user_id, "printed_name": user_id.title()},
        "key_id": "ed25519:" + "0" * 32,
        "signed_at": "2011-03-01T09:30:00Z",
        "meaning": meaning,
    }
    return Authorship(json.dumps(body), base64.b64encode(bytes(64)).decode())


def casebook_signed(subject: Subject) -> Subject:
    """``subject`` with the investigator's signature over its whole casebook as it stands (at
    the end of the study: the subject has left it)."""
    records = [
        {"entry": number, "record_hash": entry.record_hash}
        for number, entry in subject.entries.items()
        if entry.is_live and entry.kind not in ABOUT_RECORDS
    ]
    with authored(signed_as("inv1", "responsibility")):
        subject.sign_casebook(
            milestone="end_of_study",
            state_hash=subject.chain_head,
            entries=records,
            meaning="responsibility",
        )
    return subject


def at_the_end_signed() -> Subject:
    """Enrolled, at the end of study (entry 5) and its casebook signed (entry 6): ready to
    lock."""
    subject = enrolled()
    subject.end_study(**end_of_study(EndOfStudyReason.COMPLETED))
    return casebook_signed(subject)


def locked() -> Subject:
    """As :func:`at_the_end_signed`, then locked by a sponsor data manager (entry 7)."""
    subject = at_the_end_signed()
    subject.lock_records(scope=LockScope.SUBJECT, reason="end of study")
    return subject


def unlock_requested() -> Subject:
    """Locked, and a data manager's unlock request (entry 8) awaiting the investigator."""
    subject = locked()
    subject.request_unlock(reason="a transfusion was entered twice")
    return subject


def with_serious_adverse_event() -> Subject:
    return with_adverse_event(**serious())


def dead(died_on: date = date(2011, 6, 1)) -> Subject:
    subject = enrolled()
    subject.record_death(died_on=died_on, cause="Heart failure")
    return subject


def died_of_an_adverse_event() -> Subject:
    """Enrolled (entries 1-4), a grade-5 adverse event AE-09 (entry 5), and the death it caused
    on 2011-06-01 (entry 6)."""
    subject = enrolled()
    subject.report_adverse_event(**fatal(date(2011, 6, 1)))
    subject.record_death(
        died_on=date(2011, 6, 1), cause="Invasive fungal infection", adverse_event="AE-09"
    )
    return subject


def correct_units(subject: Subject, entry: int = 5) -> None:
    """Correct the transfusion at ``entry`` from 2 units to 3, a typo."""
    subject.correct_entry(
        entry=entry,
        entry_kind="TransfusionGiven",
        changes={"units": {"old": 2, "new": 3}},
        reason="typo",
    )


def withdrawn() -> Subject:
    subject = enrolled()
    subject.withdraw(**withdrawal())
    return subject


# -- valid records of each kind (typed keyword arguments of the command) ----------------------


def ratg_dose(day: int = 1, given_on: date | None = None, dose: str = "3.5") -> dict[str, Any]:
    return {
        "day": day,
        "dose": q(dose, "mg/kg"),
        "given_on": given_on or date(2011, 2, 21) + timedelta(days=day - 1),
    }


def cyclosporine_start(**overrides: Any) -> dict[str, Any]:
    return {"dose": q("5", "mg/kg/day"), "started_on": date(2011, 2, 21), **overrides}


def cyclosporine_adjustment(**overrides: Any) -> dict[str, Any]:
    return {
        "dose": q("4", "mg/kg/day"),
        "effective_on": date(2011, 3, 1),
        "reason": "trough 310 ng/mL, above target",
        **overrides,
    }


def trough(level: str = "180", unit: str = "ng/mL") -> dict[str, Any]:
    return {"level": q(level, unit), "collected_on": date(2011, 3, 1)}


def vitals(**overrides: Quantity) -> dict[str, Quantity]:
    return {
        "heart_rate": q("82", "/min"),
        "systolic_pressure": q("118", "mm[Hg]"),
        "diastolic_pressure": q("76", "mm[Hg]"),
        "temperature": q("36.7", "Cel"),
        "respiratory_rate": q("16", "/min"),
        "oxygen_saturation": q("98", "%"),
        **overrides,
    }


def infusion(number: int = 1, given_at: datetime | None = None, **overrides: Any) -> dict[str, Any]:
    """Infusion ``number`` of a weekly schedule starting on 10 March 2011."""
    return {
        "infusion_number": number,
        "dose": q("2.7", CELLS),
        "product_lot": f"MSC-2011-01{number}",
        "donor_code": "D-07",
        "viability": q("94.5", "%"),
        "given_at": given_at or FIRST_INFUSION + timedelta(days=7 * (number - 1)),
        "vital_signs_before": vitals(),
        "vital_signs_after": vitals(heart_rate=q("88", "/min")),
        "infusion_reaction": False,
        **overrides,
    }


def blood_count(collected_on: date = date(2011, 3, 1), **results: Quantity) -> dict[str, Any]:
    return {
        "collected_on": collected_on,
        "results": results
        or {
            "haemoglobin": q("7.2", "g/dL"),
            "neutrophils": q("0.31", "10^9/L"),
            "platelets": q("12", "10^9/L"),
            "reticulocytes": q("18", "10^9/L"),
            "leukocytes": q("1.4", "10^9/L"),
        },
        "reticulocyte_method": ReticulocyteMethod.AUTOMATED,
    }


def marrow(cellularity: str = "10", unit: str = "%") -> dict[str, Any]:
    return {"examined_on": date(2011, 2, 16), "cellularity": q(cellularity, unit)}


def transfusion(units: int = 2, **overrides: Any) -> dict[str, Any]:
    return {
        "given_on": date(2011, 3, 2),
        "product": TransfusionProduct.RED_CELLS,
        "units": units,
        **overrides,
    }


def chimerism(
    study_day: int = 30, method: ChimerismMethod = ChimerismMethod.FISH
) -> dict[str, Any]:
    return {
        "study_day": study_day,
        "method": method,
        "sample_collected_on": date(2011, 4, 9),
        "donor_signal_detected": False,
    }


def adverse_event(name: str = "AE-01", **overrides: Any) -> dict[str, Any]:
    """A non-serious grade-2 event, recovering."""
    return {
        "adverse_event": name,
        "term": "Nausea",
        "category": AdverseEventCategory.OTHER,
        "grade": 2,
        "serious": False,
        "seriousness": (),
        "relatedness_msc": Relatedness.UNLIKELY,
        "relatedness_ratg": Relatedness.POSSIBLE,
        "relatedness_cyclosporine": Relatedness.UNRELATED,
        "expected": True,
        "onset_on": date(2011, 3, 12),
        "learned_on": date(2011, 3, 12),
        "outcome": AdverseEventOutcome.RECOVERING,
        **overrides,
    }


def serious(**overrides: Any) -> dict[str, Any]:
    """The fields that make an adverse event a serious infection (hospitalised)."""
    return {
        "term": "Pneumonia",
        "category": AdverseEventCategory.INFECTION,
        "pathogen": Pathogen.BACTERIAL,
        "grade": 3,
        "serious": True,
        "seriousness": (SeriousnessCriterion.HOSPITALISATION,),
        **overrides,
    }


def fatal(died_on: date, name: str = "AE-09") -> dict[str, Any]:
    """A grade-5 invasive fungal infection ending in death on ``died_on``."""
    return adverse_event(
        name,
        **serious(
            term="Invasive fungal infection",
            pathogen=Pathogen.FUNGAL,
            grade=5,
            seriousness=(SeriousnessCriterion.DEATH,),
        ),
        onset_on=died_on - timedelta(days=10),
        learned_on=died_on - timedelta(days=10),
        outcome=AdverseEventOutcome.FATAL,
        resolved_on=died_on,
    )


def response(month: int = 6) -> dict[str, Any]:
    return {
        "month": month,
        "response": ResponseCategory.PARTIAL,
        "assessed_on": ENROLLED_ON + timedelta(days=30 * month),
    }


def deviation() -> dict[str, Any]:
    return {
        "occurred_on": date(2011, 3, 17),
        "category": DeviationCategory.SCHEDULE,
        "description": "Infusion 2 given one day late",
        "major": False,
    }


def withdrawal(**overrides: Any) -> dict[str, Any]:
    return {
        "withdrawn_on": date(2011, 5, 2),
        "reason": "Moved to another state",
        "decided_by": WithdrawalDecidedBy.SUBJECT,
        **overrides,
    }


def end_of_study(reason: EndOfStudyReason, ended_on: date = date(2011, 8, 21)) -> dict[str, Any]:
    return {"ended_on": ended_on, "reason": reason}
