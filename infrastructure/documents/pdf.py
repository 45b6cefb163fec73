"""A small block layout drawn with reportlab: headings, labelled fields, tables, images.

Reports are assembled as a list of blocks and drawn here, so the content (pure, in
``projections/``) never meets the page. Text is set in DejaVu Sans, which matplotlib ships,
embedded as a subset: Portuguese and every other Latin, Greek or Cyrillic text prints as
written, whatever a site typed.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    Preformatted,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

FONT, BOLD, MONO = "DejaVuSans", "DejaVuSans-Bold", "DejaVuSansMono"


class _Cell(Paragraph):
    """A table cell's paragraph, broken into lines once for its column's width.

    reportlab lays a long table out again at every page it breaks and wraps each cell again
    to draw it, always at the cell's column width: a grid of thousands of rows (an audit
    trail's) broke every cell into lines six times, most of a PDF's time. The lines of the
    width last asked are kept and given again: the lines reportlab would break anew, so the
    bytes drawn do not change.
    """

    _kept: tuple[float, float, float, Any, Any, Any] | None = None
    """The width asked, then the width, height, lines, line widths and widest line it gave."""

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        kept = self._kept
        if kept is not None and kept[0] == avail_width:
            _, self.width, self.height, self.blPara, self._wrapWidths, self._width_max = kept
            return self.width, self.height
        size: tuple[float, float] = super().wrap(avail_width, avail_height)
        if "blPara" in self.__dict__ and self.__dict__.get("width") == avail_width:
            self._kept = (
                avail_width,
                self.width,
                self.height,
                self.blPara,
                self._wrapWidths,
                getattr(self, "_width_max", 0),
            )
        return size


def _register_fonts() -> None:
    fonts = _matplotlib_data() / "fonts" / "ttf"
    for name in (FONT, BOLD, MONO):
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(fonts / f"{name}.ttf")))


def _matplotlib_data() -> Path:
    """matplotlib's data folder (``matplotlib.get_data_path()``), found without importing
    matplotlib, which costs most of a second: a PDF without a chart needs only its fonts."""
    spec = find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("matplotlib, whose DejaVu fonts the PDFs embed, is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data"


@dataclass(frozen=True)
class Heading:
    """A section heading (level 1 or 2)."""

    text: str
    level: int = 1


@dataclass(frozen=True)
class Text:
    """A paragraph of plain text."""

    text: str
    small: bool = False


@dataclass(frozen=True)
class Notice:
    """A boxed warning (synthetic data)."""

    text: str


@dataclass(frozen=True)
class Fields:
    """Label: value lines, two columns (a value taller than a page continued as a Grid's)."""

    items: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Summarised:
    """A table cell's text, and a summary given instead when the text would make its row
    taller than a page (a signature's list of every record hash it covers)."""

    text: str
    summary: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Grid:
    """A table with a header row that repeats on every page.

    A row is never split across pages unless it is taller than a page (reportlab would refuse
    to draw it): its :class:`Summarised` cells then give their summary, and what is still too
    tall is continued on the rows below, cut between lines (:func:`_rows_that_fit`).
    """

    columns: Sequence[str]
    rows: Sequence[Sequence[str | Summarised]]
    widths: Sequence[float] | None = None
    title: str | None = None
    empty: str = "-"
    font_size: float = 7.5


@dataclass(frozen=True)
class Picture:
    """A PNG image, scaled to a width in points."""

    png: bytes
    width: float
    caption: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class Mono:
    """Preformatted monospaced text (a signed note, kept exactly)."""

    text: str


@dataclass(frozen=True)
class NewPage:
    """Start a new page."""


Block = Heading | Text | Notice | Fields | Grid | Picture | Mono | NewPage


@dataclass
class Document:
    """A document: title, the line under it, and its blocks.

    ``reproducible`` draws the file so that the same document gives the same bytes: no
    creation time or random file id (reportlab's invariant mode). A packet's documents are
    drawn so, because two builds of a packet from the same log must be byte-identical.
    """

    title: str
    subtitle: str
    blocks: list[Block] = field(default_factory=list)
    wide: bool = False
    footer: str = ""
    reproducible: bool = False


def render(document: Document, progress: Callable[[int], None] | None = None) -> bytes:
    """Draw the document; returns the PDF's bytes (unsigned)."""
    _register_fonts()
    styles = _styles()
    page = landscape(A4) if document.wide else A4
    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=page,
        leftMargin=14 * mm,
        rightMargin=14 * mm,
        topMargin=14 * mm,
        bottomMargin=16 * mm,
        title=document.title,
        subject=document.subtitle,
        author="sealtrail",
        creator="sealtrail",
        invariant=1 if document.reproducible else None,
    )
    width = page[0] - 28 * mm
    # The frame's height, less its padding above and below: the tallest a flowable may be.
    height = page[1] - 30 * mm - 2 * FRAME_PADDING
    story: list[Flowable] = [
        Paragraph(escape(document.title), styles["title"]),
        Paragraph(escape(document.subtitle), styles["subtitle"]),
    ]
    for index, block in enumerate(document.blocks):
        story.extend(_flowables(block, styles, width, height))
        if progress is not None:
            progress(index + 1)

    def footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.drawString(14 * mm, 8 * mm, document.footer[:180])
        canvas.drawRightString(page[0] - 14 * mm, 8 * mm, f"{doc.page}")
        canvas.restoreState()

    template.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _flowables(
    block: Block, styles: dict[str, ParagraphStyle], width: float, height: float
) -> list[Flowable]:
    if isinstance(block, Heading):
        return [Paragraph(escape(block.text), styles["h1" if block.level == 1 else "h2"])]
    if isinstance(block, Text):
        return [Paragraph(_lines(block.text), styles["small" if block.small else "body"])]
    if isinstance(block, Notice):
        table = Table([[Paragraph(escape(block.text), styles["notice"])]], colWidths=[width])
        table.setStyle(
            TableStyle(
                [
                    ("BOX", (0, 0), (-1, -1), 1, colors.HexColor("#b2182b")),
                    ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#fde0dd")),
                ]
            )
        )
        return [table, Spacer(1, 4)]
    if isinstance(block, Fields):
        widths = [width * 0.3, width * 0.7]
        rows: list[list[Flowable]] = []
        for name, value in block.items:
            cells = [
                _Cell(escape(name), styles["label"]),
                _Cell(_lines(value), styles["body"]),
            ]
            rows += _rows_that_fit(cells, widths, height, FIELDS_PADDING)
        if not rows:
            return []
        table = Table(rows, colWidths=widths)
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
                ]
            )
        )
        return [table, Spacer(1, 6)]
    if isinstance(block, Grid):
        return _grid(block, styles, width, height)
    if isinstance(block, Picture):
        image = Image(io.BytesIO(block.png))
        scale = min(block.width, width) / image.imageWidth
        image.drawWidth = image.imageWidth * scale
        image.drawHeight = image.imageHeight * scale
        parts: list[Flowable] = []
        if block.title:
            parts.append(Paragraph(escape(block.title), styles["h1"]))
        parts.append(image)
        if block.caption:
            parts.append(Paragraph(escape(block.caption), styles["small"]))
        return [KeepTogether(parts), Spacer(1, 6)]
    if isinstance(block, Mono):
        # Shrunk to fit, never wrapped: a signed note is only checkable exactly as written.
        style = styles["mono"]
        longest = max(
            (
                pdfmetrics.stringWidth(line, MONO, style.fontSize)
                for line in block.text.splitlines()
            ),
            default=0.0,
        )
        if longest > width:
            size = style.fontSize * width / longest
            style = ParagraphStyle("mono-fit", parent=style, fontSize=size, leading=size * 1.25)
        return [Preformatted(block.text, style), Spacer(1, 6)]
    return [PageBreak()]


