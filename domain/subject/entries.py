"""A subject's record as it stands: its entries, the signatures over them, the queries about them.

Every event of a subject is kept as an *entry*, numbered by its version; a correction or a void
(21 CFR 11.10(e)) is a later entry that names an earlier one, which then reads as corrected (or
voided) while the original event stays in the log untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def subject_stream(study_id: str, subject_code: str) -> str:
    """A subject's stream name: ``<study>/<subject code>``."""
    return f"{study_id}/{subject_code}"


@dataclass(frozen=True)
class RecordSignature:
    """An electronic signature over a record (21 CFR 11.50): who, when, meaning, and the hash of
    the record as it stood when signed (:mod:`signatures.record_hash`)."""

    signed_in: int
    """The entry (version) of the ``RecordsSigned`` event that made the signature."""
    record_hash: str
    user_id: str
    printed_name: str
    signed_at: str
    meaning: str


@dataclass(frozen=True)
class Query:
    """A data clarification query about one record, with the site's answers and its closing."""

    query: int
    """The entry (version) of the ``QueryRaised`` event: the query's number."""
    entry: int
    entry_kind: str
    item: str | None
    question: str
    answers: tuple[Entry, ...]
    closed_by: Entry | None

    @property
    def status(self) -> str:
        """``open`` (no answer yet), ``answered`` (awaiting the monitor) or ``closed``."""
        if self.closed_by is not None:
            return "closed"
        return "answered" if self.answers else "open"


@dataclass
class Entry:
    """One record of a subject as it stands now: its fields after every correction."""

    version: int
    kind: str
    fields: dict[str, Any]
    recorded_at: datetime
    corrected_by: list[int] = field(default_factory=list)
    voided_by: int | None = None
    record_hash: str = ""
    """The hash of the record as it stands: its event, then each correction and the void."""
    signatures: list[RecordSignature] = field(default_factory=list)
    """Electronic signatures over this record, oldest first."""

    @property
    def is_live(self) -> bool:
        """Not voided: the record counts."""
        return self.voided_by is None

    def covers_current_value(self, signature: RecordSignature) -> bool:
        """True while the record is as it was signed: no correction or void since."""
        return signature.record_hash == self.record_hash

    def __getitem__(self, name: str) -> Any:
        return self.fields.get(name)
