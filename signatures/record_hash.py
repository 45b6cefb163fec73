"""The hash of a record as it stands: what an electronic signature over records commits to.

A record (an *entry* of a subject) is the event that created it and every later event that
changed it: its corrections and its void, in order. Its hash folds their chain hashes
(:mod:`signatures.chain`), under a domain-separation tag of its own:

    record_hash_0 = SHA-256("sealtrail/record/v1" || 0x00 || event_hash(entry)(32))
    record_hash_k = SHA-256("sealtrail/record/v1" || 0x01 || record_hash_(k-1)(32)
                            || event_hash(k-th change)(32))

So the hash names one record of one subject (a chain hash commits to every event before it in
the stream) and changes with every correction or void of it. A signature that carries the hash
of a record covers the record's current value exactly while no change has been made since; one
whose hashes are not those of the records it names, at the time it was made, has been moved
(21 CFR 11.70).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping

from signatures.errors import SignatureNotLinked

DOMAIN_TAG = b"sealtrail/record/v1"
DIGEST_SIZE = 32


def record_hash(entry_event_hash: str) -> str:
    """The hex hash of a record as its author made it (no change yet)."""
    return _record_digest(entry_event_hash).hex()


def record_hash_after(previous_record_hash: str, change_event_hash: str) -> str:
    """The hex hash of a record after one more change (a correction or a void) of it."""
    return _digest_after(bytes.fromhex(previous_record_hash), change_event_hash).hex()


def _record_digest(entry_event_hash: str) -> bytes:
    return hashlib.sha256(DOMAIN_TAG + b"\x00" + bytes.fromhex(entry_event_hash)).digest()


def _digest_after(previous: bytes, change_event_hash: str) -> bytes:
    return hashlib.sha256(
        DOMAIN_TAG + b"\x01" + previous + bytes.fromhex(change_event_hash)
    ).digest()


class _Digests(Mapping[int, str]):
    """Each entry's record hash: kept as 32-byte digests end to end in one ``bytearray`` for
    versions 1, 2, 3... as they come (a dict of hex text took some 150 bytes an entry, and a
    verifier holds one for every version of every stream: docs/benchmarks-verify.md), any
    version out of that order in a dict; read as the hex text signatures name them by."""

    def __init__(self) -> None:
        self._in_order = bytearray()
        self._others: dict[int, bytes] = {}

    def digest(self, version: object) -> bytes | None:
        """The digest of ``version``, None if none: looked up as a dict would (an entry named
        by a float or text, only in a log written past the store, finds what it equals)."""
        number = _as_entry(version)
        if number is None:
            return None
        if 1 <= number <= len(self._in_order) // DIGEST_SIZE:
            return bytes(self._in_order[(number - 1) * DIGEST_SIZE : number * DIGEST_SIZE])
        return self._others.get(number)

    def keep(self, version: int, digest: bytes) -> None:
        count = len(self._in_order) // DIGEST_SIZE
        if version == count + 1 and not self._others:
            self._in_order += digest
        elif 1 <= version <= count:
            self._in_order[(version - 1) * DIGEST_SIZE : version * DIGEST_SIZE] = digest
        else:  # after a gap in the versions (a finding of verify's), as a dict would
            self._others[version] = digest

    def __getitem__(self, version: object) -> str:
        found = self.digest(version)
        if found is None:
            raise KeyError(version)
        return found.hex()

    def __iter__(self) -> Iterator[int]:
        yield from range(1, len(self._in_order) // DIGEST_SIZE + 1)
        yield from self._others

    def __len__(self) -> int:
        return len(self._in_order) // DIGEST_SIZE + len(self._others)


def check_signature_linked(
    covered: Mapping[int, str], records: Mapping[int, str], what: str = "the signature"
) -> None:
    """Check that a signature's covered records are the records as they stood when it was made.

    Args:
        covered: entry number -> the record hash the signer signed.
        records: entry number -> the record hash of each record of the subject at that point.
        what: what names the records, as the message says it (a source verification names
            its record by hash as a signature does).

    Raises:
        SignatureNotLinked: no record named, an entry the subject did not have, or a hash that
            is not its record's.
    """
    if not covered:
        raise SignatureNotLinked("%(what)s names no record it can be linked to", what=what)
    for entry, signed in sorted(covered.items()):
        actual = records.get(entry)
        if actual is None:
            raise SignatureNotLinked(
                "%(what)s names entry %(entry)s, which the stream lacks", what=what, entry=entry
            )
        if actual != signed:
            raise SignatureNotLinked(
                "%(what)s covers record hash %(signed)s... as entry %(entry)s; entry "
                "%(entry)s of this stream hashed to %(actual)s... when it was signed",
                what=what,
                signed=signed[:16],
                entry=entry,
                actual=actual[:16],
            )


class EntrySet:
    """A set of entry numbers (a stream's live records), as a ``set`` of them reads, held as one
    byte an entry.

    Verify keeps one per stream, with nearly every entry of it; a ``set`` of ``int`` took about
    60 bytes an entry. Entry ``n`` is byte ``n - 1`` of a ``bytearray`` grown as entries come
    (by at most :data:`LARGEST_STEP` at a time); an entry beyond that, or below 1 (only in a log
    written past the store), is kept in a ``set`` beside it.
    """

    LARGEST_STEP = 4096

    def __init__(self) -> None:
        self._flags = bytearray()
        self._apart: set[int] = set()

    def add(self, entry: int) -> None:
        """Put ``entry`` in."""
        if 1 <= entry <= len(self._flags) + self.LARGEST_STEP:
            if entry > len(self._flags):
                self._flags.extend(bytes(entry - len(self._flags)))
            self._flags[entry - 1] = 1
        else:
            self._apart.add(entry)

    def discard(self, entry: object) -> None:
        """Take ``entry`` out, if it is in."""
        number = _as_entry(entry)
        if number is None:
            return
        self._apart.discard(number)
        if 1 <= number <= len(self._flags):
            self._flags[number - 1] = 0

    def __contains__(self, entry: object) -> bool:
        number = _as_entry(entry)
        if number is None:
            return False
        if number in self._apart:
            return True
        return 1 <= number <= len(self._flags) and self._flags[number - 1] == 1

    def as_set(self) -> set[int]:
        """The entries, as a ``set``."""
        return {n for n, flag in enumerate(self._flags, 1) if flag} | self._apart


def _as_entry(value: object) -> int | None:
    """The whole number a ``set`` of whole numbers would find ``value`` as (``True`` as 1,
    ``3.0`` as 3), None if as none ("1", 1.5, None)."""
    if type(value) is int:
        return value
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number == value and hash(number) == hash(value) else None


class RecordHashes:
    """The record hash of every entry of one stream, folded event by event in version order."""

    def __init__(self) -> None:
        self._hashes = _Digests()
        self._live_records = EntrySet()
        self._head: str | None = None

    def add(
        self,
        version: int,
        event_hash: str,
        changes: int | None = None,
        *,
        record: bool = False,
        voids: bool = False,
    ) -> None:
        """One more event: a record of its own, and a change of entry ``changes`` if it is one.

        ``record``: the event is a record (not a change, signature or query about others);
        ``voids``: it voids entry ``changes``, which stops being a live record.
        """
        self._hashes.keep(version, _record_digest(event_hash))
        self._head = event_hash
        entry = None if changes is None else _as_entry(changes)
        changed = None if entry is None else self._hashes.digest(entry)
        if entry is not None and changed is not None:
            self._hashes.keep(entry, _digest_after(changed, event_hash))
        if record:
            self._live_records.add(version)
        if voids and entry is not None:
            self._live_records.discard(entry)

    def check_signature(self, covered: Mapping[int, str]) -> None:
        """Check a signature made now, after the events added so far.

        Raises:
            SignatureNotLinked: see :func:`check_signature_linked`.
        """
        check_signature_linked(covered, self._hashes)

    def check_casebook(self, covered: Mapping[int, str], state_hash: str) -> None:
        """Check a casebook signature made now: over the stream's state (the chain hash of its
        latest event) and every live record, besides :meth:`check_signature`.

        Raises:
            SignatureNotLinked: another state, a live record left out, or an entry covered
                that is no live record.
        """
        if state_hash != self._head:
            raise SignatureNotLinked(
                "the casebook signature is over state %(state_hash)s...; the stream "
                "stood at %(value)s... when it was signed",
                state_hash=state_hash[:16],
                value=(self._head or "")[:16],
            )
        live = self._live_records.as_set()
        for entries, what in (
            (live - set(covered), "leaves out entries {}, live records"),
            (set(covered) - live, "covers entries {}, no live records"),
        ):
            if entries:
                listed = ", ".join(str(entry) for entry in sorted(entries))
                raise SignatureNotLinked(
                    "the casebook signature %(format)s of the stream when it was signed",
                    format=what.format(listed),
                )

    def check_linked(self, covered: Mapping[int, str], what: str) -> None:
        """Check records named by hash now, by ``what`` (a source verification), as
        :meth:`check_signature` checks a signature's.

        Raises:
            SignatureNotLinked: see :func:`check_signature_linked`.
        """
        check_signature_linked(covered, self._hashes, what)