def _grid(
    block: Grid, styles: dict[str, ParagraphStyle], width: float, height: float
) -> list[Flowable]:
    cell = ParagraphStyle(
        "cell", parent=styles["body"], fontSize=block.font_size, leading=block.font_size * 1.2
    )
    head = ParagraphStyle("head", parent=cell, fontName=BOLD)
    out: list[Flowable] = []
    if block.title:
        out.append(Paragraph(escape(block.title), styles["h2"]))
    if not block.rows:
        out.append(Paragraph(escape(block.empty), styles["small"]))
        out.append(Spacer(1, 6))
        return out
    given = (
        list(block.widths) if block.widths else [width / len(block.columns)] * len(block.columns)
    )
    scale = width / sum(given)
    widths = [w * scale for w in given]
    header = [_Cell(escape(c), head) for c in block.columns]
    # Each page repeats the header: a row has the rest of the page.
    room = height - _row_height(header, widths, GRID_PADDING)
    data: list[list[Flowable]] = [list(header)]
    for row in block.rows:
        cells = [_Cell(_lines(str(c)), cell) for c in row]
        if (
            any(isinstance(c, Summarised) for c in row)
            and _row_height(cells, widths, GRID_PADDING) > room
        ):
            cells = [
                _Cell(_lines(c.summary if isinstance(c, Summarised) else str(c)), cell) for c in row
            ]
        data += _rows_that_fit(cells, widths, room, GRID_PADDING)
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("LEFTPADDING", (0, 0), (-1, -1), GRID_PADDING.side),
                ("RIGHTPADDING", (0, 0), (-1, -1), GRID_PADDING.side),
                ("TOPPADDING", (0, 0), (-1, -1), GRID_PADDING.edge),
                ("BOTTOMPADDING", (0, 0), (-1, -1), GRID_PADDING.edge),
            ]
        )
    )
    out += [table, Spacer(1, 8)]
    return out


