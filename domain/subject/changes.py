"""Records about other records: corrections and voids (21 CFR 11.10(e)), electronic signatures
(21 CFR 11.50, 11.70) and data clarification queries (ICH E6(R3) 3.11.4)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from domain.actions import Action
from domain.attribution import signer_of
from domain.authorship import authorship_in_force
from domain.delegation import Task
from domain.errors import CorrectionInvalid, QueryInvalid, SignatureRefused, SignedRecordChanged
from domain.signed import EarlierInStream
from domain.subject.declaration import ValueType, item
from domain.subject.entries import Entry, Query, RecordSignature
from domain.subject.record import DECLARED, Record, changed
from domain.text import says_nothing
from domain.vocabulary import SIGNATURE_MEANINGS
from domain.wire import to_wire
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

    @classmethod
    def admit(cls, subject: Subject, fields: Mapping[str, Any]) -> None:
        """Each change gives the field's value as the entry reads it and a new one; the entry
        as corrected is checked as every record of its kind is, among the others, so a
        correction cannot bring in what the protocol refuses."""
        target = entry_to_change(subject, fields, correcting=True)
        changes: Mapping[str, Mapping[str, Any]] = fields["changes"]
        if not changes:
            raise CorrectionInvalid("a correction changes at least one field")
        kind = DECLARED[target.kind]
        correctable = {declared.name for declared in kind.items()} - kind.FIXED
        candidate = dict(target.fields)
        for name, change in changes.items():
            if name not in correctable:
                raise CorrectionInvalid(
                    "%(name)r is not a correctable field of a %(kind)s", name=name, kind=target.kind
                )
            if set(change) != {"old", "new"}:
                raise CorrectionInvalid("%(name)s: a change gives exactly old and new", name=name)
            # Compared as written: a stored tuple reads back as a list, an enum as its value.
            if to_wire(change["old"]) != to_wire(target[name]):
                raise CorrectionInvalid(
                    "%(name)s: the entry reads %(target)r, not %(old)r (reload and "
                    "correct what is there)",
                    name=name,
                    target=target[name],
                    old=change["old"],
                )
            if to_wire(change["new"]) == to_wire(change["old"]):
                raise CorrectionInvalid("%(name)s: the new value is the old one", name=name)
            candidate[name] = change["new"]
        subject.check_record(kind, candidate, besides=target.version)

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

    @classmethod
    def admit(cls, subject: Subject, fields: Mapping[str, Any]) -> None:
        entry_to_change(subject, fields, correcting=False)

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

    # Submitted as signing, whichever way it comes in: the ceremony's check and a verifier's
    # check of the logged signature read the same action (domain.permissions.check_may_write).
    SUBMITTED_AS = Action.SIGN_CLINICAL_RECORDS
    DELEGATED_TASK = Task.SIGNING

    MEANINGS: ClassVar[tuple[str, ...]] = SIGNATURE_MEANINGS
    MAX_RECORDS: ClassVar[int] = 100
    """The most records one signature covers: a ceremony over records the investigator chose
    (a form's worth, or a visit's). The API's schema of ``entries`` is derived from it."""

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
        records_before(earlier).check_signature(self.covered() if self.names_only_records() else {})

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


def records_before(earlier: EarlierInStream) -> RecordHashes:
    """The record hashes of a stream's records, and which are live records, from its events
    before a signature: what the store checks a signature against."""
    records = RecordHashes()
    for before in earlier():
        if isinstance(before, Record):
            records.add(
                before.originator_version,
                before.event_hash,
                before.changed_entry(),
                record=not before.ABOUT_RECORDS,
                voids=isinstance(before, EntryVoided),
            )
    return records


def entry_to_change(subject: Subject, fields: Mapping[str, Any], *, correcting: bool) -> Entry:
    """The live entry a correction or void names, of a kind that may be changed so, and a
    reason given (21 CFR 11.10(e))."""
    target = subject.live_entry(fields["entry"], fields["entry_kind"], CorrectionInvalid)
    kind = DECLARED[target.kind]
    if kind.ABOUT_RECORDS if correcting else not kind.VOIDABLE:
        raise CorrectionInvalid(
            "a %(kind)s is not %(value)s",
            kind=target.kind,
            value="corrected" if correcting else "voided",
        )
    if says_nothing(fields["reason"]):
        raise CorrectionInvalid("a reason is given for every change (21 CFR 11.10(e))")
    return target


