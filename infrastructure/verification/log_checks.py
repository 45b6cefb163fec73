"""What a check of the log finds, and the checks of each stream that need no store.

``sealtrail verify`` (over the store) and ``sealtrail packet verify`` (over a packet, offline)
both report :class:`Finding` records and run :func:`check_streams` on the facts they gathered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from domain.signed import SignedAggregate, stream_id
from domain.subject import Subject
from domain.subject.source_verification import SOURCE_VERIFICATION
from signatures.chain import GENESIS_HASH, check_link
from signatures.errors import EventReplayed, VerificationError
from signatures.record_hash import RecordHashes


@dataclass(frozen=True)
class Finding:
    """One thing that does not hold, where it is and what it is."""

    position: int | None
    stream: str | None
    version: int | None
    kind: str
    detail: str

    @classmethod
    def of_log(cls, kind: str, detail: str) -> Finding:
        """A finding about the log as a whole (its tree, a checkpoint, a view), at no event."""
        return cls(None, None, None, kind, detail)

    def as_dict(self) -> dict[str, Any]:
        """The finding as JSON."""
        return asdict(self)

    def __str__(self) -> str:
        where = "log" if self.position is None else f"position {self.position}"
        if self.stream is not None:
            where += f": {self.stream} version {self.version}"
        return f"{where}: {self.kind}: {self.detail}"


class EventFacts(NamedTuple):
    """What the in-order checks need of one stored event.

    ``stream`` is the stream's name, known only when the event could be read and the name it
    carries is that of the stream it is stored under (stream ids are UUIDv5 of the names).

    A named tuple, not a dataclass: ``verify``'s workers send one back for every event, and a
    tuple pickles and unpickles in about a quarter of the time (no ``__setstate__`` of fields).
    """

    position: int
    stream_id: UUID
    version: int
    stream: str | None = None
    previous_hash: str | None = None
    event_hash: str | None = None
    leaf_hash: bytes | None = None
    changes_entry: int | None = None
    """The entry a correction or void changes."""
    covers: tuple[tuple[int, str], ...] | None = None
    """What a signature over records covers: (entry, record hash) pairs; the record a source
    verification names, likewise."""
    is_record: bool = False
    """A record of a subject (not a change, signature or query about others)."""
    voids: bool = False
    """A void of the entry it changes, which stops being a live record."""
    casebook_state: str | None = None
    """The state hash a casebook signature signs: it covers that state and every live record."""
    covered_by: str = "the signature"
    """What names the covered records, as a finding says it."""
    unplaced_signature: str | None = None
    """The signature of a body that signs no version (recorded before the version was signed):
    such an event is told from a copy of it only by its signature occurring once in the log."""
    recorded_at: datetime | None = None
    """When the server recorded it (committed to by its leaf), for the time-stamps' bounds."""
    kind: str | None = None
    """The event's kind as its author named it, for a finding about its recording time."""


def signed_body(event: SignedAggregate.Event) -> dict[str, Any] | None:
    """The event's signed body, parsed once for every check of it; None if it is not JSON."""
    try:
        return event.authorship.body()
    except ValueError:
        return None


def unplaced_signature(event: SignedAggregate.Event, body: dict[str, Any] | None) -> str | None:
    """The event's signature if its body signs no version of its stream, else None.

    A body that signs its version is bound to its place (:meth:`SignedAggregate.Event.
    check_at_signed_place`); a copy elsewhere is named there, so only the others are kept.
    """
    if not isinstance(body, dict) or "version" in body:
        return None
    return event.authorship.signature


SIGNATURE = "the signature"

RecordFacts = tuple[int | None, tuple[tuple[int, str], ...] | None, bool, bool, str | None, str]
""":class:`EventFacts`'s ``changes_entry``, ``covers``, ``is_record``, ``voids``,
``casebook_state`` and ``covered_by``, in that order."""


def record_facts(event: SignedAggregate.Event) -> RecordFacts:
    """The entry an event changes, what it signs, whether it is a record or the void of one,
    the state a casebook signature signs, and what names records by hash (a signature over
    records, a source verification), for the in-order check that they are linked."""
    if not isinstance(event, Subject.Event):
        return None, None, False, False, None, SIGNATURE
    covers, covered_by = None, SIGNATURE
    if isinstance(event, Subject.RecordsSigned):
        # Entries that cannot be read name no record: such a signature is not linked.
        covers = tuple(sorted(event.covered().items())) if event.names_only_records() else ()
    elif isinstance(event, Subject.SourceVerified):
        named = event.linked_records()
        readable = all(isinstance(k, int) and isinstance(v, str) for k, v in named.items())
        covers, covered_by = (tuple(named.items()) if readable else ()), SOURCE_VERIFICATION
    changes = event.changed_entry()
    state = event.state_hash if isinstance(event, Subject.CasebookSigned) else None
    return (
        changes if isinstance(changes, int) else None,
        covers,
        not event.ABOUT_RECORDS,
        isinstance(event, Subject.EntryVoided),
        # A state that is not text (only in a log written past the store) is not the stream's.
        None if state is None else str(state),
        covered_by,
    )


