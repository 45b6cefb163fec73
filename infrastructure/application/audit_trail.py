"""The Part 11 audit trail as a person reads it: the rows of the subjects they may read, chosen
by a filter, a page at a time.

The rows are :mod:`projections.audit_trail`'s, read from each subject's history in the log (not
from the views, so a row removed in the database hides nothing), subject by subject in code
order and each subject's oldest first: the order of ``sealtrail report audit-trail`` and of its
PDF, so a page, its downloads and the console's report list the same rows in the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from domain.errors import SubjectNotFound
from domain.signed import stream_id
from domain.subject import Subject, subject_stream
from infrastructure.application.read_cache import PerStore
from infrastructure.application.reads import Reads
from projections.audit_trail import AuditFilter, AuditRow, Period, audit_rows

Progress = Callable[[int], None]

MAX_PAGE_SIZE = 500
"""The most rows one page shows (a download of every row matching a filter is not paged)."""

SUBJECT_ROWS: PerStore[tuple[AuditRow, ...]] = PerStore(maxsize=500_000, sizeof=len)
"""A subject's rows for a period, by its stream, version and chain hash: at most 500,000 rows
per store. A page of the trail reads every row its filters might keep (to count them and to
offer the people who signed them); kept, a new page or filter reads the log's head alone."""


def audit_trail_rows(
    reads: Reads,
    study: str,
    codes: Sequence[str],
    period: Period | None = None,
    progress: Progress | None = None,
) -> list[AuditRow]:
    """Every subject's audit rows, subject by subject in the order given, each oldest first.

    Raises:
        SubjectNotFound: a subject has no events.
    """
    rows: list[AuditRow] = []
    for count, code in enumerate(codes, start=1):
        rows += subject_rows(reads, subject_stream(study, code), period)
        if progress is not None:
            progress(count)
    return rows


def subject_rows(reads: Reads, stream: str, period: Period | None) -> tuple[AuditRow, ...]:
    """One subject's audit rows of ``period``, oldest first: read from its history once per
    version of it (:mod:`infrastructure.application.read_cache`).

    Raises:
        SubjectNotFound: the subject has no events.
    """
    originator_id = stream_id(stream)
    head = reads.head(originator_id)
    if head is None:
        raise SubjectNotFound("%(stream)s has no records", stream=stream)
    version, _chain_hash = head

    def read() -> tuple[AuditRow, ...]:
        # The events up to the head asked about: one recorded since is the next version's.
        events = [
            (record.position, record.event)
            for record in reads.history(stream)
            if isinstance(record.event, Subject.Event)
            and record.event.originator_version <= version
        ]
        return tuple(audit_rows(events, period))

    return SUBJECT_ROWS.of(reads.app).get((originator_id, *head, period), read)


@dataclass(frozen=True)
class Person:
    """Someone who signed a row: how the filter names them and how the trail prints them."""

    user_id: str
    printed_name: str


@dataclass(frozen=True)
class AuditTrailPage:
    """One page of the rows a filter keeps, and what the reader may choose from.

    Attributes:
        study: the study.
        filters: the filter the rows were chosen by.
        subjects: the subjects whose trail was read (by code): those the filter takes among the
            ones the reader may read.
        rows: this page's rows, in trail order.
        total: how many rows the filter keeps, on every page.
        number: this page's number, from 1.
        size: rows per page; None when every row is on this one page.
        sites: the sites of the subjects the reader may read (whatever the filter).
        people: who signed a row of the subjects taken in the period, whatever the user, kind
            and action asked for (so a reader can choose among them).
    """

    study: str
    filters: AuditFilter
    subjects: tuple[str, ...]
    rows: tuple[AuditRow, ...]
    total: int
    number: int
    size: int | None
    sites: tuple[str, ...]
    people: tuple[Person, ...]

    @property
    def last_number(self) -> int:
        """The number of the last page (1 when no row matches: an empty first page)."""
        if self.size is None or self.total == 0:
            return 1
        return -(-self.total // self.size)

    @property
    def first_row(self) -> int:
        """The place of this page's first row among all the rows kept, from 1 (0 if none)."""
        if not self.rows:
            return 0
        return 1 if self.size is None else (self.number - 1) * self.size + 1

    @property
    def last_row(self) -> int:
        """The place of this page's last row among all the rows kept (0 if none)."""
        return self.first_row + len(self.rows) - 1 if self.rows else 0

    def selection(self) -> str | None:
        """Which rows of the trail these are, in words, for a document to state: the filters
        and, on a page of several, its rows; None for every row of every subject read."""
        said = self.filters.described()
        if self.size is not None and self.last_number > 1:
            said.append(
                f"page {self.number} of {self.last_number}: rows {self.first_row} to "
                f"{self.last_row} of {self.total}"
            )
        return "; ".join(said) or None

    @property
    def exists(self) -> bool:
        """False for a page past the last one (a first page always exists, empty or not)."""
        return self.number <= self.last_number


class AuditTrail:
    """The audit trail of a study as one reader may read it: the subjects of the sites
    ``may_read_site`` allows, read once from the log, then any page of their rows."""

    def __init__(self, reads: Reads, study: str, may_read_site: Callable[[str], bool]) -> None:
        self.reads = reads
        self.study = study
        self.readable = {
            code: site for code, site in reads.subject_sites(study).items() if may_read_site(site)
        }

    @property
    def sites(self) -> tuple[str, ...]:
        """The sites of the subjects the reader may read, by code."""
        return tuple(sorted(set(self.readable.values())))

    @property
    def subjects(self) -> tuple[str, ...]:
        """The subjects the reader may read, by code."""
        return tuple(self.readable)

    def page(
        self, filters: AuditFilter, *, number: int = 1, size: int | None = None
    ) -> AuditTrailPage:
        """Page ``number`` (from 1) of ``size`` rows (every row with None) of the rows
        ``filters`` keeps.

        A subject the reader may not read is not read at all: a filter naming one (or a site
        they do not read) keeps no row, exactly as a filter naming no subject of the study.

        Raises:
            ValueError: a page number or size below 1.
        """
        if number < 1 or (size is not None and size < 1):
            raise ValueError(f"page {number} of {size} rows: both count from 1")
        taken = tuple(
            code for code, site in self.readable.items() if filters.takes_subject(code, site)
        )
        every = audit_trail_rows(self.reads, self.study, taken, filters.period)
        kept = [row for row in every if filters.keeps(row)]
        start = 0 if size is None else (number - 1) * size
        shown = kept if size is None else kept[start : start + size]
        people = {row.user_id: row.printed_name for row in every}
        return AuditTrailPage(
            study=self.study,
            filters=filters,
            subjects=taken,
            rows=tuple(shown),
            total=len(kept),
            number=number,
            size=size,
            sites=self.sites,
            people=tuple(Person(user_id, people[user_id]) for user_id in sorted(people)),
        )
