"""Records about other records: corrections and voids (21 CFR 11.10(e)), electronic signatures
(21 CFR 11.50, 11.70) and data clarification queries (ICH E6(R3) 3.11.4)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from domain.attribution import signer_of
from domain.signed import EarlierInStream
from domain.subject.declaration import ValueType, item
from domain.subject.entries import RecordSignature
from domain.subject.record import Record, changed
from signatures.record_hash import RecordHashes

if TYPE_CHECKING:
    from domain.subject.aggregate import Subject

ENTRY = "The entry (version) of the record it names"
KIND = "The kind of that record"


class AboutRecords(Record):
    """A change, signature or query: neither corrected, voided nor signed itself."""

    ABOUT_RECORDS = True
    MAY_FOLLOW_THE_END = True
    VOIDABLE = False


class EntryCorrected(AboutRecords):
    """Fields of an earlier entry corrected, each as old -> new, with the reason."""

    COMMAND = "correct_entry"

    entry: int = item(ENTRY, minimum=1)
    entry_kind: str = item(KIND, value=ValueType.KIND)
    changes: Mapping[str, Mapping[str, Any]] = item(
        'Field name -> {"old": ..., "new": ...}, written as recorded',
        value=ValueType.CORRECTIONS,
    )
    reason: str = item("Why the entry is corrected")

    def apply(self, subject: Subject) -> None:
        super().apply(subject)
        target = subject.entries[self.entry]
        corrected = dict(target.fields)
        for name, change in self.changes.items():
            if change.get("new") is None:
                corrected.pop(name, None)
            else:
                corrected[name] = change["new"]
        corrected_by = [*target.corrected_by, self.originator_version]
        changed(subject, target, self.event_hash, fields=corrected, corrected_by=corrected_by)

    def changed_entry(self) -> int | None:
        return self.entry


class EntryVoided(AboutRecords):
    """An earlier entry voided (it stops counting, stays in the record), with the reason."""

    COMMAND = "void_entry"
    entry: int = item(ENTRY, minimum=1)
    entry_kind: str = item(KIND, value=ValueType.KIND)
    reason: str = item("Why the entry is voided")

    def apply(self, subject: Subject) -> None:
        super().apply(subject)
        target = subject.entries[self.entry]
        changed(subject, target, self.event_hash, voided_by=self.originator_version)

    def changed_entry(self) -> int | None:
        return self.entry


class RecordsSigned(AboutRecords):
    """An investigator's electronic signature over records of the subject.

    Each covered record is named by its entry and the hash of the record as it stood
    (:mod:`signatures.record_hash`); the meaning, printed name and time are the signed
    body's own (its ``meaning`` is review, approval or responsibility).
    """

    entries: tuple[Mapping[str, Any], ...] = item(
        "The records signed, each by entry and record hash"
    )
    """Each covered record: ``{"entry": n, "record_hash": hex}``, in the signer's order."""

    def covered(self) -> dict[int, str]:
        """Entry number -> the record hash signed.

        An item that is not such a pair (only in a log written past the store) is left
        out; :meth:`names_only_records` says whether there was one.
        """
        found: dict[int, str] = {}
        for each in self.entries:
            if isinstance(each, Mapping):
                entry, signed_hash = each.get("entry"), each.get("record_hash")
                if isinstance(entry, int) and isinstance(signed_hash, str):
                    found[entry] = signed_hash
        return found

    def names_only_records(self) -> bool:
        """True when every item names one record, each once, by entry and record hash."""
        return len(self.covered()) == len(self.entries)

    def check_against_stream(self, earlier: EarlierInStream) -> None:
        """Refuse a signature whose record hashes are not those of its subject's records now.

        The records are the stream's events before this one as the store holds them, not the
        aggregate that made the event: the store checks what it holds.

        Raises:
            SignatureNotLinked: the signature names records it was not made over.
        """
        records = RecordHashes()
        for before in earlier():
            if isinstance(before, Record):
                records.add(before.originator_version, before.event_hash, before.changed_entry())
        records.check_signature(self.covered() if self.names_only_records() else {})

    def apply(self, subject: Subject) -> None:
        super().apply(subject)
        signer = signer_of(self.authorship.body())
        for number, signed_hash in self.covered().items():
            target = subject.entries.get(number)
            if target is None:  # only a tampered log names a missing entry: verify says so
                continue
            signature = RecordSignature(
                signed_in=self.originator_version,
                record_hash=signed_hash,
                user_id=signer.user_id,
                printed_name=signer.printed_name,
                signed_at=signer.signed_at,
                meaning=signer.meaning,
            )
            # Replaced, not appended to: copies made for a command share their entries.
            subject.replace_entry(replace(target, signatures=[*target.signatures, signature]))


class Dialogue(AboutRecords):
    """Part of the data clarification dialogue about records."""

    QUERY = True


class QueryRaised(Dialogue):
    """A monitor asks the site about a record (one of its fields, or the whole record)."""

    COMMAND = "raise_query"
    BY_MONITOR = True
    entry: int = item(ENTRY, minimum=1)
    entry_kind: str = item(KIND, value=ValueType.KIND)
    question: str = item("The question", multiline=True)
    item: str | None = item(
        "The field asked about (default: the record)", optional=True, value=ValueType.CODE
    )


class QueryAnswered(Dialogue):
    """The site answers an open query (a correction, if one is needed, is its own entry)."""

    COMMAND = "answer_query"
    query: int = item("The query's entry number", minimum=1)
    answer: str = item("The site's answer", multiline=True)


class QueryClosed(Dialogue):
    """The monitor closes a query: the answer, or the correction made, resolves it."""

    COMMAND = "close_query"
    BY_MONITOR = True
    query: int = item("The query's entry number", minimum=1)
    resolution: str = item("What resolved the query", multiline=True)
