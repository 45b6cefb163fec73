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
    matched: set[int] = set()
    for test in marked:
        ran = [
            (index, case)
            for index, case in enumerate(cases)
            if case.classname == test.junit_classname
            and (case.name == test.name or case.name.startswith(f"{test.name}["))
        ]
        for requirement_id in test.requirements:
            if requirement_id not in found:
                continue  # the check of make test names it; the report shows what is declared
            if not ran:
                found[requirement_id].append(TestLine(test.nodeid, Outcome.NOT_RUN))
            for index, case in ran:
                matched.add(index)
                found[requirement_id].append(TestLine(case.label, case.outcome, case.message))
    for index, case in enumerate(cases):
        if index in matched:
            continue
        for requirement_id in case.requirements:
            found[requirement_id].append(TestLine(case.label, case.outcome, case.message))
    return found


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
