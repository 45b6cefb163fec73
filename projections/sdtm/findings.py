"""SDTM datasets read from the record kinds' declarations alone, with no rule of their own.

:mod:`projections.sdtm` derives DM, EX, LB, AE and DS by rules (dosing intervals, disposition
decodes, an adverse event as its follow-ups leave it). A record kind whose items map to any
other domain (``item(..., sdtm=Sdtm("RS", "RSORRES"))``) is written from its declaration, in
the shape of SDTM's Findings class: one row per record that counts, each declared variable
filled as :mod:`projections.sdtm.values` writes it.

The variables come in the Findings class's order (:data:`ORDER`), whatever the order of the
items; the data dictionary names, for each, the record kind and item it comes from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from domain.subject import KINDS, Subject
from domain.subject.declaration import ValueType
from projections.sdtm.ae import AE
from projections.sdtm.declared import Source, sources
from projections.sdtm.dictionary import Dataset, Variable, identifiers, sequence
from projections.sdtm.dm import DM
from projections.sdtm.ds import DS
from projections.sdtm.ex import EX
from projections.sdtm.lb import LB
from projections.sdtm.rows import Row, numbered
from projections.sdtm.values import MEASURED, NUMBERS, declared_rows, suffix, variable_name

RULED_DATASETS: tuple[Dataset, ...] = (DM, EX, LB, AE, DS)
"""The datasets derived by rules of their own, in the order the dictionary lists them."""
RULED = frozenset(dataset.domain for dataset in RULED_DATASETS)
"""The domains derived by rules of their own."""


@dataclass(frozen=True)
class Domain:
    """A Findings domain as the SDTMIG defines it: its label, version and own variable labels."""

    label: str
    sdtmig: str
    labels: Mapping[str, str] = field(default_factory=dict)


DOMAINS: Mapping[str, Domain] = {
    "RS": Domain(
        "Disease Response and Clin Classification",
        "3.3",
        {
            "TESTCD": "Assessment Short Name",
            "TEST": "Assessment Name",
            "CAT": "Category for Assessment",
            "DTC": "Date/Time of Assessment",
        },
    ),
    "QS": Domain("Questionnaires", "3.1.3"),
    "VS": Domain("Vital Signs", "3.1.3"),
}
"""The domains a declaration may map to beyond the ruled ones (clinical classifications such
as ECOG are in RS since SDTMIG 3.3)."""

ORDER: Mapping[str, tuple[str, str]] = {
    "TESTCD": ("Test or Examination Short Name", "Char"),
    "TEST": ("Test or Examination Name", "Char"),
    "CAT": ("Category", "Char"),
    "ORRES": ("Result or Finding in Original Units", "Char"),
    "ORRESU": ("Original Units", "Char"),
    "STRESC": ("Character Result/Finding in Std Format", "Char"),
    "STRESN": ("Numeric Result/Finding in Standard Units", "Num"),
    "STRESU": ("Standard Units", "Char"),
    "METHOD": ("Method of Test or Examination", "Char"),
    "EVAL": ("Evaluator", "Char"),
    "VISITNUM": ("Visit Number", "Num"),
    "DTC": ("Date/Time of Collection", "Char"),
}
"""The Findings class's variables (SDTM v1.4, by suffix; ``VISITNUM`` unprefixed), their
labels and types, in column order."""


def declared_domains() -> tuple[str, ...]:
    """The domains declarations map to that no rule derives, in the order first declared.

    Raises:
        TypeError: a declaration maps to a domain :data:`DOMAINS` does not name, or to a
            variable the Findings class has not.
    """
    found = dict.fromkeys(
        mapping.domain
        for kind in KINDS.values()
        for declared in kind.items()
        for mapping in declared.about.sdtm
        if mapping.domain not in RULED
    )
    for domain in found:
        if domain not in DOMAINS:
            raise TypeError(f"SDTM domain {domain} is not one sealtrail knows: add it to DOMAINS")
        for source in sources(domain):
            if suffix(domain, source.mapping.variable) not in ORDER:
                raise TypeError(f"{source.origin} maps to {source.mapping.variable}, no Findings")
    return tuple(found)


def _suffixes(domain: str) -> list[str]:
    """The variables a domain's rows fill, by suffix, in the Findings class's order."""
    named: set[str] = set()
    for source in sources(domain):
        name = suffix(domain, source.mapping.variable)
        named.add(name)
        if source.mapping.test_codes:
            named |= {"TESTCD", "TEST"}
        if name == "ORRES":
            named.add("STRESC")
            if source.item.value_type in NUMBERS:
                named.add("STRESN")
            if source.item.value_type in MEASURED:
                named |= {"ORRESU", "STRESU"}
    return [name for name in ORDER if name in named]


def declared_dataset(domain: str) -> Dataset:
    """A domain's dataset as its declarations give it, with the data dictionary's words."""
    kinds = ", ".join(dict.fromkeys(source.kind.kind() for source in sources(domain)))
    return Dataset(
        domain,
        DOMAINS[domain].label,
        f"One record per {kinds} that counts, sorted by USUBJID, then the day the record is "
        "about and the entry.",
        (
            *identifiers(domain),
            *sequence(domain),
            *(_variable(domain, name) for name in _suffixes(domain)),
        ),
        sdtmig=DOMAINS[domain].sdtmig,
    )


def _variable(domain: str, name: str) -> Variable:
    label, kind = ORDER[name]
    label = DOMAINS[domain].labels.get(name, label)
    filling = [s for s in sources(domain) if suffix(domain, s.mapping.variable) == name]
    coded = [s for s in sources(domain) if s.mapping.test_codes]
    if name in ("TESTCD", "TEST"):
        at = 0 if name == "TESTCD" else 1
        terms = ", ".join(c[at] for s in coded for c in s.mapping.test_codes.values())
        return Variable(
            variable_name(domain, name),
            label,
            kind,
            terms,
            "; ".join(s.origin for s in coded),
            "The CDISC code and name of the test the value names.",
        )
    if name in ("STRESC", "STRESN", "ORRESU", "STRESU"):
        origin = f"As {domain}ORRES"
        return Variable(
            variable_name(domain, name),
            label,
            kind,
            origin=origin,
            derivation=("As recorded: the protocol's units and scales are the standard ones."),
        )
    return Variable(
        variable_name(domain, name),
        label,
        kind,
        _terms(filling),
        "; ".join(s.origin for s in filling),
        "; ".join(s.item.about.description for s in filling),
    )


def _terms(filling: list[Source]) -> str:
    """The controlled terms or units of the items filling a variable."""
    for source in filling:
        if source.item.value_type in (ValueType.DATE, ValueType.INSTANT):
            return "ISO 8601"
        if source.item.choices is not None and not source.mapping.test_codes:
            return ", ".join(str(c.value).upper() for c in source.item.choices)
        if source.item.about.unit is not None:
            return source.item.about.unit
    return ""


DECLARED_DATASETS: tuple[Dataset, ...] = tuple(declared_dataset(d) for d in declared_domains())
"""The datasets read from declarations alone, after the ruled ones in the data dictionary."""


def findings(subject: Subject, dataset: Dataset) -> list[Row]:
    """A declared dataset's rows: one per record of the kinds mapping to it, as declared.

    Rules: rows in the order of the day each record is about, then the entry.
    """
    found = sorted(declared_rows(subject, dataset.domain), key=lambda row: row[:2])
    return numbered(subject, dataset, [(entries, values) for *_, entries, values in found])
