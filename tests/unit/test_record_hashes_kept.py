"""RecordHashes keeps its record hashes packed (32 bytes an entry, for versions in order) and
answers as the dict of hex text it replaced did: whatever the order versions come in, a gap in
them (a finding of verify's) or a version seen twice."""

from __future__ import annotations

import hashlib

import pytest

from signatures.errors import SignatureNotLinked
from signatures.record_hash import RecordHashes, record_hash, record_hash_after


def chain(n: int) -> str:
    return hashlib.sha256(f"event {n}".encode()).hexdigest()


def model(events: list[tuple[int, int | None]]) -> dict[int, str]:
    """The hashes as a plain dict of hex text folds them (the former keeping)."""
    hashes: dict[int, str] = {}
    for version, changes in events:
        hashes[version] = record_hash(chain(version))
        if changes is not None and changes in hashes:
            hashes[changes] = record_hash_after(hashes[changes], chain(version))
    return hashes


@pytest.mark.parametrize(
    "events",
    [
        [(1, None), (2, None), (3, 1), (4, 3), (5, 1)],  # in order, entries changed again
        [(1, None), (2, None), (5, 2), (6, None), (3, 1), (7, 6)],  # a gap, then the rest
        [(1, None), (2, 1), (2, None), (3, 2)],  # a version twice
        [(2, None), (1, None), (3, 7)],  # no version 1 first; a change of no entry
    ],
)
def test_packed_hashes_answer_as_the_dict_of_hex_text(events: list[tuple[int, int | None]]) -> None:
    hashes = RecordHashes()
    for version, changes in events:
        hashes.add(version, chain(version), changes)

    expected = model(events)
    for entry, value in expected.items():
        hashes.check_signature({entry: value})  # each entry's hash, as it stands
    assert dict(hashes._hashes) == expected
    missing = max(expected) + 1
    with pytest.raises(SignatureNotLinked, match="which the stream lacks"):
        hashes.check_signature({missing: "00" * 32})
    some = next(iter(expected))
    with pytest.raises(SignatureNotLinked, match="hashed to"):
        hashes.check_signature({some: "00" * 32})



@pytest.mark.parametrize("named", ["1", 1.5, None, b"1", (1,)])
def test_an_entry_named_by_no_whole_number_names_none(named: object) -> None:
    # Only a log written past the store names an entry so, and the store reads a stream's
    # earlier events to check a new signature against them: the lookup answers as the dict of
    # hex text did (no such entry), it does not raise TypeError.
    hashes = RecordHashes()
    hashes.add(1, chain(1), record=True)
    hashes.add(2, chain(2), named, voids=True)  # type: ignore[arg-type]

    assert dict(hashes._hashes) == model([(1, None), (2, None)])
    hashes.check_casebook({1: record_hash(chain(1))}, chain(2))  # entry 1 changed by nothing
    with pytest.raises(SignatureNotLinked, match="which the stream lacks"):
        hashes.check_signature({named: "00" * 32})  # type: ignore[dict-item]


def test_an_entry_named_by_a_float_of_a_whole_number_is_that_entry_as_in_a_dict() -> None:
    hashes = RecordHashes()
    hashes.add(1, chain(1), record=True)
    hashes.add(2, chain(2), 1.0, voids=True)  # type: ignore[arg-type]

    changed = record_hash_after(record_hash(chain(1)), chain(2))
    assert dict(hashes._hashes) == {1: changed, 2: record_hash(chain(2))}
    hashes.check_signature({1.0: changed})  # type: ignore[dict-key]
    with pytest.raises(SignatureNotLinked, match="covers entries 1, no live records"):
        hashes.check_casebook({1: changed}, chain(2))  # entry 1 is void
