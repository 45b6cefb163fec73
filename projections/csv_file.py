"""The one CSV writer of the store: every CSV it writes (the audit trail, the SDTM datasets)
goes through :func:`csv_bytes`, and so does the packet verifier that writes them again.

A spreadsheet opening a CSV runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula (and some read a leading tab or carriage return the same way), so free text a site
typed (``=HYPERLINK(...)``, ``@SUM(...)``) could run on a sponsor's or an auditor's machine.
As OWASP's "CSV Injection" page advises, such a cell is written with a single quote in front
(``'=HYPERLINK(...)``), and every cell that needs it is quoted by the csv module: a spreadsheet
shows the text, and runs nothing. (A value that already starts with quotes before one of those
characters gets one quote more, so the rule can be undone without doubt.)

One exception, to keep the data honest: a cell that is a plain decimal number (``-3``,
``-0.5``: an SDTM study day before the first dose, a negative change) is left as it is. A
spreadsheet reads it as that very number, which is not a formula and runs nothing, and a
program reading the dataset (SAS, R, pandas) needs the number, not the text ``'-3``. So a
reader recovers every value exactly: a cell that starts with a quote followed by one of those
characters had one quote added here (drop it: :func:`as_written`); any other cell is as stored. The
JSON and ODM forms hold every value verbatim.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence

from projections import chunked

FORMULA_STARTS = frozenset("=+-@\t\r")
"""What a spreadsheet may take as the start of a formula (OWASP CSV Injection)."""

PLAIN_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")
"""A decimal as the store writes numbers: no exponent, no sign but a minus, no leading zero."""

QUOTE = "'"


def neutralised(cell: str) -> str:
    """The cell as a spreadsheet must show it: as text, never as a formula.

    A value that itself starts with quotes before such a character (``'=x``) gets one more, so
    that :func:`as_written` gives every value back exactly.
    """
    rest = cell.lstrip(QUOTE)
    if rest[:1] in FORMULA_STARTS:
        if rest is cell and PLAIN_NUMBER.fullmatch(cell):
            return cell
        return QUOTE + cell
    return cell


def as_written(cell: str) -> str:
    """The value a cell written by :func:`csv_bytes` stands for (the added quote dropped)."""
    rest = cell.lstrip(QUOTE)
    if rest is not cell and rest[:1] in FORMULA_STARTS:
        return cell[1:]
    return cell


def csv_bytes(
    columns: Sequence[str],
    rows: Iterable[Mapping[str, str]],
    *,
    byte_order_mark: bool = False,
) -> bytes:
    """The rows as UTF-8 CSV (RFC 4180: CR LF, quoted where needed), with a header row.

    A row with a value for a column not listed is refused (``ValueError``): a bug, not a row.
    ``byte_order_mark`` puts U+FEFF first, so that spreadsheets read the accents as UTF-8.
    """
    return b"".join(csv_chunks(columns, rows, byte_order_mark=byte_order_mark))


def csv_chunks(
    columns: Sequence[str],
    rows: Iterable[Mapping[str, str]],
    *,
    byte_order_mark: bool = False,
) -> Iterator[bytes]:
    """:func:`csv_bytes`'s bytes, given a chunk at a time as they are written
    (:mod:`projections.chunked`)."""
    # Encoded as it is written: a StringIO holds its text at four bytes a character, and the
    # byte-order mark made the text it gave back two bytes a character before it was encoded
    # (a 28 MB file peaked at 277 MiB that way, at 59 MiB this way, and is written faster).
    buffer = io.BytesIO()
    text = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
    if byte_order_mark:
        text.write("\ufeff")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(columns)
    names = list(columns)
    known = set(names)
    for row in rows:
        if row.keys() - known:
            raise ValueError(f"values for no column: {sorted(row.keys() - known)}")
        writer.writerow([neutralised(_text(row.get(name))) for name in names])
        if chunked.full(buffer):
            text.flush()
            yield chunked.drained(buffer)
    text.flush()
    yield chunked.drained(buffer)


def _text(value: object) -> str:
    # As csv.DictWriter writes them: None is empty, anything else its str().
    return "" if value is None else str(value)
