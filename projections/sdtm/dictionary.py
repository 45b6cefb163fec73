"""The variables of the SDTM-shaped datasets, and the trial's codes in them.

This is the data dictionary as data: each dataset's SDTM domain, what one row is, and for each
variable its SDTM name and label, its type, the controlled terms or units it takes, the
sealtrail record kind and field it comes from, and the rule that derives it. Each dataset's
variables are declared beside the rules deriving them (:mod:`projections.sdtm.dm` and its
siblings), which write exactly these columns; this module holds what every dataset shares.
"""

from __future__ import annotations

from dataclasses import dataclass

SDTMIG_VERSION = "3.1.3"
"""The SDTM Implementation Guide whose variable names and conventions the datasets follow."""


@dataclass(frozen=True)
class Variable:
    """One column of a dataset, as the data dictionary describes it.

    Attributes:
        name: the SDTM variable name (``USUBJID``, ``EXDOSE``).
        label: the SDTM label.
        type: ``Char`` or ``Num``.
        terms: the controlled terms or units its values take, empty when free.
        origin: the sealtrail record kind and field it comes from, or ``Assigned``.
        derivation: the rule that derives it, empty when copied as recorded.
    """

    name: str
    label: str
    type: str
    terms: str = ""
    origin: str = ""
    derivation: str = ""


@dataclass(frozen=True)
class Dataset:
    """One dataset: its SDTM domain, what a row is, and its variables in column order."""

    domain: str
    label: str
    structure: str
    variables: tuple[Variable, ...]
    sdtmig: str = SDTMIG_VERSION
    """The SDTM Implementation Guide version that defines the domain."""

    @property
    def file_name(self) -> str:
        """The dataset's file in the packet, e.g. ``DM.csv``."""
        return f"{self.domain}.csv"

    @property
    def columns(self) -> tuple[str, ...]:
        """The variable names, in column order."""
        return tuple(v.name for v in self.variables)


SPID_RULE = (
    "The entries of the subject's stream (study/SUBJID; entry = the signed event's version) "
    "the row comes from, joined by ';': the record itself first, then, ascending, the entries "
    "that changed or complete what the row shows (its corrections; an adverse event's "
    "follow-ups and their corrections; the record whose date ends a cyclosporine dose)."
)


def identifiers(domain: str) -> tuple[Variable, ...]:
    """STUDYID, DOMAIN and USUBJID, the first variables of every dataset."""
    return (
        Variable(
            "STUDYID",
            "Study Identifier",
            "Char",
            origin="Subject stream name (study part)",
            derivation="The study's registry id, e.g. NCT01297972.",
        ),
        Variable("DOMAIN", "Domain Abbreviation", "Char", domain, "Assigned"),
        Variable(
            "USUBJID",
            "Unique Subject Identifier",
            "Char",
            origin="Subject stream name",
            derivation="STUDYID and SUBJID joined by '-', e.g. NCT01297972-RP-01.",
        ),
    )


def sequence(domain: str) -> tuple[Variable, ...]:
    """--SEQ and --SPID, which number a subject's rows and trace each to its entries."""
    return (
        Variable(
            f"{domain}SEQ",
            "Sequence Number",
            "Num",
            origin="Derived",
            derivation="1, 2, ... within the subject, in the dataset's sort order.",
        ),
        Variable(
            f"{domain}SPID",
            "Sponsor-Defined Identifier",
            "Char",
            origin="Entry numbers of the subject's stream",
            derivation=SPID_RULE,
        ),
    )


DICTIONARY_COLUMNS = (
    "dataset",
    "variable",
    "label",
    "type",
    "controlled_terms_or_units",
    "origin",
    "derivation",
)
