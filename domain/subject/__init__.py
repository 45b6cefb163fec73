"""A trial subject's record: its record kinds, declared once, and the aggregate that keeps them.

Each record kind is an event class declared in the trial's words, its items (fields with their
types, units, vocabularies, descriptions and SDTM mappings, :mod:`.declaration`) and its rules
beside it, grouped as the protocol groups them: :mod:`.enrolment`, :mod:`.treatment`,
:mod:`.measurements`, :mod:`.safety`, :mod:`.disposition`, and :mod:`.changes` (corrections,
voids, signatures and queries about other records). :mod:`.record` is what every kind shares,
:mod:`.entries` how the record reads, :mod:`.keeping` how entries are kept; :mod:`.aggregate`
holds :class:`Subject`, which admits a record and checks it against the others, and
:mod:`.kinds` lists the kinds. The API's schemas, the ODM metadata and the forms are read from
the declarations.
"""

from domain.subject.aggregate import Subject
from domain.subject.entries import Entry, Query, RecordSignature, subject_stream
from domain.subject.keeping import KIND_INDEX
from domain.subject.kinds import (
    ABOUT_RECORDS,
    EVENT_CLASSES,
    KINDS,
    QUERY_KINDS,
    RECORDERS,
    SIGNED_IN_CEREMONY,
    SITE_RECORDS,
)
from domain.subject.record import Record

__all__ = [
    "ABOUT_RECORDS",
    "EVENT_CLASSES",
    "KINDS",
    "KIND_INDEX",
    "QUERY_KINDS",
    "RECORDERS",
    "SIGNED_IN_CEREMONY",
    "SITE_RECORDS",
    "Entry",
    "Query",
    "Record",
    "RecordSignature",
    "Subject",
    "subject_stream",
]
