"""Every requirement is proved by a test (issue 22, points 1, 2 and 6).

The first tests are the check ``make test`` runs on the whole suite: every requirement of
docs/validation/requirements.toml that is not procedural has a test marked with its id, every
marker names a declared requirement, and the CHANGELOG's unreleased entries name declared ids.
It reads the tests' source, so it holds for the whole suite whatever part of it a run collects.
The others hold the loader and the scan to their refusals.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from infrastructure.validation.changes import unreleased_changes
from infrastructure.validation.markers import (
    MarkerInvalid,
    marked_tests,
    unknown,
    untraced,
)
from infrastructure.validation.requirements import (
    REQUIREMENTS_FILE,
    Requirements,
    RequirementsInvalid,
    Risk,
    load_requirements,
)

# Written in two parts, so that the scan of this very file finds no marker in its text.
MARK = "@pytest.mark." + "requirement"


# -- the check of make test ------------------------------------------------------------------------


@pytest.mark.requirement("URS-validation-1")
def test_every_requirement_that_is_not_procedural_is_proved_by_a_marked_test() -> None:
    started = time.perf_counter()
    requirements = load_requirements()
    tests = marked_tests()

    assert untraced(requirements, tests) == []
    assert unknown(requirements, tests) == []
    # The check runs on every `make test`: the scan reads source, it never collects.
    assert time.perf_counter() - started < 5


@pytest.mark.requirement("URS-validation-1")
def test_the_unreleased_changes_name_only_declared_requirements() -> None:
    changes = unreleased_changes(load_requirements())

    assert {rid for change in changes for rid in change.requirements} <= load_requirements().ids


def test_the_requirements_file_declares_each_clause_it_serves_and_every_part_11_section() -> None:
    requirements = load_requirements()

    sections = {
        *(f"21 CFR 11.10({letter})" for letter in "abcdefghijk"),
        "21 CFR 11.30",
        "21 CFR 11.50",
        "21 CFR 11.70",
        "21 CFR 11.100(a)",
        "21 CFR 11.100(b)",
        "21 CFR 11.100(c)",
        "21 CFR 11.200(a)",
        "21 CFR 11.200(b)",
        *(f"21 CFR 11.300({letter})" for letter in "abcde"),
    }
    assert sections <= set(requirements.clauses)
    for name in sections - {"21 CFR 11.200(b)"}:
        assert requirements.serving(name), name
    procedural = {r.id for r in requirements.requirements if r.procedural}
    assert {"P11-11.10i-1", "P11-11.10j-1", "P11-11.100c-1"} <= procedural
    assert all(r.evidence for r in requirements.requirements if r.procedural)


# -- the check fails ------------------------------------------------------------------------------

CLAUSES = """
[clauses."21 CFR 11.10(e)"]
asks = "audit trails"

