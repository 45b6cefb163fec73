"""What verify keeps of every stream's records, packed, read as what it replaces: the record hashes
(32-byte digests) as the ``dict`` of hex text, the live records (a byte an entry) as the ``set``
of entries; the same entries found, the same hashes, the same signatures linked or not.

A signature over records is judged against them (``signature-not-linked``); if the packed form
found an entry the ``dict`` or ``set`` did not, or the other way round, a moved signature could
pass, or a casebook signature leaving out a live record.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from signatures.errors import SignatureNotLinked
from signatures.record_hash import (
    DOMAIN_TAG,
    EntrySet,
    RecordHashes,
    record_hash,
    record_hash_after,
)


def _hex(seed: int) -> str:
    return hashlib.sha256(seed.to_bytes(8, "big", signed=True)).hexdigest()


class _HexRecords:
    """The record hashes as they were kept before: a ``dict`` of hex text (the reference)."""

    def __init__(self) -> None:
        self.hashes: dict[int, str] = {}

    def add(self, version: int, event_hash: str, changes: object) -> None:
        self.hashes[version] = hashlib.sha256(
            DOMAIN_TAG + b"\x00" + bytes.fromhex(event_hash)
        ).hexdigest()
        if changes is not None and changes in self.hashes:
            self.hashes[changes] = hashlib.sha256(
                DOMAIN_TAG
                + b"\x01"
                + bytes.fromhex(self.hashes[changes])
                + bytes.fromhex(event_hash)
            ).hexdigest()


ENTRIES = [0, 1, 2, 3, 5, 40, -1, True, False, 10**30]
"""Whole numbers in and out of the entries (``True`` is 1 to a ``dict`` and a ``set``)."""
LOOKUPS = [*ENTRIES, 3.0, 2.5, "1", None]
"""Entries asked of the record hashes and the live records: also what only a ``dict`` or ``set``
of whole numbers would find or not (``3.0`` is 3 to it; ``"1"`` and 2.5 are nothing). A stream's
stored events name the entry they change so only in a log written past the store, but the store
reads them to check a new signature: a lookup must answer, not raise ``TypeError``."""


@pytest.mark.requirement("P11-11.10a-1")
@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            # Mostly the next version, as a stored stream has them; sometimes a gap, a version
            # repeated, or one below 1 (a log written past the store).
            st.one_of(st.just(None), st.integers(min_value=-2, max_value=40)),
            st.one_of(
                st.none(), st.integers(min_value=-1, max_value=40), st.sampled_from(LOOKUPS)
            ),
        ),
        max_size=60,
    )
)
# In order, entries changed again; a gap, then the rest; a version twice; no version 1 first
# and a change of no entry; changes named by a float of a whole number, by text, by a fraction.
@example([(1, None), (2, None), (3, 1), (4, 3), (5, 1)])
@example([(1, None), (2, None), (5, 2), (6, None), (3, 1), (7, 6)])
@example([(1, None), (2, 1), (2, None), (3, 2)])
@example([(2, None), (1, None), (3, 7)])
@example([(None, None), (None, 1.0), (None, "1"), (None, 2.5)])
def test_the_packed_table_reads_as_the_dict_of_hex_text(
    steps: list[tuple[int | None, object]],
) -> None:
    packed, reference = RecordHashes(), _HexRecords()
    next_version = 1
    for seed, (version, changes) in enumerate(steps):
        version = next_version if version is None else version
        next_version = version + 1
        packed.add(version, _hex(seed), changes)  # type: ignore[arg-type]
        reference.add(version, _hex(seed), changes)
    table = packed._hashes
    assert dict(table) == reference.hashes
    assert len(table) == len(reference.hashes)
    for entry in [*LOOKUPS, *reference.hashes]:
        assert (entry in table) == (entry in reference.hashes), entry
        assert table.get(entry) == reference.hashes.get(entry), entry


@pytest.mark.requirement("P11-11.10a-1")
def test_a_stream_in_sequence_packs_its_hashes_into_32_bytes_an_entry() -> None:
    records = RecordHashes()
    for version in range(1, 1001):
        records.add(version, _hex(version), record=True)

    assert len(records._hashes._in_order) == 32 * 1000
    assert not records._hashes._others
    assert len(records._live_records._flags) == 1000
    assert records._hashes[1000] == record_hash(_hex(1000))


@pytest.mark.requirement("P11-11.10a-1")
def test_a_signature_is_linked_or_not_as_against_the_hex_hashes() -> None:
    records = RecordHashes()
    records.add(1, _hex(1))
    records.add(2, _hex(2))
    records.add(3, _hex(3), changes=1)
    entry_1 = record_hash_after(record_hash(_hex(1)), _hex(3))

    records.check_signature({1: entry_1, 2: record_hash(_hex(2))})
    with pytest.raises(SignatureNotLinked, match="entry 1 of this stream hashed to"):
        records.check_signature({1: record_hash(_hex(1))})  # as it stood before its change
    with pytest.raises(SignatureNotLinked, match="entry 1 of this stream hashed to"):
        records.check_signature({1: entry_1.upper()})  # the same digest, not the same text
    with pytest.raises(SignatureNotLinked, match="names entry 4, which the stream lacks"):
        records.check_signature({4: record_hash(_hex(3))})


@pytest.mark.requirement("P11-11.10a-1")
@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.booleans(),
            # Mostly near the entries already in; sometimes far beyond them or below 1.
            st.one_of(
                st.integers(min_value=-2, max_value=60),
                st.integers(min_value=EntrySet.LARGEST_STEP, max_value=3 * EntrySet.LARGEST_STEP),
            ),
        ),
        max_size=80,
    )
)
def test_the_live_entries_read_as_a_set_of_them(steps: list[tuple[bool, int]]) -> None:
    packed, reference = EntrySet(), set[int]()
    for adding, entry in steps:
        if adding:
            packed.add(entry)
            reference.add(entry)
        else:
            packed.discard(entry)
            reference.discard(entry)
    assert packed.as_set() == reference
    for entry in [*LOOKUPS, *reference, *(entry for _, entry in steps)]:
        assert (entry in packed) == (entry in reference), entry


@pytest.mark.requirement("P11-11.10a-1")
def test_the_live_entries_are_a_byte_an_entry() -> None:
    live = EntrySet()
    for entry in range(1, 1001):
        live.add(entry)
    live.discard(5)
    live.discard(True)  # entry 1, as a set of whole numbers reads True

    assert len(live._flags) == 1000
    assert not live._apart
    assert live.as_set() == set(range(2, 1001)) - {5}
