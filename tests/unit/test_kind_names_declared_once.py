"""Kind names are referred to through the declarations, never as text (issue 17, point 1).

A record kind's name is spelled once, as its event class in ``domain/subject/``; everywhere else
code says ``Subject.BloodCountRecorded.kind()`` (or reads the declaration), so renaming a kind
or adding one edits no string elsewhere. Docstrings may name kinds: they are prose.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.subject.kinds import KINDS

ROOT = Path(__file__).resolve().parents[2]
DECLARATIONS = ROOT / "domain" / "subject"
PACKAGES = ("domain", "signatures", "projections", "infrastructure", "api")
KIND_NAME = re.compile(r"\b(" + "|".join(sorted(KINDS, key=len, reverse=True)) + r")\b")


def literals(source: str) -> Iterator[tuple[int, str]]:
    """Every string constant of a module, with its line, except docstrings (prose may name a
    kind; code must refer to it through its declaration)."""
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    for node in ast.walk(tree):
        text = node.value if isinstance(node, ast.Constant) else None
        if isinstance(text, str) and id(node) not in docstrings:
            yield node.lineno, text


def kinds_named(source: str) -> list[tuple[int, str]]:
    return [(line, text) for line, text in literals(source) if KIND_NAME.search(text)]


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_outside_the_declarations_names_a_record_kind_in_a_string(package: str) -> None:
    named = {
        f"{path.relative_to(ROOT)}:{line}": text
        for path in sorted((ROOT / package).rglob("*.py"))
        if not path.is_relative_to(DECLARATIONS)
        for line, text in kinds_named(path.read_text(encoding="utf-8"))
    }

    assert named == {}


def test_the_guard_finds_a_kind_named_in_a_literal_or_an_f_string_but_not_in_a_docstring() -> None:
    module = '''"""Blood counts: BloodCountRecorded."""
def origin(item: str) -> str:
    """Where BloodCountRecorded's item comes from."""
    return f"BloodCountRecorded: {item}"
LBDTC = "CyclosporineTroughMeasured: collected_on"
NOT_A_KIND = "BloodCountRecordedLater"
'''

    assert sorted(line for line, _ in kinds_named(module)) == [4, 5]
