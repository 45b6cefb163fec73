"""What the document reports share: their options (a date, the file to write, the charts'
resolution) and their progress on stderr.

infrastructure.documents (matplotlib, reportlab, pyHanko) is imported by the commands that draw
documents, so that every other command starts without it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import click

from api.console.progress import progress

DATE = click.DateTime(formats=["%Y-%m-%d"])
OUT = click.Path(dir_okay=False, writable=True, path_type=Path)
CHART_DPI = click.option(
    "--chart-dpi",
    type=click.IntRange(30, 600),
    default=150,
    show_default=True,
    hidden=True,
    help="Resolution of the charts in a PDF.",
)


@contextmanager
def subjects_done(length: int, label: str) -> Iterator[Callable[[int], None]]:
    """Subjects done so far, reported on stderr (api.console.progress)."""
    with progress(label, length) as shown:
        yield shown.reach


def day(value: datetime | None) -> date | None:
    """The date of a ``--date``, ``--from`` or ``--to`` value, if one was given."""
    return None if value is None else value.date()
