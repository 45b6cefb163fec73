"""A trial subject's record: its record kinds, declared once, and the aggregate that keeps them.

Each record kind is an event class declared in the trial's words, its items (fields with their
types, units, vocabularies, descriptions and SDTM mappings, :mod:`.declaration`) and its rules
beside it, grouped as the protocol groups them: :mod:`.enrolment`, :mod:`.treatment`,
:mod:`.measurements`, :mod:`.safety`, :mod:`.disposition`, and :mod:`.changes` (corrections,
voids, signatures and queries about other records). :mod:`.entries` is how the record reads
(entries, signatures, queries); :mod:`.aggregate` holds :class:`Subject`, which checks a record
against the others and records it. The API's schemas, the ODM metadata and the forms are read
from the declarations.
"""

from domain.subject.aggregate import EVENT_CLASSES, KIND_INDEX, KINDS, RECORDERS, Subject
from domain.subject.entries import Entry, Query, RecordSignature, subject_stream
from domain.subject.record import Record

QUERY_KINDS = frozenset(kind for kind, declared in EVENT_CLASSES.items() if declared.QUERY)
"""The data clarification dialogue about records: neither clinical data nor corrected, voided
or signed (a new answer, or a new query, is made instead)."""
ABOUT_RECORDS = frozenset(
    kind for kind, declared in EVENT_CLASSES.items() if declared.ABOUT_RECORDS
)
"""Kinds that are about other records (a change, a signature, a query), not records themselves."""

__all__ = [
    "ABOUT_RECORDS",
    "EVENT_CLASSES",
    "KINDS",
    "KIND_INDEX",
    "QUERY_KINDS",
    "RECORDERS",
    "Entry",
    "Query",
    "Record",
    "RecordSignature",
    "Subject",
    "subject_stream",
]