[clauses."21 CFR 11.10(j)"]
asks = "written policies"
"""

TRAIL = """
[[requirement]]
id = "P11-11.10e-1"
text = "the audit trail"
clauses = ["21 CFR 11.10(e)"]
risk = "high"
risk_reason = "records"
"""

POLICY = """
[[requirement]]
id = "P11-11.10j-1"
text = "policies"
clauses = ["21 CFR 11.10(j)"]
risk = "low"
risk_reason = "paper"
procedural = true
evidence = "every signature names its signer"
"""


def requirements_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "requirements.toml"
    path.write_text(text, encoding="utf-8")
    return path


def suite(tmp_path: Path, files: dict[str, str]) -> Path:
    tests = tmp_path / "tests"
    for name, text in files.items():
        (tests / name).parent.mkdir(parents=True, exist_ok=True)
        (tests / name).write_text(text, encoding="utf-8")
    return tests


def test_a_requirement_no_test_proves_fails_the_check_a_procedural_one_does_not(
    tmp_path: Path,
) -> None:
    requirements = load_requirements(requirements_file(tmp_path, CLAUSES + TRAIL + POLICY))
    tests = suite(tmp_path, {"unit/test_a.py": "def test_a():\n    pass\n"})

    assert untraced(requirements, marked_tests(tests)) == ["P11-11.10e-1"]


def test_a_marker_naming_an_unknown_requirement_fails_the_check(tmp_path: Path) -> None:
    requirements = load_requirements(requirements_file(tmp_path, CLAUSES + TRAIL + POLICY))
    tests = suite(
        tmp_path,
        {"unit/test_a.py": f'import pytest\n\n\n{MARK}("P11-11.10e-9")\ndef test_a():\n    pass\n'},
    )

    assert unknown(requirements, marked_tests(tests)) == [
        ("tests/unit/test_a.py::test_a", "P11-11.10e-9")
    ]


def test_the_scan_reads_markers_where_pytest_applies_them(tmp_path: Path) -> None:
    tests = suite(
        tmp_path,
        {
            "unit/test_a.py": (
                '"""A docstring naming (brackets [ and a marker: ' + MARK + '("X-1-1")."""\n'
                "import pytest\n\n"
                f'pytestmark = [pytest.mark.slow, {MARK[1:]}("M-1-1")]\n\n\n'
                f'{MARK}("F-1-1", "F-1-2")\n'
                '@pytest.mark.parametrize("value", ["[", "(x"])\n'
                "def test_function(value):\n    pass\n\n\n"
                f'{MARK}(\n    "C-1-1",\n)\n'
                "class TestThings:\n"
                f'    pytestmark = {MARK[1:]}("C-1-2")\n\n'
                f'    {MARK}("T-1-1")\n'
                "    def test_method(self):\n        pass\n\n"
                "    def helper(self):\n        pass\n\n\n"
                "def test_unmarked_here():\n    pass\n"
            ),
            "unit/helpers.py": f'{MARK}("H-1-1")\ndef test_not_a_test_module():\n    pass\n',
        },
    )

    found = {test.nodeid: test.requirements for test in marked_tests(tests)}

    assert found == {
        "tests/unit/test_a.py::test_function": ("M-1-1", "F-1-1", "F-1-2"),
        "tests/unit/test_a.py::TestThings::test_method": ("M-1-1", "C-1-1", "C-1-2", "T-1-1"),
        "tests/unit/test_a.py::test_unmarked_here": ("M-1-1",),
    }


@pytest.mark.parametrize(
    ("source", "says"),
    [
        (f"ids = ['P-1-1']\n\n\n{MARK}(*ids)\ndef test_a():\n    pass\n", "written out"),
        (f"ID = 'P-1-1'\n\n\n{MARK}(ID)\ndef test_a():\n    pass\n", "written out"),
        (f"{MARK}()\ndef test_a():\n    pass\n", "written out"),
        (
            f'@pytest.mark.parametrize("v", [pytest.param(1, marks={MARK[1:]}("P-1-1"))])\n'
            "def test_a(v):\n    pass\n",
            "must decorate",
        ),
        (f'def test_a():\n    {MARK}("P-1-1")\n    def inner():\n        pass\n', "must decorate"),
        (f'marks = {MARK[1:]}("P-1-1")\n', "must decorate"),
    ],
    ids=["starred", "a-name", "no-ids", "a-param", "nested", "a-variable"],
)
def test_a_marker_the_scan_cannot_attribute_is_refused_naming_its_line(
    tmp_path: Path, source: str, says: str
) -> None:
    tests = suite(tmp_path, {"test_a.py": "import pytest\n\n\n" + source})

    with pytest.raises(MarkerInvalid, match=rf"^tests/test_a\.py:\d+: .*{says}"):
        marked_tests(tests)


# -- the file's own rules -------------------------------------------------------------------------


def test_the_loader_reads_each_field_of_a_requirement(tmp_path: Path) -> None:
    requirements = load_requirements(requirements_file(tmp_path, CLAUSES + TRAIL + POLICY))

    trail, policy = requirements.requirements
    assert trail.id == "P11-11.10e-1"
    assert trail.clauses == ("21 CFR 11.10(e)",)
    assert trail.risk is Risk.HIGH
    assert not trail.procedural and trail.evidence is None
    assert policy.procedural and policy.evidence == "every signature names its signer"
    assert requirements.serving("21 CFR 11.10(j)") == [policy]
    assert isinstance(load_requirements(REQUIREMENTS_FILE), Requirements)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("not = [toml", "is not TOML"),
        (CLAUSES, "declares no"),
        (TRAIL, "no \\[clauses\\] table"),
        (CLAUSES + TRAIL + TRAIL + POLICY, "P11-11.10e-1 is declared twice"),
        (CLAUSES + TRAIL.replace("P11-11.10e-1", "trail") + POLICY, "not of the form"),
        (CLAUSES + TRAIL.replace('"high"', '"severe"') + POLICY, "none of high, medium, low"),
        (CLAUSES + TRAIL.replace("11.10(e)", "11.10(z)") + POLICY, "no \\[clauses\\] entry"),
        (CLAUSES + TRAIL + POLICY.replace('evidence = "', 'notes = "'), "fields no requirement"),
        (
            CLAUSES + TRAIL + POLICY.replace('evidence = "every signature names its signer"', ""),
            "P11-11.10j-1 has no evidence",
        ),
        (
            CLAUSES + TRAIL.replace('risk_reason = "records"', 'risk_reason = "r"\nevidence = "e"'),
            "gives evidence but is not procedural",
        ),
        (CLAUSES + TRAIL, "11.10\\(j\\)' is served by no requirement"),
        (
            CLAUSES.replace('"written policies"', '"p"\nnot_applicable = "no"') + TRAIL + POLICY,
            "declared not applicable",
        ),
        (CLAUSES + TRAIL.replace('text = "the audit trail"', 'text = "  "') + POLICY, "no text"),
        ("[extra]\n" + CLAUSES + TRAIL + POLICY, "tables other than"),
    ],
    ids=[
        "not-toml",
        "no-requirement",
        "no-clauses",
        "twice",
        "bad-id",
        "bad-risk",
        "unknown-clause",
        "unknown-field",
        "procedural-without-evidence",
        "evidence-without-procedural",
        "clause-unserved",
        "clause-not-applicable",
        "blank-text",
        "unknown-table",
    ],
)
def test_a_requirements_file_that_breaks_a_rule_is_refused_naming_it(
    tmp_path: Path, text: str, says: str
) -> None:
    with pytest.raises(RequirementsInvalid, match=says):
        load_requirements(requirements_file(tmp_path, text))


def test_a_missing_requirements_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RequirementsInvalid, match="cannot be read"):
        load_requirements(tmp_path / "absent.toml")


# -- change control --------------------------------------------------------------------------------


def changelog(tmp_path: Path, unreleased: str) -> Path:
    path = tmp_path / "CHANGELOG.md"
    path.write_text(
        "# Changelog\n\n## [Unreleased]\n\n" + unreleased + "\n## [0.1.0] - 2026-01-01\n\n"
        "### Added\n- An old entry [P11-11.10j-1].\n",
        encoding="utf-8",
    )
    return path


def test_the_unreleased_entries_name_the_requirements_they_touch(tmp_path: Path) -> None:
    requirements = load_requirements(requirements_file(tmp_path, CLAUSES + TRAIL + POLICY))
    path = changelog(
        tmp_path,
        "### Added\n- **The audit trail** shows the reason\n  of each change [P11-11.10e-1].\n"
        "- A change that names no requirement (see [Keep a Changelog]).\n\n"
        "### Fixed\n- Two at once [P11-11.10e-1] [P11-11.10j-1].\n",
    )

    changes = unreleased_changes(requirements, path)

    assert [(c.section, c.summary, c.requirements) for c in changes] == [
        (
            "Added",
            "The audit trail shows the reason of each change [P11-11.10e-1].",
            ("P11-11.10e-1",),
        ),
        ("Fixed", "Two at once [P11-11.10e-1] [P11-11.10j-1].", ("P11-11.10e-1", "P11-11.10j-1")),
    ]


def test_an_unreleased_entry_naming_an_unknown_requirement_is_refused(tmp_path: Path) -> None:
    requirements = load_requirements(requirements_file(tmp_path, CLAUSES + TRAIL + POLICY))
    path = changelog(tmp_path, "### Added\n- Something [P11-11.10e-7].\n")

    with pytest.raises(RequirementsInvalid, match=r"names \[P11-11.10e-7\], which"):
        unreleased_changes(requirements, path)
