"""The shape of a CONEP document and how its values read.

A *document* is a JSON-ready dict with a bilingual ``title``, ``sections`` (each with a title,
labelled ``fields`` and ``tables``) and ``data``, the same facts for machines. Values are as
recorded, dates in ISO 8601.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from domain.wire import to_wire
from projections.conep.bilingual import SYNTHETIC_NOTICE

Document = dict[str, Any]
Section = dict[str, Any]
Table = dict[str, Any]


def document(
    report: str,
    *,
    title: str,
    subtitle: str,
    synthetic: bool,
    sections: list[Section],
    data: dict[str, Any],
) -> Document:
    return {
        "report": report,
        "title": title,
        "subtitle": subtitle,
        "synthetic": synthetic,
        "notice": SYNTHETIC_NOTICE if synthetic else None,
        "sections": sections,
        "data": data,
    }


def section(
    title: str,
    fields: Sequence[tuple[str, str]],
    *,
    tables: Sequence[Table] = (),
) -> Section:
    return {
        "title": title,
        "fields": [{"label": name, "value": value} for name, value in fields],
        "tables": list(tables),
    }


def table(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], *, empty: str
) -> Table:
    return {
        "title": title,
        "columns": list(columns),
        "rows": [[str(cell) for cell in row] for row in rows],
        "empty": empty,
    }


def coded(value: Any) -> str:
    return str(getattr(value, "value", value))


def iso_date(value: date | None) -> str:
    return "-" if value is None else value.isoformat()


def decimal_text(value: Decimal | None) -> str:
    return "-" if value is None else format(value, "f")


def value_text(value: Any) -> str:
    if value is None:  # a value a follow-up cleared
        return "-"
    if isinstance(value, dict) and set(value) == {"value", "unit"}:
        return f"{value['value']} {value['unit']}"
    if isinstance(value, list | tuple):
        return ", ".join(value_text(v) for v in value)
    return coded(to_wire(value)) if not isinstance(value, dict) else str(value)
