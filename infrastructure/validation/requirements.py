"""The requirements a sponsor validates sealtrail against, read from
``docs/validation/requirements.toml`` and checked whole before anything uses them.

The file holds two tables. ``[clauses."<name>"]`` says what each regulatory clause asks (21 CFR
Part 11, ICH E6(R3), the EMA guideline on computerised systems, the LGPD), and, for a clause
that cannot apply to a system of this kind, why (``not_applicable``). ``[[requirement]]`` is one
user or regulatory requirement: its id, its text, the clauses it serves, its risk class with
the GAMP 5 reasoning behind it, and, for a requirement the sponsor meets with procedures (SOPs)
rather than the system, ``procedural = true`` and the evidence the system gives them.

A requirement that is not procedural is proved by the tests marked
``@pytest.mark.requirement("<id>")`` (``tests/traceability.py``); ``make test`` fails when one
has no such test.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from infrastructure.errors import ConfigurationError

CHECKOUT = Path(__file__).resolve().parents[2]
"""The checkout sealtrail runs from (installed editable): its tests, docs and CHANGELOG."""
REQUIREMENTS_FILE = CHECKOUT / "docs" / "validation" / "requirements.toml"

REQUIREMENT_ID = re.compile(r"[A-Z][A-Z0-9]*-[0-9A-Za-z.-]+-[0-9]+")
"""An id: the source it comes from, the clause or subject, a number (``P11-11.10e-1``)."""


class RequirementsInvalid(ConfigurationError):
    """The requirements file is missing, unreadable, or breaks its own rules."""


class Risk(StrEnum):
    """GAMP 5's risk class: the severity of a failure (to subjects' safety and the data's
    integrity), how likely it is, and how likely it would be detected."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True)
class Clause:
    """A clause of a regulation or guideline, and what it asks, in a line."""

    name: str
    asks: str
    not_applicable: str | None = None
    """Why the clause cannot apply to sealtrail (e.g. biometric signatures), when it cannot."""


@dataclass(frozen=True)
class Requirement:
    """One requirement: what sealtrail must do, the clauses it serves, and its risk."""

    id: str
    text: str
    clauses: tuple[str, ...]
    risk: Risk
    risk_reason: str
    procedural: bool = False
    evidence: str | None = None
    """For a procedural requirement: what the system records that the sponsor's SOP relies on."""


@dataclass(frozen=True)
class Requirements:
    """Every clause and every requirement of the file, in the file's order."""

    clauses: Mapping[str, Clause]
    requirements: Sequence[Requirement]

    def __post_init__(self) -> None:
        self._check()

    def __getitem__(self, requirement_id: str) -> Requirement:
        for requirement in self.requirements:
            if requirement.id == requirement_id:
                return requirement
        raise KeyError(requirement_id)

    @property
    def ids(self) -> frozenset[str]:
        """Every requirement's id."""
        return frozenset(requirement.id for requirement in self.requirements)

    def serving(self, clause: str) -> list[Requirement]:
        """The requirements that serve the clause, in the file's order."""
        return [r for r in self.requirements if clause in r.clauses]

    def _check(self) -> None:
        seen: set[str] = set()
        for requirement in self.requirements:
            if requirement.id in seen:
                raise RequirementsInvalid("requirement %(id)s is declared twice", id=requirement.id)
            seen.add(requirement.id)
            for served in requirement.clauses:
                if served not in self.clauses:
                    raise RequirementsInvalid(
                        "requirement %(id)s serves %(clause)r, which no [clauses] entry declares",
                        id=requirement.id,
                        clause=served,
                    )
                if self.clauses[served].not_applicable is not None:
                    raise RequirementsInvalid(
                        "requirement %(id)s serves %(clause)r, which is declared not applicable",
                        id=requirement.id,
                        clause=served,
                    )
        for name, clause in self.clauses.items():
            if clause.not_applicable is None and not self.serving(name):
                raise RequirementsInvalid(
                    "clause %(clause)r is served by no requirement: add one, or say why it is "
                    "not applicable",
                    clause=name,
                )


_CLAUSE_KEYS = {"asks", "not_applicable"}
_REQUIREMENT_KEYS = {"id", "text", "clauses", "risk", "risk_reason", "procedural", "evidence"}