@dataclass(frozen=True)
class Padding:
    """A table cell's padding: left and right (``side``), above and below (``edge``)."""

    side: float
    edge: float


GRID_PADDING = Padding(side=2, edge=1)
FIELDS_PADDING = Padding(side=6, edge=3)
"""reportlab's default cell padding, which a Fields table keeps."""
FRAME_PADDING = 6
"""reportlab's padding of a page's frame, on each side."""
CONTINUED = "(cont.)"
"""The first cell of a row that continues the one above."""
_UNBOUNDED = 1e9


def _row_height(cells: Sequence[Flowable], widths: Sequence[float], padding: Padding) -> float:
    """The height of a table row of ``cells``, as reportlab lays it out."""
    return 2 * padding.edge + max(
        cell.wrap(width - 2 * padding.side, _UNBOUNDED)[1]
        for cell, width in zip(cells, widths, strict=True)
    )


def _rows_that_fit(
    cells: Sequence[Paragraph], widths: Sequence[float], room: float, padding: Padding
) -> list[list[Flowable]]:
    """The row; or, when it is taller than ``room`` (reportlab refuses such a row: it never
    splits one), the row continued on as many rows as it takes, each cell cut between lines.

    Only a row that could not be drawn changes: every other row is laid out as it always was,
    so a document that could be drawn before is drawn to the same bytes.
    """
    if _row_height(cells, widths, padding) <= room:
        return [list(cells)]
    pieces = [
        _pieces(cell, width - 2 * padding.side, room - 2 * padding.edge)
        for cell, width in zip(cells, widths, strict=True)
    ]
    rows: list[list[Flowable]] = []
    for number in range(max(len(each) for each in pieces)):
        row = [each[number] if number < len(each) else Spacer(0, 0) for each in pieces]
        if number and len(pieces[0]) <= number:
            row[0] = _Cell(CONTINUED, cells[0].style)
        rows.append(row)
    return rows


def _pieces(cell: Flowable, width: float, height: float) -> list[Flowable]:
    """The cell cut into pieces no taller than ``height``, between lines."""
    pieces: list[Flowable] = []
    rest = cell
    while rest.wrap(width, height)[1] > height:
        parts = rest.split(width, height)
        if len(parts) < 2:  # nothing to cut (a line taller than a page): left as it is
            break
        pieces.append(parts[0])
        rest = parts[1]
    pieces.append(rest)
    return pieces


def _lines(text: str) -> str:
    # Long unbroken tokens (hashes, key ids) wrap by the style's splitLongWords, never by
    # inserted characters: a value copied from the page must be the value signed.
    return escape(text).replace("\n", "<br/>")


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=FONT, fontSize=8.5, leading=10.5, splitLongWords=1)
    return {
        "title": ParagraphStyle("title", parent=body, fontName=BOLD, fontSize=15, leading=19),
        "subtitle": ParagraphStyle("subtitle", parent=body, fontSize=9, spaceAfter=8),
        "h1": ParagraphStyle(
            "h1", parent=body, fontName=BOLD, fontSize=11.5, leading=14, spaceBefore=8, spaceAfter=4
        ),
        "h2": ParagraphStyle(
            "h2", parent=body, fontName=BOLD, fontSize=9.5, leading=12, spaceBefore=4, spaceAfter=3
        ),
        "body": body,
        "label": ParagraphStyle("label", parent=body, fontName=BOLD),
        "small": ParagraphStyle("small", parent=body, fontSize=7, leading=8.5),
        "notice": ParagraphStyle(
            "notice", parent=body, fontName=BOLD, textColor=colors.HexColor("#67000d")
        ),
        "mono": ParagraphStyle("mono", parent=body, fontName=MONO, fontSize=7, leading=8.5),
    }


def generated_at(moment: datetime) -> str:
    """A generation time for a footer: UTC, to the second."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
