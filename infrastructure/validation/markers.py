"""Which tests prove which requirement: the ``@pytest.mark.requirement("<id>", ...)`` markers of
the test suite, read from its source without importing or collecting it.

``make test`` checks on every run that each requirement has a test
(``tests/unit/test_traceability.py``), so the scan must cost next to nothing: it reads the
test modules line by line (a few hundredths of a second for the whole suite, where parsing them
with Python's own parser takes over a second and collecting them several). A marker is read
where pytest applies it: as a decorator of a test function, method or class, or in a module's
or class's ``pytestmark``, with its ids written out as strings. Written anywhere else (a
``pytest.param``'s marks, a variable, a comment) it is refused, naming its line, so that no
marker goes unread.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from infrastructure.validation.requirements import CHECKOUT, Requirements, RequirementsInvalid

TESTS = CHECKOUT / "tests"
MARKER = "requirement"


class MarkerInvalid(RequirementsInvalid):
    """A requirement marker the scan cannot attribute to a test, or with no literal ids."""


@dataclass(frozen=True)
class MarkedTest:
    """A test function and the requirements its markers name."""

    path: str
    """The test file, relative to the checkout (``tests/unit/test_canonical.py``)."""
    owner: str | None
    """The test class it is a method of, if any."""
    name: str
    requirements: tuple[str, ...]

    @property
    def nodeid(self) -> str:
        """pytest's id of the test (without a parameter's)."""
        return "::".join(part for part in (self.path, self.owner, self.name) if part)

    @property
    def junit_classname(self) -> str:
        """The ``classname`` pytest's JUnit XML gives each of its test cases."""
        module = self.path.removesuffix(".py").replace("/", ".")
        return f"{module}.{self.owner}" if self.owner else module


def marked_tests(tests: Path = TESTS) -> list[MarkedTest]:
    """Every test under ``tests`` that a requirement marker names, in file order.

    Raises:
        MarkerInvalid: a marker stands where it applies to no test, or names no literal id.
    """
    found: list[MarkedTest] = []
    root = tests.parent
    for path in sorted(tests.rglob("test_*.py")):
        text = path.read_text(encoding="utf-8")
        if _CALL_START.search(text) is None:
            continue  # most files
        code = _TRIPLE_QUOTED.sub(lambda quoted: '""' + "\n" * quoted[0].count("\n"), text)
        found += _scan(code.splitlines(), path.relative_to(root).as_posix())
    return found


def untraced(requirements: Requirements, tests: Iterable[MarkedTest]) -> list[str]:
    """The ids of the requirements that are not procedural and no test proves."""
    proved = {rid for test in tests for rid in test.requirements}
    return [r.id for r in requirements.requirements if not r.procedural and r.id not in proved]


def unknown(requirements: Requirements, tests: Iterable[MarkedTest]) -> list[tuple[str, str]]:
    """Each (test, id) whose marker names a requirement the file does not declare."""
    known = requirements.ids
    return [(t.nodeid, rid) for t in tests for rid in t.requirements if rid not in known]


_CALL_START = re.compile(rf"\bmark\.{MARKER}\(")
_CALL = re.compile(rf"\b(?:pytest\.)?mark\.{MARKER}\(([^()]*)\)")
_IDS = re.compile(r'\s*"([^"\\]+)"\s*(?:,\s*"([^"\\]+)"\s*)*,?\s*')
_ID = re.compile(r'"([^"\\]+)"')
_DECORATOR = re.compile(rf"@(?:pytest\.)?mark\.{MARKER}\(")
_DEFINITION = re.compile(r"(?:async\s+)?(def|class)\s+(\w+)")
_TRIPLE_QUOTED = re.compile(r'"""[\s\S]*?"""' + r"|'''[\s\S]*?'''")
"""Docstrings and other triple-quoted text, emptied (their lines kept) before the scan."""
_STRING = re.compile(r""" "(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*' """.strip())
"""A string literal on one line: its brackets are text, not code."""
_PYTESTMARK = re.compile(r"pytestmark\s*(?::[^=]*)?=")


@dataclass
class _Class:
    name: str
    body_indent: int | None = None
    ids: list[str] = field(default_factory=list)


def _scan(lines: Sequence[str], path: str) -> list[MarkedTest]:
    found: list[MarkedTest] = []
    module_ids: list[str] = []
    owner: _Class | None = None
    pending: list[str] = []  # the ids of the decorators above the next definition
    number = 0
    while number < len(lines):
        line = lines[number]
        code = line.lstrip()
        indent = len(line) - len(code)
        if not code or (code.startswith("#") and _CALL_START.search(code) is None):
            number += 1
            continue
        if owner is not None and indent == 0:
            owner = None
        if owner is not None and owner.body_indent is None and indent > 0:
            owner.body_indent = indent
        statement, end = _statement(lines, number)
        definition = _DEFINITION.match(code)
        if _DECORATOR.match(code):
            pending += _ids(statement, path, number + 1)
        elif code.startswith("@") and _CALL_START.search(statement):
            raise _misplaced(path, number)  # inside another decorator: a parameter's marks
        elif definition is not None:
            kind, name = definition.groups()
            if kind == "class" and indent == 0:
                owner = _Class(name, ids=module_ids + pending)
            elif kind == "def" and indent == 0:
                ids = module_ids + pending
                if name.startswith("test") and ids:
                    found.append(MarkedTest(path, None, name, _unique(ids)))
            elif kind == "def" and owner is not None and indent == owner.body_indent:
                ids = owner.ids + pending
                if name.startswith("test") and ids:
                    found.append(MarkedTest(path, owner.name, name, _unique(ids)))
            elif pending:
                raise _misplaced(path, number)
            pending = []
        elif _PYTESTMARK.match(code) and (indent == 0 or owner is not None):
            ids = _ids(statement, path, number + 1)
            if indent == 0:
                module_ids += ids
            elif owner is not None:
                owner.ids += ids
        elif _CALL_START.search(statement):
            raise _misplaced(path, number)
        number = end
    return found


def _statement(lines: Sequence[str], start: int) -> tuple[str, int]:
    """The logical line starting at ``start`` (brackets left open continue it) and the index of
    the line after it."""
    depth = 0
    end = start
    parts: list[str] = []
    while end < len(lines):
        text = _STRING.sub('""', lines[end]).split("#", 1)[0]
        parts.append(lines[end])
        depth += text.count("(") + text.count("[") - text.count(")") - text.count("]")
        end += 1
        if depth <= 0:
            break
    return "\n".join(parts), end


def _ids(statement: str, path: str, line: int) -> list[str]:
    calls = _CALL.findall(statement)
    if len(calls) != len(_CALL_START.findall(statement)):
        raise MarkerInvalid(
            "%(path)s:%(line)s: a requirement marker's ids are written out as strings",
            path=path,
            line=line,
        )
    ids: list[str] = []
    for arguments in calls:
        if _IDS.fullmatch(arguments) is None:
            raise MarkerInvalid(
                "%(path)s:%(line)s: a requirement marker names its requirements' ids, each "
                "written out as a string, and nothing else",
                path=path,
                line=line,
            )
        ids += _ID.findall(arguments)
    return ids


def _misplaced(path: str, number: int) -> MarkerInvalid:
    return MarkerInvalid(
        "%(path)s:%(line)s: a requirement marker must decorate a test function, method or "
        "class, or be a module's or class's pytestmark",
        path=path,
        line=number + 1,
    )


def _unique(ids: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))