def is_named(stream: object, originator: UUID) -> bool:
    """True when ``stream`` is the name of the stream whose id is ``originator``."""
    return isinstance(stream, str) and stream_id(stream) == originator


def named(findings: list[Finding], facts: Iterable[EventFacts]) -> list[Finding]:
    """Replace the stream ids findings carry by the names the stream's own events give it.

    A stream with no event that names it (all unreadable, or all moved there from elsewhere)
    stays known by its id.
    """
    names = {str(fact.stream_id): fact.stream for fact in facts if fact.stream is not None}
    return named_by(findings, names)


def named_by(findings: list[Finding], names: Mapping[str, str]) -> list[Finding]:
    """As :func:`named`, given each stream's name by its id (in text)."""
    return [
        replace(finding, stream=names.get(finding.stream, finding.stream))
        if finding.stream is not None
        else finding
        for finding in findings
    ]


def check_streams(
    facts: Iterable[EventFacts], before: Mapping[UUID, EventFacts] | None = None
) -> list[Finding]:
    """Per stream, in log order: versions in sequence, the chain unbroken, and every signature over
    records linked to the records of its stream as they stood when it was made; over the whole
    log, no signature of a body that signs no version twice (a copy: ``event-replayed``).

    ``before`` is for a check of part of the log (``verify --since``): per stream, the event
    just before its first one in ``facts``, which that stream's versions and chain go on from.

    Findings carry the stream's id; :func:`named` gives them its name.
    """
    checks = StreamChecks(before)
    for fact in facts:
        checks.add(fact)
    return checks.findings


class StreamChecks:
    """:func:`check_streams` one event at a time, in log order: what it keeps is per stream
    (its version, its chain head, the hashes of its records) and the signatures of bodies that
    sign no version, never the events themselves."""

    def __init__(self, before: Mapping[UUID, EventFacts] | None = None) -> None:
        before = before or {}
        self.findings: list[Finding] = []
        self._versions = {stream: fact.version for stream, fact in before.items()}
        self._heads: dict[UUID, str | None] = {
            stream: fact.event_hash for stream, fact in before.items()
        }
        self._records: dict[UUID, RecordHashes] = {}
        self._unplaced: dict[str, int] = {}

    def add(self, fact: EventFacts) -> None:
        """Check the next event of the log against the events of its stream before it."""
        findings = self.findings
        name = str(fact.stream_id)
        if fact.unplaced_signature is not None:
            first = self._unplaced.setdefault(fact.unplaced_signature, fact.position)
            if first != fact.position:
                error = EventReplayed(
                    "the author's signature is that of the event at position %(first)s: a copy "
                    "(its body, recorded before bodies signed their version, says no place)",
                    first=first,
                )
                findings.append(Finding(fact.position, name, fact.version, error.kind, str(error)))
        stream_records = self._records.get(fact.stream_id)
        if stream_records is None:
            stream_records = self._records[fact.stream_id] = RecordHashes()
        if fact.covers is not None:
            try:
                stream_records.check_linked(dict(fact.covers), fact.covered_by)
                if fact.casebook_state is not None:
                    stream_records.check_casebook(dict(fact.covers), fact.casebook_state)
            except VerificationError as error:
                findings.append(Finding(fact.position, name, fact.version, error.kind, str(error)))
        if fact.event_hash is not None:
            stream_records.add(
                fact.version,
                fact.event_hash,
                fact.changes_entry,
                record=fact.is_record,
                voids=fact.voids,
            )
        previous_version = self._versions.get(fact.stream_id, 0)
        if fact.version != previous_version + 1:
            findings.append(
                Finding(
                    fact.position,
                    name,
                    fact.version,
                    "version-gap",
                    f"version {fact.version} follows version {previous_version} of the stream",
                )
            )
        self._versions[fact.stream_id] = fact.version
        head = self._heads.get(fact.stream_id, GENESIS_HASH)
        if head is not None and fact.previous_hash is not None:
            try:
                check_link(head, fact.previous_hash)
            except VerificationError as error:
                findings.append(Finding(fact.position, name, fact.version, error.kind, str(error)))
        # After an unreadable event the true head is unknown: do not blame the next one.
        self._heads[fact.stream_id] = fact.event_hash
