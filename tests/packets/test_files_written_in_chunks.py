"""The largest derived files (the CDISC ODM, the audit trail's CSV and JSON) are written a chunk
at a time, so that a packet's verifier digests them as they come and never holds them whole
(docs/benchmarks-packet.md). Written in chunks, a file is the same bytes as written at once:
nothing is lost or repeated where one chunk ends and the next begins."""

from __future__ import annotations

import pytest

from infrastructure.documents import renderings
from infrastructure.packets.evidence import EVENTS
from infrastructure.packets.verify import verify_packet
from projections import csv_file
from projections.csv_file import csv_bytes, csv_chunks
from tests.packets.conftest import BuiltPacket

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
    monkeypatch.setattr(csv_file, "CHUNK", chunk)

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
    # The packet was built with the files written at once; verified with chunks of 100 bytes,
    # each of its audit trail's thousands of rows crosses a chunk's end.
    monkeypatch.setattr(csv_file, "CHUNK", 100)
    monkeypatch.setattr(renderings, "CHUNK", 100)

    report = verify_packet(demo_packet.data, redraw_documents=False)

    assert report.ok, report.findings
    assert report.events == len(demo_packet.files()[EVENTS].splitlines())


def test_a_file_that_differs_is_still_named_with_its_line_when_digested_in_chunks(
    demo_packet: BuiltPacket, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.packets.conftest import tampered

    path = "audit-trail/audit-trail.json"
    monkeypatch.setattr(renderings, "CHUNK", 100)
    lines = demo_packet.files()[path].split(b"\n")
    lines[40] = lines[40].replace(b'"', b"'", 1)

    report = verify_packet(
        tampered(demo_packet, {path: b"\n".join(lines)}, resign=True), redraw_documents=False
    )

    found = [f for f in report.findings if f.file == path]
    assert [f.kind for f in found] == ["derived-mismatch"]
    assert found[0].detail == "does not agree with the events: line 41 differs"
