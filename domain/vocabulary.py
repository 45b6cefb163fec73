"""The coded answers a subject's records use (CDISC, CTCAE, ICH E2A and the protocol's own).

Each is written in a signed body by its value, so the values are part of the wire contract.
"""

from __future__ import annotations

from enum import Enum


class Sex(Enum):
    """Sex as CDISC SDTM codes it (DM.SEX)."""

    FEMALE = "F"
    MALE = "M"
    UNKNOWN = "U"


class Relatedness(Enum):
    """Causal relation of an adverse event to a study product (WHO-UMC scale)."""

    UNRELATED = "unrelated"
    UNLIKELY = "unlikely"
    POSSIBLE = "possible"
    PROBABLE = "probable"
    DEFINITE = "definite"

    @property
    def is_related(self) -> bool:
        """Possible, probable or definite: counted as related in safety tables."""
        return self in {Relatedness.POSSIBLE, Relatedness.PROBABLE, Relatedness.DEFINITE}


class AdverseEventCategory(Enum):
    """What kind of adverse event, for the registry's outcome measures."""

    INFECTION = "infection"
    FEBRILE_NEUTROPENIA = "febrile_neutropenia"
    INFUSION_REACTION = "infusion_reaction"
    ALLERGIC_REACTION = "allergic_reaction"
    ORGAN_DYSFUNCTION = "organ_dysfunction"
    HAEMORRHAGE = "haemorrhage"
    OTHER = "other"


class Pathogen(Enum):
    """The kind of organism behind an infection."""

    BACTERIAL = "bacterial"
    FUNGAL = "fungal"
    VIRAL = "viral"
    UNKNOWN = "unknown"


class AdverseEventOutcome(Enum):
    """Outcome of an adverse event (ICH E2B codes, in words)."""

    RECOVERED = "recovered"
    RECOVERING = "recovering"
    NOT_RECOVERED = "not_recovered"
    RECOVERED_WITH_SEQUELAE = "recovered_with_sequelae"
    FATAL = "fatal"
    UNKNOWN = "unknown"

    @property
    def has_ended(self) -> bool:
        """Recovered (with or without sequelae) or fatal: the event has an end date."""
        return self in {
            AdverseEventOutcome.RECOVERED,
            AdverseEventOutcome.RECOVERED_WITH_SEQUELAE,
            AdverseEventOutcome.FATAL,
        }


class ChimerismMethod(Enum):
    """How donor MSC were looked for in the marrow."""

    FISH = "FISH"
    VNTR = "VNTR"


class DeviationCategory(Enum):
    """What a protocol deviation departed from."""

    CONSENT = "consent"
    ELIGIBILITY = "eligibility"
    TREATMENT = "treatment"
    SCHEDULE = "schedule"
    SAFETY_REPORTING = "safety_reporting"
    OTHER = "other"


class WithdrawalDecidedBy(Enum):
    """Who decided the withdrawal."""

    SUBJECT = "subject"
    INVESTIGATOR = "investigator"
    SPONSOR = "sponsor"


class EndOfStudyReason(Enum):
    """Why a subject's participation ended."""

    COMPLETED = "completed"
    DEATH = "death"
    WITHDRAWAL = "withdrawal"
    LOST_TO_FOLLOW_UP = "lost_to_follow_up"


class Status(Enum):
    """Where a subject stands in the study."""

    SCREENED = "screened"
    SCREEN_FAILED = "screen_failed"
    CONSENTED = "consented"
    ENROLLED = "enrolled"
    WITHDRAWN = "withdrawn"
    DIED = "died"
    COMPLETED = "completed"
    LOST_TO_FOLLOW_UP = "lost_to_follow_up"


class Milestone(Enum):
    """A point of a subject's participation at which the investigator signs the whole casebook."""

    END_OF_TREATMENT = "end_of_treatment"
    MONTH_6 = "month_6"
    END_OF_STUDY = "end_of_study"


SIGNATURE_MEANINGS = ("review", "approval", "responsibility")
"""What an electronic signature over records may mean (21 CFR 11.50(a)(3)); authorship is what
every entry's own signature already says."""

CASEBOOK_SIGNATURE_MEANINGS = ("approval", "responsibility")
"""What the investigator's signature over a whole casebook at a milestone may mean."""
