"""What every SDTM dataset's rows share: identity, numbering, tracing, and writing values.

The bytes are deterministic: values as signed (decimals keep the author's digits, no float
formatting); dates in ISO 8601 in the site's calendar (an instant in the site's local time,
without offset); UTF-8 CSV with ``\\r\\n`` line ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from domain.subject import Entry, Subject
from projections.csv_file import csv_bytes
from projections.sdtm.dictionary import Dataset

Row = dict[str, str]
"""One dataset row: every column's value as text."""

Traced = tuple[list[int], dict[str, str]]
"""A row's source entries (:func:`traced`) and its values, before it is numbered."""


def usubjid(subject: Subject) -> str:
    """The subject's unique id across studies: ``<study>-<subject code>``."""
    return f"{subject.study_id}-{subject.subject_code}"


def identity(subject: Subject, domain: str) -> dict[str, str]:
    """STUDYID, DOMAIN and USUBJID of a subject's row."""
    return {"STUDYID": subject.study_id, "DOMAIN": domain, "USUBJID": usubjid(subject)}


def numbered(subject: Subject, dataset: Dataset, rows: Sequence[Traced]) -> list[Row]:
    """The subject's rows of a dataset, in the order given, numbered and traced to entries."""
    domain = dataset.domain
    return [
        row(
            dataset.columns,
            **identity(subject, domain),
            **{f"{domain}SEQ": str(n), f"{domain}SPID": ";".join(str(v) for v in entries)},
            **values,
        )
        for n, (entries, values) in enumerate(rows, start=1)
    ]


def traced(entry: Entry, *, extra: Iterable[int] = ()) -> list[int]:
    """The entry, then ascending the corrections of it and any further entries given."""
    rest = {*entry.corrected_by, *extra} - {entry.version}
    return [entry.version, *sorted(rest)]


def row(columns: Sequence[str], **values: str) -> Row:
    """Every column, empty unless given; a value for no column is kept, so writing refuses it."""
    return {**dict.fromkeys(columns, ""), **values}


def csv_file(columns: Sequence[str], rows: Iterable[Row]) -> bytes:
    """The dataset's bytes."""
    # The store's one CSV writer: formula-looking text quoted, numbers kept (csv_file.py).
    return csv_bytes(columns, rows)


def day(value: date) -> str:
    """A date as SDTM's --DTC writes it (ISO 8601)."""
    return value.isoformat()


def local_instant(subject: Subject, value: datetime) -> str:
    """An instant as the site's local date and time, ISO 8601 without offset (SDTM --DTC)."""
    return value.astimezone(subject.protocol.time_zone).strftime("%Y-%m-%dT%H:%M:%S")


def code(value: Any) -> str:
    """A coded answer's value, whether it reads back as the enum or as its value."""
    return str(getattr(value, "value", value))


def yes_no(value: bool) -> str:
    """SDTM's NY codelist."""
    return "Y" if value else "N"
