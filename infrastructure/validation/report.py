"""The traceability report: the matrix of a run as an HTML page and as a signed PDF.

Both say the same, in the same order: the verdict; the run (its JUnit file's SHA-256, host and
time) and the software it speaks for (the commit); clause -> requirement -> tests -> result;
the procedural requirements with the evidence the system gives the sponsor's SOPs; the clauses
that cannot apply; the unreleased changes and the tests re-run for them; every installed
distribution; the machine. The PDF is drawn and signed (PAdES) as the store's other documents
are, with the server's document-signing certificate.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from infrastructure.documents import pdf
from infrastructure.documents.certificate import document_signer
from infrastructure.documents.signing import pades_authentication, sign_pdf
from infrastructure.settings import Settings
from infrastructure.validation.environment import Environment
from infrastructure.validation.matrix import Matrix, RequirementLine, Verdict

TITLE = "sealtrail operational qualification: traceability report"


def verdict_line(matrix: Matrix) -> str:
    """One line: the verdict and the requirements by verdict."""
    verdict = "PASSED" if matrix.passed else "NOT PASSED"
    counts = ", ".join(
        f"{matrix.count(v)} {v.value}"
        for v in (Verdict.PASSED, Verdict.FAILED, Verdict.NOT_RUN, Verdict.PROCEDURAL)
    )
    return f"OQ {verdict}: {len(matrix.requirements)} requirements ({counts})"


def _about(matrix: Matrix, environment: Environment) -> list[tuple[str, str]]:
    run = matrix.run
    return [
        ("Verdict", verdict_line(matrix)),
        ("Commit of the checkout", environment.commit),
        ("Report made", f"{environment.made_at:%Y-%m-%dT%H:%M:%SZ}"),
        (
            "Run",
            f"{len(run.cases)} test cases, JUnit XML {run.source} (SHA-256 {run.sha256}), "
            f"run on {run.hostname or 'an unnamed host'} at {run.timestamp or 'an unstated time'}",
        ),
        *((name.capitalize(), value) for name, value in environment.machine),
    ]


def _tests_text(line: RequirementLine) -> str:
    if not line.tests:
        return "(none)"
    return "\n".join(
        f"{test.outcome.value}: {test.label}" + (f" ({test.message})" if test.message else "")
        for test in line.tests
    )


def _matrix_rows(matrix: Matrix) -> list[tuple[str, str, str, str, str, str]]:
    """(clause [verdict], what it asks, requirement, risk, tests, result) for each requirement of
    each clause, and a row of its own for a clause no requirement serves (not applicable)."""
    rows: list[tuple[str, str, str, str, str, str]] = []
    for line in matrix.clauses:
        clause = f"{line.clause.name} [{line.verdict.value}]"
        if not line.requirements:
            reason = line.clause.not_applicable or ""
            rows.append((clause, line.clause.asks, reason, "", "", line.verdict.value))
        for req in line.requirements:
            rows.append(
                (
                    clause,
                    line.clause.asks,
                    f"{req.requirement.id}: {req.requirement.text}",
                    req.requirement.risk.value,
                    _tests_text(req),
                    req.verdict.value,
                )
            )
    return rows


# -- HTML ---------------------------------------------------------------------------------------

_STYLE = """
body { font-family: sans-serif; font-size: 14px; margin: 2em; color: #111; }
table { border-collapse: collapse; margin: 1em 0; width: 100%; }
th, td { border: 1px solid #999; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #e8e8e8; }
td.tests { font-family: monospace; font-size: 12px; white-space: pre-wrap; }
.passed { background: #e5f5e0; } .failed { background: #fde0dd; }
.not-run { background: #fff7bc; } .procedural, .not-applicable { background: #eeeeee; }
"""


def html_report(matrix: Matrix, environment: Environment) -> bytes:
    """The report as one self-contained HTML page (no script, nothing from elsewhere)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(TITLE)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(TITLE)}</h1>",
        _html_fields(_about(matrix, environment)),
        "<h2>Clause, requirement, tests, result</h2>",
        _html_table(
            ("Clause", "Requirement", "Risk", "Tests", "Result"),
            [
                (
                    (f"{clause}\n{asks}", ""),
                    (requirement, ""),
                    (risk, ""),
                    (tests, "tests"),
                    (result, _css(Verdict(result))),
                )
                for clause, asks, requirement, risk, tests, result in _matrix_rows(matrix)
            ],
        ),
        "<h2>User requirements that serve no clause</h2>",
        _requirement_table(matrix.unclaused),
        "<h2>Procedural requirements: the sponsor's SOPs, and the evidence the system gives</h2>",
        _html_table(
            ("Requirement", "Clauses", "Evidence the system gives"),
            [
                (
                    (f"{req.requirement.id}: {req.requirement.text}", ""),
                    (", ".join(req.requirement.clauses), ""),
                    (req.requirement.evidence or "", ""),
                )
                for req in matrix.requirements
                if req.verdict is Verdict.PROCEDURAL
            ],
        ),
        "<h2>Clauses that cannot apply</h2>",
        _html_table(
            ("Clause", "Why not"),
            [
                ((line.clause.name, ""), (line.clause.not_applicable or "", ""))
                for line in matrix.clauses
                if line.verdict is Verdict.NOT_APPLICABLE
            ],
        ),
        "<h2>Change control: the unreleased changes and the tests re-run for them</h2>",
        _html_table(
            ("Change", "Requirement", "Tests", "Result"),
            [
                (
                    (f"{change.change.section}: {change.change.summary}", ""),
                    (req.requirement.id, ""),
                    (_tests_text(req), "tests"),
                    (req.verdict.value, _css(req.verdict)),
                )
                for change in matrix.changes
                for req in change.requirements
            ],
        ),
        "<h2>Installed distributions</h2>",
        _html_table(
            ("Distribution", "Version"),
            [((name, ""), (version, "")) for name, version in environment.distributions],
        ),
        "</body></html>",
    ]
    return "\n".join(parts).encode("utf-8")


def _requirement_table(lines: Sequence[RequirementLine]) -> str:
    return _html_table(
        ("Requirement", "Risk", "Tests", "Result"),
        [
            (
                (f"{req.requirement.id}: {req.requirement.text}", ""),
                (req.requirement.risk.value, ""),
                (_tests_text(req), "tests"),
                (req.verdict.value, _css(req.verdict)),
            )
            for req in lines
        ],
    )


def _css(verdict: Verdict) -> str:
    return verdict.value.replace(" ", "-")


def _html_fields(items: Sequence[tuple[str, str]]) -> str:
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in items)
    return f"<table>{rows}</table>"


def _html_table(columns: Sequence[str], rows: Sequence[Sequence[tuple[str, str]]]) -> str:
    if not rows:
        return "<p>None.</p>"
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{css}">{escape(text)}</td>' if css else f"<td>{escape(text)}</td>"
            for text, css in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


# -- PDF ----------------------------------------------------------------------------------------


def pdf_document(matrix: Matrix, environment: Environment) -> pdf.Document:
    """The report's pages (unsigned)."""
    blocks: list[pdf.Block] = [
        pdf.Fields(_about(matrix, environment)),
        pdf.Grid(
            columns=("Clause", "Requirement", "Risk", "Tests", "Result"),
            rows=[
                (clause, requirement, risk, tests, result)
                for clause, _, requirement, risk, tests, result in _matrix_rows(matrix)
            ],
            widths=(14, 30, 6, 44, 7),
            title="Clause, requirement, tests, result",
        ),
        pdf.Grid(
            columns=("Requirement", "Risk", "Tests", "Result"),
            rows=[
                (
                    f"{req.requirement.id}: {req.requirement.text}",
                    req.requirement.risk.value,
                    _tests_text(req),
                    req.verdict.value,
                )
                for req in matrix.unclaused
            ],
            widths=(40, 6, 48, 7),
            title="User requirements that serve no clause",
            empty="None.",
        ),
        pdf.Grid(
            columns=("Requirement", "Clauses", "Evidence the system gives"),
            rows=[
                (
                    f"{req.requirement.id}: {req.requirement.text}",
                    ", ".join(req.requirement.clauses),
                    req.requirement.evidence or "",
                )
                for req in matrix.requirements
                if req.verdict is Verdict.PROCEDURAL
            ],
            widths=(35, 15, 50),
            title="Procedural requirements: the sponsor's SOPs, and the evidence the system gives",
            empty="None.",
        ),
        pdf.Grid(
            columns=("Clause", "Why not"),
            rows=[
                (line.clause.name, line.clause.not_applicable or "")
                for line in matrix.clauses
                if line.verdict is Verdict.NOT_APPLICABLE
            ],
            widths=(20, 80),
            title="Clauses that cannot apply",
            empty="None.",
        ),
        pdf.Grid(
            columns=("Change", "Requirement", "Tests", "Result"),
            rows=[
                (
                    f"{change.change.section}: {change.change.summary}",
                    req.requirement.id,
                    _tests_text(req),
                    req.verdict.value,
                )
                for change in matrix.changes
                for req in change.requirements
            ],
            widths=(35, 12, 45, 8),
            title="Change control: the unreleased changes and the tests re-run for them",
            empty="No unreleased change names a requirement.",
        ),
        pdf.Grid(
            columns=("Distribution", "Version"),
            rows=list(environment.distributions),
            widths=(60, 40),
            title="Installed distributions",
        ),
    ]
    return pdf.Document(
        title=TITLE,
        subtitle=verdict_line(matrix),
        blocks=blocks,
        wide=True,
        footer=f"sealtrail {environment.commit}",
    )


def signed_pdf(matrix: Matrix, environment: Environment, settings: Settings) -> bytes:
    """The report as a PDF signed (PAdES) with the server's document-signing certificate."""
    signer = document_signer(settings)
    document = pdf_document(matrix, environment)
    authentication = pades_authentication(signer)
    document.blocks.append(pdf.Fields(list(authentication.fields)))
    document.footer = f"{document.footer} · {authentication.footer_mark}"
    return sign_pdf(
        pdf.render(document),
        signer,
        reason=f"sealtrail traceability report, {verdict_line(matrix)}",
        location="sealtrail validation",
        timestamp_url=settings.tsa_url,
    )
