"""The SDTM mapping is read from the record kinds' declarations (issue 17): a kind's name is
written once, in its declaration, and every ``Sdtm(...)`` a kind declares reaches a dataset
and the data dictionary's origin of its variable.
"""

from __future__ import annotations

import ast
import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import projections
from domain.subject import KINDS
from domain.subject.measurements import BloodCountRecorded
from projections.sdtm import EVERY_DATASET, data_dictionary
from projections.sdtm.declared import declared_origin, origin, sources
from projections.sdtm.dictionary import Dataset

PROJECTIONS = Path(projections.__file__).parent
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


@pytest.mark.parametrize(
    "path", sorted(PROJECTIONS.rglob("*.py")), ids=lambda p: str(p.relative_to(PROJECTIONS))
)
def test_no_projection_names_a_record_kind_in_a_string_literal(path: Path) -> None:
    assert kinds_named(path.read_text(encoding="utf-8")) == []


def test_the_guard_finds_a_kind_named_in_a_literal_or_an_f_string_but_not_in_a_docstring() -> None:
    module = '''"""Blood counts: BloodCountRecorded."""
def origin(item: str) -> str:
    """Where BloodCountRecorded's item comes from."""
    return f"BloodCountRecorded: {item}"
LBDTC = "CyclosporineTroughMeasured: collected_on"
NOT_A_KIND = "BloodCountRecordedLater"
'''

    assert sorted(line for line, _ in kinds_named(module)) == [4, 5]


def described() -> dict[tuple[str, str], dict[str, str]]:
    rows = csv.DictReader(io.StringIO(data_dictionary().decode("utf-8"), newline=""))
    return {(row["dataset"], row["variable"]): row for row in rows}


@pytest.mark.parametrize("dataset", EVERY_DATASET, ids=lambda d: d.domain)
def test_every_item_a_kind_maps_to_a_dataset_is_a_column_whose_origin_names_it(
    dataset: Dataset,
) -> None:
    dictionary = described()
    declared = sources(dataset.domain)

    assert declared, f"no record kind declares an item mapping to {dataset.domain}"
    for source in declared:
        assert source.mapping.variable in dataset.columns, source.origin
        row = dictionary[(dataset.file_name, source.mapping.variable)]
        assert source.item.name in row["origin"], source.origin


def test_an_origin_is_read_from_the_declaration_and_names_only_items_the_kind_declares() -> None:
    kind = BloodCountRecorded.kind()

    assert origin(BloodCountRecorded, "collected_on") == f"{kind}: collected_on"
    assert declared_origin("LB", "LBMETHOD") == f"{kind}: reticulocyte_method"
    with pytest.raises(LookupError, match="declares no item result"):
        origin(BloodCountRecorded, "result")
    with pytest.raises(LookupError, match="LBFAST"):
        declared_origin("LB", "LBFAST")