def load_requirements(path: Path = REQUIREMENTS_FILE) -> Requirements:
    """The requirements of the file, checked whole.

    Raises:
        RequirementsInvalid: the file is missing or is not TOML, an entry lacks a field or has
            one it should not, an id is malformed or declared twice, a requirement serves a
            clause never declared, or a procedural requirement gives no evidence.
    """
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RequirementsInvalid(
            "the requirements file %(path)s cannot be read: %(error)s",
            path=path,
            error=error.strerror or error,
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise RequirementsInvalid(
            "the requirements file %(path)s is not TOML: %(error)s", path=path, error=error
        ) from None
    unknown = set(document) - {"clauses", "requirement"}
    if unknown:
        raise RequirementsInvalid(
            "%(path)s has tables other than [clauses] and [[requirement]]: %(names)s",
            path=path,
            names=", ".join(sorted(unknown)),
        )
    clauses = {
        name: _clause(name, entry) for name, entry in _table(document, "clauses", path).items()
    }
    entries = document.get("requirement", [])
    if not isinstance(entries, list) or not entries:
        raise RequirementsInvalid("%(path)s declares no [[requirement]]", path=path)
    return Requirements(clauses, [_requirement(number, e) for number, e in enumerate(entries, 1)])


def _table(document: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    table = document.get(name)
    if not isinstance(table, dict) or not table:
        raise RequirementsInvalid("%(path)s has no [%(name)s] table", path=path, name=name)
    return table


def _clause(name: str, entry: Any) -> Clause:
    where = f"clause {name!r}"
    fields = _fields(entry, where, _CLAUSE_KEYS)
    return Clause(
        name=name,
        asks=_text(fields, "asks", where),
        not_applicable=_optional_text(fields, "not_applicable", where),
    )


def _requirement(number: int, entry: Any) -> Requirement:
    where = f"requirement {number}"
    fields = _fields(entry, where, _REQUIREMENT_KEYS)
    requirement_id = _text(fields, "id", where)
    if REQUIREMENT_ID.fullmatch(requirement_id) is None:
        raise RequirementsInvalid(
            "requirement id %(id)r is not of the form SOURCE-CLAUSE-N (e.g. P11-11.10e-1)",
            id=requirement_id,
        )
    where = f"requirement {requirement_id}"
    clauses = fields.get("clauses", [])
    if not isinstance(clauses, list) or not all(isinstance(c, str) and c for c in clauses):
        raise RequirementsInvalid("%(where)s: clauses is not a list of names", where=where)
    if len(set(clauses)) != len(clauses):
        raise RequirementsInvalid("%(where)s names a clause twice", where=where)
    risk = _text(fields, "risk", where)
    if risk not in set(Risk):
        raise RequirementsInvalid(
            "%(where)s: risk %(risk)r is none of high, medium, low", where=where, risk=risk
        )
    procedural = fields.get("procedural", False)
    if not isinstance(procedural, bool):
        raise RequirementsInvalid("%(where)s: procedural is not true or false", where=where)
    evidence = (
        _text(fields, "evidence", where)
        if procedural
        else _optional_text(fields, "evidence", where)
    )
    if evidence is not None and not procedural:
        raise RequirementsInvalid(
            "%(where)s gives evidence but is not procedural: its tests are its evidence",
            where=where,
        )
    return Requirement(
        id=requirement_id,
        text=_text(fields, "text", where),
        clauses=tuple(clauses),
        risk=Risk(risk),
        risk_reason=_text(fields, "risk_reason", where),
        procedural=procedural,
        evidence=evidence,
    )


def _fields(entry: Any, where: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise RequirementsInvalid("%(where)s is not a table", where=where)
    unknown = set(entry) - allowed
    if unknown:
        raise RequirementsInvalid(
            "%(where)s has fields no requirement takes: %(names)s",
            where=where,
            names=", ".join(sorted(unknown)),
        )
    return entry


def _text(fields: dict[str, Any], name: str, where: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value.strip():
        raise RequirementsInvalid("%(where)s has no %(name)s", where=where, name=name)
    return " ".join(value.split())


def _optional_text(fields: dict[str, Any], name: str, where: str) -> str | None:
    return None if fields.get(name) is None else _text(fields, name, where)
