"""SDTMIG AE, Adverse Events: one row per adverse event, as its report and follow-ups leave it.

The rules here are the folding of follow-ups (:meth:`Subject.adverse_events`), the CDISC
outcome decode and the seriousness flags; which item fills which variable the kind declares.
"""

from __future__ import annotations

from domain.subject import Record, Subject
from domain.subject.safety import AdverseEventReported
from domain.vocabulary import AdverseEventOutcome
from projections.sdtm.codes import OUTCOMES, SERIOUSNESS_FLAGS
from projections.sdtm.declared import declared_origin, with_declared
from projections.sdtm.dictionary import Dataset, Variable, identifiers, sequence
from projections.sdtm.rows import Row, code, numbered, traced, yes_no
from projections.sdtm.values import declared_rows, declared_values

READS: tuple[type[Record], ...] = (AdverseEventReported,)
"""The kinds the rule below reads (with their follow-ups)."""
AFTER_FOLLOW_UPS = " (after follow-ups)"
"""What a follow-up may change is given as the last follow-up leaves it."""


AE = with_declared(
    Dataset(
        "AE",
        "Adverse Events",
        "One record per adverse event, as its report and every follow-up leave it, sorted by "
        "USUBJID, then AESTDTC and the report's entry.",
        (
            *identifiers("AE"),
            *sequence("AE"),
            Variable(
                "AEREFID",
                "Reference ID",
                "Char",
                origin=declared_origin("AE", "AEREFID"),
                derivation="The site's id of the adverse event (e.g. AE-01), unique per subject.",
            ),
            Variable(
                "AETERM",
                "Reported Term for the Adverse Event",
                "Char",
                "CTCAE v5 terms",
                declared_origin("AE", "AETERM"),
            ),
            Variable(
                "AEDECOD",
                "Dictionary-Derived Term",
                "Char",
                "MedDRA",
                "Not recorded",
                "Empty: sealtrail records CTCAE v5 terms, not MedDRA codes.",
            ),
            Variable(
                "AECAT",
                "Category for Adverse Event",
                "Char",
                "INFECTION, FEBRILE_NEUTROPENIA, INFUSION_REACTION, ALLERGIC_REACTION, "
                "ORGAN_DYSFUNCTION, HAEMORRHAGE, OTHER",
                declared_origin("AE", "AECAT"),
                "The recorded category, upper case.",
            ),
            Variable(
                "AESER",
                "Serious Event",
                "Char",
                "Y, N",
                declared_origin("AE", "AESER", after=AFTER_FOLLOW_UPS),
            ),
            Variable(
                "AETOXGR",
                "Standard Toxicity Grade",
                "Char",
                "1-5 (CTCAE v5)",
                declared_origin("AE", "AETOXGR", after=AFTER_FOLLOW_UPS),
            ),
            Variable(
                "AEREL",
                "Causality",
                "Char",
                "UNRELATED, UNLIKELY, POSSIBLE, PROBABLE, DEFINITE (WHO-UMC)",
                declared_origin("AE", "AEREL", after=AFTER_FOLLOW_UPS),
                "Relatedness to the MSC, the investigational product, upper case. Relatedness to "
                "rATG and cyclosporine is recorded (relatedness_ratg, relatedness_cyclosporine) "
                "but not in this dataset (SDTM would put it in SUPPAE).",
            ),
            Variable(
                "AEOUT",
                "Outcome of Adverse Event",
                "Char",
                "; ".join(OUTCOMES.values()),
                declared_origin("AE", "AEOUT", after=AFTER_FOLLOW_UPS),
                "The recorded outcome in the CDISC OUT codelist's words.",
            ),
            *(
                Variable(
                    name,
                    label,
                    "Char",
                    "Y, N",
                    declared_origin("AE", name, after=AFTER_FOLLOW_UPS),
                    f"Y when the seriousness criteria include {SERIOUSNESS_FLAGS[name].value}.",
                )
                for name, label in (
                    ("AESCONG", "Congenital Anomaly or Birth Defect"),
                    ("AESDISAB", "Persist or Signif Disability/Incapacity"),
                    ("AESDTH", "Results in Death"),
                    ("AESHOSP", "Requires or Prolongs Hospitalization"),
                    ("AESLIFE", "Is Life Threatening"),
                    ("AESMIE", "Other Medically Important Serious Event"),
                )
            ),
            Variable(
                "AESTDTC",
                "Start Date/Time of Adverse Event",
                "Char",
                "ISO 8601",
                declared_origin("AE", "AESTDTC", after=AFTER_FOLLOW_UPS),
            ),
            Variable(
                "AEENDTC",
                "End Date/Time of Adverse Event",
                "Char",
                "ISO 8601",
                declared_origin("AE", "AEENDTC", after=AFTER_FOLLOW_UPS),
                "Empty while the event has not ended.",
            ),
        ),
    ),
    READS,
)


def adverse_events(subject: Subject) -> list[Row]:
    """SDTMIG AE: each adverse event as its report and follow-ups, in order, leave it.

    Rules: each item the kind maps to AE is copied as declared, from the event as its
    follow-ups leave it; AEOUT is the outcome in CDISC's words; the seriousness flags are Y for
    each recorded ICH E2A criterion and N otherwise. A kind no rule here reads whose items map
    to AE adds its rows as declared.
    """
    time_zone = subject.protocol.time_zone
    found = declared_rows(subject, AE.domain, READS)
    for name, event in subject.adverse_events().items():
        reported = subject.entries[event["reported_in"]]
        follow_ups = [subject.entries[v] for v in event["follow_ups"]]
        criteria = {code(c) for c in event["seriousness"]}
        fields = {**event, "adverse_event": name}
        values = {
            **declared_values(AE.domain, AdverseEventReported, fields, time_zone),
            "AEOUT": OUTCOMES[AdverseEventOutcome(code(event["outcome"]))],
            **{flag: yes_no(c.value in criteria) for flag, c in SERIOUSNESS_FLAGS.items()},
        }
        sources = traced(reported, extra=[v for f in follow_ups for v in traced(f)])
        found.append((event["onset_on"], reported.version, sources, values))
    found.sort(key=lambda row: row[:2])
    return numbered(subject, AE, [(entries, values) for *_, entries, values in found])
