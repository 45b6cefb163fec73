"""The SDTM mapping as the record kinds declare it: which item fills which variable.

Every record kind declares, beside each of its items, the SDTM variables the item fills
(``item(..., sdtm=Sdtm("LB", "LBDTC"))``, :mod:`domain.subject.declaration`). This module reads
those declarations once for every SDTM module: the datasets copy a declared item's value into
its variable, and the data dictionary names the record kind and item each variable comes from,
so that a kind's name is written once, in its declaration, never as text here.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from functools import cache

from domain.subject import KINDS, Record
from domain.subject.declaration import DeclaredItem, Sdtm
from projections.sdtm.dictionary import Dataset


@dataclass(frozen=True)
class Source:
    """One declared item filling one variable of a domain."""

    kind: type[Record]
    item: DeclaredItem
    mapping: Sdtm

    @property
    def origin(self) -> str:
        """``PerformanceStatusRecorded: score``: where the data dictionary says it comes from."""
        return f"{self.kind.kind()}: {self.item.name}"


@cache
def sources(domain: str) -> tuple[Source, ...]:
    """Every declared item mapping to a domain, kind by kind in declared order."""
    return tuple(
        Source(kind, declared, mapping)
        for kind in KINDS.values()
        for declared in kind.items()
        for mapping in declared.about.sdtm
        if mapping.domain == domain
    )


def filling(domain: str, variable: str) -> tuple[Source, ...]:
    """The declared items filling one variable, kind by kind in declared order."""
    return tuple(source for source in sources(domain) if source.mapping.variable == variable)


def declared_origin(domain: str, variable: str, *, after: str = "") -> str:
    """``Kind: item; Kind: item``: the items declared to fill a variable, each then ``after``.

    Raises:
        LookupError: no declared item fills the variable (the dictionary would name none).
    """
    found = filling(domain, variable)
    if not found:
        raise LookupError(f"no record kind declares an item filling {variable}")
    return "; ".join(f"{source.origin}{after}" for source in found)


def origin(kind: type[Record], name: str) -> str:
    """``Kind: item`` for an item the kind declares.

    Raises:
        LookupError: the kind declares no such item (a renamed field the dictionary missed).
    """
    if name not in {declared.name for declared in kind.items()}:
        raise LookupError(f"{kind.kind()} declares no item {name}")
    return f"{kind.kind()}: {name}"


def kinds_filling(domain: str, variable: str) -> str:
    """``Kind, Kind``: the kinds whose declared items fill a variable, in declared order."""
    return ", ".join(dict.fromkeys(source.kind.kind() for source in filling(domain, variable)))


def declared_test(kind: type[Record], name: str) -> tuple[str, str]:
    """The ``--TESTCD`` and ``--TEST`` a kind's declaration gives one of its items."""
    declared = next(d for d in kind.items() if d.name == name)
    return next(m.test_codes[name] for m in declared.about.sdtm if name in m.test_codes)


def with_declared(dataset: Dataset, ruled: Collection[type[Record]]) -> Dataset:
    """A dataset derived by rules, described with the kinds no rule reads but whose items map
    to it (their rows are written as declared, :func:`projections.sdtm.values.declared_rows`).

    Each such item is added to its variable's origin, and its kind to what one row is; with no
    such kind, the dataset is as its rules describe it.
    """
    unruled = [source for source in sources(dataset.domain) if source.kind not in ruled]
    if not unruled:
        return dataset
    kinds = ", ".join(dict.fromkeys(source.kind.kind() for source in unruled))
    variables = []
    for variable in dataset.variables:
        named = "; ".join(s.origin for s in unruled if s.mapping.variable == variable.name)
        if named:
            variable = replace(variable, origin="; ".join(filter(None, (variable.origin, named))))
        variables.append(variable)
    return replace(
        dataset,
        structure=f"{dataset.structure} Also one record per {kinds} that counts, as declared.",
        variables=tuple(variables),
    )