def covered_records(
    subject: Subject,
    entries: Sequence[Mapping[str, Any]],
    meaning: str,
    signed: type[RecordsSigned] = RecordsSigned,
) -> tuple[dict[str, Any], ...]:
    """The records a signature covers, each live and as it stands now (its record hash), once;
    ``signed``: the kind of signature, which says what it may mean and how many records it
    covers at most.

    Raises:
        SignatureRefused: not a meaning of the kind of signature, not the signed body's, no
            record, more than the kind covers, a record named twice, or one a signature does
            not cover.
        SignedRecordChanged: a record changed since the signer read it.
    """
    meanings = signed.MEANINGS
    if meaning not in meanings:
        raise SignatureRefused(
            "a signature over records means %(join)s, not %(meaning)r",
            join=", ".join(meanings),
            meaning=meaning,
        )
    signed_meaning = authorship_in_force().body().get("meaning")
    if signed_meaning != meaning:
        raise SignatureRefused(
            "the signed body's meaning is %(signed_meaning)r, not %(meaning)r",
            signed_meaning=signed_meaning,
            meaning=meaning,
        )
    if not entries:
        raise SignatureRefused("a signature covers at least one record")
    if len(entries) > signed.MAX_RECORDS:
        raise SignatureRefused(
            "a %(kind)s covers at most %(max_records)s records, not %(count)s",
            kind=signed.kind(),
            max_records=format(signed.MAX_RECORDS, ","),
            count=format(len(entries), ","),
        )
    covered: list[dict[str, Any]] = []
    for each in entries:
        number, signed_hash = int(each["entry"]), str(each["record_hash"])
        if any(c["entry"] == number for c in covered):
            raise SignatureRefused("entry %(number)s is named twice", number=number)
        subject.check_signable(number)
        target = subject.entries[number]
        if signed_hash != target.record_hash:
            raise SignedRecordChanged(
                "entry %(number)s hashes to %(record_hash)s, not %(signed_hash)s: it "
                "changed since it was read; read it again before signing",
                number=number,
                record_hash=target.record_hash,
                signed_hash=signed_hash,
            )
        covered.append({"entry": number, "record_hash": signed_hash})
    return tuple(covered)


class Dialogue(AboutRecords):
    """Part of the data clarification dialogue about records."""

    QUERY = True


class QueryRaised(Dialogue):
    """A monitor asks the site about a record (one of its fields, or the whole record)."""

    COMMAND = "raise_query"
    SUBMITTED_AS = Action.RAISE_QUERIES
    entry: int = item(ENTRY, minimum=1)
    entry_kind: str = item(KIND, value=ValueType.KIND)
    question: str = item("The question", multiline=True)
    item: str | None = item(
        "The field asked about (default: the record)", optional=True, value=ValueType.CODE
    )

    @classmethod
    def admit(cls, subject: Subject, fields: Mapping[str, Any]) -> None:
        """About a live record (not a query), or one of its fields; who may ask is checked
        before."""
        number, asked = fields["entry"], fields["item"]
        target = subject.live_entry(number, fields["entry_kind"], QueryInvalid)
        kind = DECLARED[target.kind]
        if kind.QUERY:
            raise QueryInvalid(
                "entry %(number)s is a %(kind)s: ask about the record itself",
                number=number,
                kind=target.kind,
            )
        if asked is not None and asked not in {declared.name for declared in kind.items()}:
            raise QueryInvalid("a %(kind)s has no field %(asked)r", kind=target.kind, asked=asked)
        _check_said(fields["question"], "a query asks a question")


class Reply(Dialogue):
    """An answer to a query or its closing: about a query still open, and saying something."""

    DOES: ClassVar[str]
    """What it does to the query ("answered"): a closed query is not."""
    SAYS: ClassVar[tuple[str, str]]
    """The item it says something in, and what an empty one fails to do."""

    @classmethod
    def admit(cls, subject: Subject, fields: Mapping[str, Any]) -> None:
        _query_not_closed(subject, fields["query"], cls.DOES)
        said, what = cls.SAYS
        _check_said(fields[said], what)


class QueryAnswered(Reply):
    """The site answers an open query (a correction, if one is needed, is its own entry)."""

    COMMAND = "answer_query"
    DOES = "answered"
    SAYS = ("answer", "an answer says something")
    query: int = item("The query's entry number", minimum=1)
    answer: str = item("The site's answer", multiline=True)


class QueryClosed(Reply):
    """The monitor closes a query: the answer, or the correction made, resolves it."""

    COMMAND = "close_query"
    SUBMITTED_AS = Action.RAISE_QUERIES
    DOES = "closed"
    SAYS = ("resolution", "a closing says what resolved the query")
    query: int = item("The query's entry number", minimum=1)
    resolution: str = item("What resolved the query", multiline=True)


def queries_of(subject: Subject) -> list[Query]:
    """Every query raised about the subject's records, oldest first."""
    answers: dict[int, list[Entry]] = {}
    for answer in subject.live(QueryAnswered):
        answers.setdefault(answer["query"], []).append(answer)
    closings = {closing["query"]: closing for closing in subject.live(QueryClosed)}
    return [
        Query(
            query=raised.version,
            entry=raised["entry"],
            entry_kind=raised["entry_kind"],
            item=raised["item"],
            question=raised["question"],
            answers=tuple(answers.get(raised.version, ())),
            closed_by=closings.get(raised.version),
        )
        for raised in subject.live(QueryRaised)
    ]


def _query_not_closed(subject: Subject, query: int, verb: str) -> Query:
    found = next((q for q in queries_of(subject) if q.query == query), None)
    if found is None:
        raise QueryInvalid(
            "%(subject_code)s has no query %(query)s (a QueryRaised entry)",
            subject_code=subject.subject_code,
            query=query,
        )
    if found.closed_by is not None:
        raise QueryInvalid(
            "query %(query)s was closed by entry %(version)s, so is not %(verb)s "
            "(raise a new query instead)",
            query=query,
            version=found.closed_by.version,
            verb=verb,
        )
    return found


def _check_said(text: str, what: str) -> None:
    if says_nothing(text):
        raise QueryInvalid("%(what)s: the text is empty", what=what)
