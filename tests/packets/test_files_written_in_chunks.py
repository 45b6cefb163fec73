"""The largest derived files (the CDISC ODM, the audit trail's CSV and JSON) are written a chunk
at a time, so that a packet's verifier digests them as they come and never holds them whole
(docs/benchmarks-packet.md). Written in chunks, a file is the same bytes as written at once:
nothing is lost or repeated where one chunk ends and the next begins."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from infrastructure.packets.archive import SPOOLED_FROM, SpooledFile, packet_file
from infrastructure.packets.evidence import EVENTS
from infrastructure.packets.verify import verify_packet
from projections import chunked
from projections.csv_file import csv_bytes, csv_chunks
from tests.packets.conftest import BuiltPacket, tampered

ODM = "odm/NCT01297972.odm.xml"
COLUMNS = ("subject", "reason", "value")
ROWS = [
    {"subject": f"RP-{n:02}", "reason": f'corrigido, "à mão"\nlinha {n}', "value": f"=-{n}"}
    for n in range(2000)
]
"""About 100 KB: more than a text writer's own buffer (8 KiB), which it fills before the
bytes reach the chunks."""


@pytest.mark.parametrize("chunk", [1, 7, 10_000, 50_000])
def test_a_csv_written_in_chunks_is_the_csv_written_at_once(
    monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    at_once = csv_bytes(COLUMNS, ROWS, byte_order_mark=True)
    monkeypatch.setattr(chunked, "CHUNK", chunk)

    chunks = list(csv_chunks(COLUMNS, ROWS, byte_order_mark=True))

    assert b"".join(chunks) == at_once
    assert len(chunks) > 1
    assert all(chunks)


def test_a_row_with_a_value_for_no_column_is_still_refused_when_written_in_chunks() -> None:
    with pytest.raises(ValueError, match="values for no column"):
        list(csv_chunks(COLUMNS, [*ROWS, {"subject": "RP-99", "site": "RP"}]))


def test_a_packet_verifies_with_its_largest_files_digested_in_chunks_of_a_few_bytes(
    demo_packet: BuiltPacket, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The packet was built with chunks of a megabyte; verified with chunks of 100 bytes, each
    # of its audit trail's thousands of rows crosses a chunk's end.
    monkeypatch.setattr(chunked, "CHUNK", 100)

    report = verify_packet(demo_packet.data, redraw_documents=False)

    assert report.ok, report.findings
    assert report.events == len(demo_packet.files()[EVENTS].splitlines())


def test_a_file_that_differs_is_still_named_with_its_line_when_digested_in_chunks(
    demo_packet: BuiltPacket, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = "audit-trail/audit-trail.json"
    monkeypatch.setattr(chunked, "CHUNK", 100)
    lines = demo_packet.files()[path].split(b"\n")
    lines[40] = lines[40].replace(b'"', b"'", 1)

    report = verify_packet(
        tampered(demo_packet, {path: b"\n".join(lines)}, resign=True), redraw_documents=False
    )

    found = [f for f in report.findings if f.file == path]
    assert [f.kind for f in found] == ["derived-mismatch"]
    assert found[0].detail == "does not agree with the events: line 41 differs"


def test_a_file_the_events_cannot_give_stops_the_derivation_even_where_the_packet_lacks_it(
    demo_packet: BuiltPacket,
) -> None:
    # Two subjects' neighbouring events swapped: the ODM cannot be written from a log out of
    # order. With the ODM file taken out too, it must still be written (and fail), not be
    # said to be given by the events and absent.
    lines = demo_packet.files()[EVENTS].split(b"\n")
    streams = [json.loads(line)["stream"] if line else "" for line in lines]
    at = next(
        i
        for i in range(100, len(lines) - 1)
        if streams[i].startswith("NCT")
        and streams[i + 1].startswith("NCT")
        and streams[i] != streams[i + 1]
    )
    lines[at], lines[at + 1] = lines[at + 1], lines[at]

    report = verify_packet(
        tampered(demo_packet, {EVENTS: b"\n".join(lines), ODM: None}, resign=True),
        redraw_documents=False,
    )

    unbuildable = [f for f in report.findings if f.kind == "derived-unbuildable"]
    assert len(unbuildable) == 1
    assert "OdmExportRefused" in unbuildable[0].detail
    assert "not in order" in unbuildable[0].detail
    assert not [f for f in report.findings if f.kind == "derived-missing"]


def test_a_small_file_is_kept_in_memory_and_a_large_one_spooled_with_the_same_bytes() -> None:
    small = [b"a" * 1000] * 3
    large = [bytes([n]) * 1_000_000 for n in range(5)]

    kept, spooled = packet_file(iter(small)), packet_file(iter(large))

    assert kept == b"".join(small)
    assert isinstance(spooled, SpooledFile)
    try:
        assert b"".join(spooled.chunks()) == b"".join(large)
        assert spooled.size == len(b"".join(large))
        assert spooled.sha256() == hashlib.sha256(b"".join(large)).hexdigest()
    finally:
        spooled.close()


def test_a_file_that_fails_as_it_is_spooled_leaves_no_file_open() -> None:
    def failing() -> Iterator[bytes]:
        yield b"x" * SPOOLED_FROM
        raise ValueError("the events give no such file")

    before = open_descriptors()
    with pytest.raises(ValueError) as raised:
        packet_file(failing())

    # The exception's frames (held by ``raised``) still hold the spool: it was closed.
    assert raised.traceback
    assert open_descriptors() == before


def open_descriptors() -> int:
    return sum(1 for _ in Path("/proc/self/fd").iterdir())
