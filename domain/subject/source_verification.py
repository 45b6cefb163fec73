"""Source data verification (ICH E6(R3) 3.11.4.5.4): a monitor compares a record, or one of its
fields, with the site's source documents and says so, naming the record hash they read.

A verification holds while the record is as it was read: a later correction or void changes
the record's hash (:mod:`signatures.record_hash`), so the verification no longer covers the
record as it stands, and the monitor verifies it again. Nothing else is recorded for that: it is
read from the hashes (:func:`verifications_of`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from domain.actions import Action
from domain.errors import (
    ProtocolDefinitionInvalid,
    SourceVerificationRefused,
    SourceVerificationStale,
)
from domain.protocol import StudyProtocol
from domain.signed import EarlierInStream
from domain.subject.changes import ENTRY, KIND, AboutRecords
from domain.subject.declaration import ValueType, item
from domain.subject.entries import Entry
from domain.subject.record import DECLARED, Record
from signatures.record_hash import RecordHashes

if TYPE_CHECKING:
    from domain.subject.aggregate import Subject


SOURCE_VERIFICATION = "the source verification"
"""What names its record by hash, as a refusal or a finding of verify says it."""


class SourceVerified(AboutRecords):
    """A monitor verified a record (or one field of it) against the site's source documents."""

    COMMAND = "verify_source"
    SUBMITTED_AS = Action.VERIFY_SOURCE
    DESCRIBED_WHEN_RECORDED = True

    entry: int = item(ENTRY, minimum=1)
    entry_kind: str = item(KIND, value=ValueType.KIND)
    record_hash: str = item(
        "The entry's record hash as the monitor read it", value=ValueType.CODE, max_length=64
    )
    item: str | None = item(
        "The field verified (default: the whole record)", optional=True, value=ValueType.CODE
    )

    @classmethod
    def admit(cls, subject: Subject, fields: Mapping[str, Any]) -> None:
        """About a live record that is clinical data (not a change, signature, query or
        verification), as it stands now, and a field it declares; not verified already.

        Raises:
            EntryNotFound: no such entry.
            SourceVerificationRefused: another kind, voided, about records, no such field, or
                verified already as it stands.
            SourceVerificationStale: the record changed since the monitor read it.
        """
        number, field = fields["entry"], fields["item"]
        target = subject.live_entry(number, fields["entry_kind"], SourceVerificationRefused)
        kind = DECLARED[target.kind]
        if kind.ABOUT_RECORDS:
            raise SourceVerificationRefused(
                "entry %(number)s is a %(kind)s: verify the record it is about",
                number=number,
                kind=target.kind,
            )
        if fields["record_hash"] != target.record_hash:
            raise SourceVerificationStale(
                "entry %(number)s hashes to %(record_hash)s, not %(record_hash2)s: "
                "it changed since it was read; read it again before verifying it",
                number=number,
                record_hash=target.record_hash,
                record_hash2=fields["record_hash"],
            )
        if field is not None and field not in {declared.name for declared in kind.items()}:
            raise SourceVerificationRefused(
                "a %(kind)s has no field %(field)r", kind=target.kind, field=field
            )
        already = verifications_of(subject).get(number)
        if already is not None and (already.whole or field in already.fields):
            raise SourceVerificationRefused(
                "entry %(number)s is verified as it stands already%(value)s",
                number=number,
                value="" if already.whole else f" for {field}",
            )

    def check_against_stream(self, earlier: EarlierInStream) -> None:
        """Refuse a verification whose record hash is not its record's now, read from the events
        the store holds (not the aggregate that made it).

        Raises:
            SignatureNotLinked: the verification names a record as it never stood.
        """
        records = RecordHashes()
        for before in earlier():
            if isinstance(before, Record):
                records.add(before.originator_version, before.event_hash, before.changed_entry())
        records.check_linked(self.linked_records(), SOURCE_VERIFICATION)

    def linked_records(self) -> dict[int, str]:
        """The record this verification names, by entry, with the record hash the monitor read."""
        return {self.entry: self.record_hash}


@dataclass(frozen=True)
class Verification:
    """What is verified of one record as it stands: the whole record, or some of its fields.

    Attributes:
        whole: a verification of the whole record holds.
        fields: the fields verified one by one.
        verified_in: the ``SourceVerified`` entries that still hold, oldest first.
    """

    whole: bool
    fields: tuple[str, ...]
    verified_in: tuple[int, ...]

    def covers(self, record: Entry) -> bool:
        """True when the whole record is verified, or each field it holds is."""
        held = {name for name, value in record.fields.items() if value is not None}
        return self.whole or (bool(held) and held <= set(self.fields))


def verifications_of(subject: Subject) -> dict[int, Verification]:
    """Each record with a verification that still holds (its record hash is the record's now),
    by entry."""
    found: dict[int, Verification] = {}
    for verified in subject.live(SourceVerified):
        target = subject.entries.get(verified["entry"])
        if target is None or verified["record_hash"] != target.record_hash:
            continue  # changed since: no longer verified
        before = found.get(target.version) or Verification(False, (), ())
        field = verified["item"]
        found[target.version] = Verification(
            before.whole or field is None,
            before.fields if field is None or field in before.fields else (*before.fields, field),
            (*before.verified_in, verified.version),
        )
    return found


def verifiable(subject: Subject, kinds: frozenset[str] | None) -> list[Entry]:
    """The records a monitor verifies: live clinical records (no change, signature, query or
    verification), of ``kinds`` when named, in entry order."""
    return [
        entry
        for number, entry in sorted(subject.entries.items())
        if entry.is_live
        and not DECLARED[entry.kind].ABOUT_RECORDS
        and (kinds is None or entry.kind in kinds)
    ]


def risk_based_kinds(protocol: StudyProtocol) -> frozenset[str] | None:
    """The kinds the protocol's risk-based monitoring verifies (``[source_verification]
    kinds``), or None when it names none (every record is verified).

    Raises:
        ProtocolDefinitionInvalid: a name that is not a kind of record verified against source.
    """
    if not protocol.source_verification:
        return None
    for name in protocol.source_verification:
        kind = DECLARED.get(name)
        if kind is None or kind.ABOUT_RECORDS:
            raise ProtocolDefinitionInvalid(
                "source_verification.kinds: %(name)r is not a kind of record", name=name
            )
    return frozenset(protocol.source_verification)
