"""The traceability matrix: clause -> requirement -> tests -> result, computed from a run.

A requirement's tests are those the run says proved it (the ``requirement`` property each
marked test case carries) and those the checkout's markers name, so that a marked test left
out of the run shows as not run rather than vanishing. A requirement that is not procedural
passes when at least one of its tests passed and none failed; the operational qualification
passes when every such requirement does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from infrastructure.validation.changes import Change
from infrastructure.validation.markers import MarkedTest
from infrastructure.validation.requirements import (
    Clause,
    Requirement,
    Requirements,
    RequirementsInvalid,
)
from infrastructure.validation.runs import CaseResult, Outcome, Run


class Verdict(StrEnum):
    """What the run shows of a requirement or a clause."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_RUN = "not run"
    PROCEDURAL = "procedural"
    NOT_APPLICABLE = "not applicable"


@dataclass(frozen=True)
class TestLine:
    """One test of a requirement, and how it ended in the run."""

    label: str
    outcome: Outcome
    message: str = ""


@dataclass(frozen=True)
class RequirementLine:
    """A requirement, its tests and its verdict."""

    requirement: Requirement
    tests: Sequence[TestLine]
    verdict: Verdict


@dataclass(frozen=True)
class ClauseLine:
    """A clause and the requirements that serve it."""

    clause: Clause
    requirements: Sequence[RequirementLine]
    verdict: Verdict


@dataclass(frozen=True)
class ChangeLine:
    """An unreleased CHANGELOG entry, and the tests re-run for each requirement it names."""

    change: Change
    requirements: Sequence[RequirementLine]


@dataclass(frozen=True)
class Matrix:
    """Everything the report shows of a run against the requirements."""

    clauses: Sequence[ClauseLine]
    requirements: Sequence[RequirementLine]
    changes: Sequence[ChangeLine]
    run: Run

    @property
    def passed(self) -> bool:
        """Every requirement that is not procedural passed."""
        return all(
            line.verdict in {Verdict.PASSED, Verdict.PROCEDURAL} for line in self.requirements
        )

    def count(self, verdict: Verdict) -> int:
        """How many requirements have this verdict."""
        return sum(1 for line in self.requirements if line.verdict is verdict)

    @property
    def unclaused(self) -> list[RequirementLine]:
        """User requirements that serve no regulatory clause."""
        return [line for line in self.requirements if not line.requirement.clauses]


def trace(
    requirements: Requirements,
    marked: Iterable[MarkedTest],
    run: Run,
    changes: Sequence[Change] = (),
) -> Matrix:
    """The matrix of the run against the requirements and the checkout's markers.

    Raises:
        RequirementsInvalid: a test case of the run names a requirement the file does not
            declare (a run of another version of sealtrail).
    """
    for case in run.cases:
        for requirement_id in case.requirements:
            if requirement_id not in requirements.ids:
                raise RequirementsInvalid(
                    "the run's test %(test)s proved requirement %(id)s, which "
                    "docs/validation/requirements.toml does not declare: a run of another "
                    "version of sealtrail?",
                    test=case.label,
                    id=requirement_id,
                )
    tests_of = _tests_by_requirement(requirements, list(marked), run.cases)
    lines = {
        r.id: RequirementLine(r, tests_of[r.id], _verdict(r, tests_of[r.id]))
        for r in requirements.requirements
    }
    clauses = [
        ClauseLine(
            clause,
            serving := [lines[r.id] for r in requirements.serving(name)],
            _clause_verdict(clause, serving),
        )
        for name, clause in requirements.clauses.items()
    ]
    return Matrix(
        clauses=clauses,
        requirements=list(lines.values()),
        changes=[ChangeLine(c, [lines[rid] for rid in c.requirements]) for c in changes],
        run=run,
    )


def _tests_by_requirement(
    requirements: Requirements, marked: list[MarkedTest], cases: Sequence[CaseResult]
) -> dict[str, list[TestLine]]:
    found: dict[str, list[TestLine]] = {rid: [] for rid in requirements.ids}
    runs: dict[tuple[str, str], list[CaseResult]] = {}
    for case in cases:
        runs.setdefault((case.classname, case.name.split("[", 1)[0]), []).append(case)
    matched: set[tuple[str, str]] = set()
    for test in marked:
        key = (test.junit_classname, test.name)
        ran = runs.get(key, [])
        matched.add(key)
        line = _line(key, ran) if ran else TestLine(test.nodeid, Outcome.NOT_RUN)
        for requirement_id in test.requirements:
            if requirement_id in found:  # an unknown id is the check of make test's to name
                found[requirement_id].append(line)
    for key, ran in runs.items():
        if key in matched:
            continue
        named = dict.fromkeys(rid for case in ran for rid in case.requirements)
        for requirement_id in named:
            found[requirement_id].append(
                _line(key, [case for case in ran if requirement_id in case.requirements])
            )
    return found


_WORST_FIRST = (Outcome.FAILED, Outcome.ERROR, Outcome.PASSED, Outcome.SKIPPED)


def _line(key: tuple[str, str], ran: Sequence[CaseResult]) -> TestLine:
    """One line for a test function: its case, or its parametrised cases summed up (every
    case's outcome counted, the first failures named)."""
    if len(ran) == 1:
        return TestLine(ran[0].label, ran[0].outcome, ran[0].message)
    outcome = next(o for o in _WORST_FIRST if any(case.outcome is o for case in ran))
    counts = ", ".join(
        f"{sum(1 for case in ran if case.outcome is o)} {o.value}"
        for o in _WORST_FIRST
        if any(case.outcome is o for case in ran)
    )
    failures = [c for c in ran if c.outcome in {Outcome.FAILED, Outcome.ERROR}][:3]
    named = "; ".join(f"{c.name[len(key[1]) :]} {c.message}".strip() for c in failures)
    return TestLine(
        f"{key[0]}::{key[1]} [{len(ran)} cases]", outcome, counts + (f"; {named}" if named else "")
    )


def _verdict(requirement: Requirement, tests: Sequence[TestLine]) -> Verdict:
    if requirement.procedural:
        return Verdict.PROCEDURAL
    outcomes = {test.outcome for test in tests}
    if outcomes & {Outcome.FAILED, Outcome.ERROR}:
        return Verdict.FAILED
    return Verdict.PASSED if Outcome.PASSED in outcomes else Verdict.NOT_RUN


def _clause_verdict(clause: Clause, serving: Sequence[RequirementLine]) -> Verdict:
    if clause.not_applicable is not None:
        return Verdict.NOT_APPLICABLE
    verdicts = {line.verdict for line in serving} - {Verdict.PROCEDURAL}
    if not serving:
        return Verdict.NOT_RUN
    if not verdicts:
        return Verdict.PROCEDURAL
    for verdict in (Verdict.FAILED, Verdict.NOT_RUN):
        if verdict in verdicts:
            return verdict
    return Verdict.PASSED
