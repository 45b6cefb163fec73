"""A packet's zip read as a hostile one (issue 15, point 12).

``packet verify --no-documents`` still holds the packet to exactly the files its events give
(an extra PDF, even listed in a manifest signed again with the sponsor's key, is a finding);
bytes before the first entry or after the end record are refused; a zip bomb is refused
from the sizes it declares, before any memory is spent inflating it; and a zip within the bound
is read an entry and a chunk at a time, never a whole file where a line or a digest will do
(measured).
"""

from __future__ import annotations

import io
import random
import struct
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from infrastructure.identity.sponsor_key import PRIVATE_KEY_FILE
from infrastructure.packets.archive import MAX_INFLATION, READ_CHUNK, PacketZip, split_lines
from infrastructure.packets.build import build_packet
from infrastructure.packets.verify import (
    PacketReport,
    _differing_line,
    _first_difference,
    _text_lines,
    verify_packet,
)
from signatures.keys import private_key_from_pem
from tests.conftest import make_settings, new_store, open_person
from tests.packets.conftest import BuiltPacket, tampered
from tests.packets.test_packet_store import followed_subject
from tests.packets.zips import zip_near_the_bound

ZEROS = 100 * 1024**2
"""What each bomb unpacks to: 100 MiB of zeros, about 100 KiB deflated."""


def memory_bound(size: int) -> int:
    """Peak memory a hostile zip may cost the verifier: twice itself and a few MiB (chunks of
    inflated output and the inflater's window), never what it would unpack to (100 MiB)."""
    return 2 * size + 4 * 1024**2


def kinds(report: PacketReport) -> list[tuple[str, str | None]]:
    return [(finding.kind, finding.file) for finding in report.findings]


@pytest.fixture(scope="module")
def packet_with_documents(
    tmp_path_factory: pytest.TempPathFactory,
) -> BuiltPacket:
    """A followed subject's packet with its PDFs, and the sponsor's key that signed it."""
    home = tmp_path_factory.mktemp("documents")
    store = new_store(make_settings(home))
    try:
        followed_subject(store, open_person)
        data = build_packet(store, documents=True)
        key = private_key_from_pem((store.settings.keys_dir / PRIVATE_KEY_FILE).read_bytes())
    finally:
        store.close()
    return BuiltPacket(data, Path(home), key)


def test_without_redrawing_an_extra_pdf_listed_in_a_resigned_manifest_is_a_finding(
    packet_with_documents: BuiltPacket,
) -> None:
    extra = "reports/instructions.pdf"
    forged = tampered(packet_with_documents, {extra: b"%PDF-1.7\n%evil\n"}, resign=True)

    assert verify_packet(packet_with_documents.data, redraw_documents=False).findings == []
    report = verify_packet(forged, redraw_documents=False)

    assert kinds(report) == [("file-unexpected", extra)]


def test_without_redrawing_a_pdf_removed_from_packet_and_manifest_is_a_finding(
    packet_with_documents: BuiltPacket,
) -> None:
    pdfs = sorted(p for p in packet_with_documents.files() if p.endswith(".pdf"))
    forged = tampered(packet_with_documents, {pdfs[0]: None}, resign=True)

    report = verify_packet(forged, redraw_documents=False)

    assert kinds(report) == [("derived-missing", pdfs[0])]


def test_bytes_before_the_first_entry_are_refused(demo_packet: BuiltPacket) -> None:
    report = verify_packet(b"MZ" + b"\0" * 510 + demo_packet.data, redraw_documents=False)

    assert kinds(report) == [("packet-unreadable", None)]
    assert "before its first entry" in report.findings[0].detail


def test_bytes_after_the_end_record_are_refused(demo_packet: BuiltPacket) -> None:
    report = verify_packet(demo_packet.data + b"hidden", redraw_documents=False)

    assert kinds(report) == [("packet-unreadable", None)]
    assert "after its end record" in report.findings[0].detail


def zip_of_zeros(name: str = "datasets/LB.csv") -> bytes:
    """A zip whose one entry is ZEROS zero bytes, written in chunks (never all in memory)."""
    buffer = io.BytesIO()
    chunk = bytes(1024**2)
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open(name, "w") as entry,
    ):
        for _ in range(ZEROS // len(chunk)):
            entry.write(chunk)
    return buffer.getvalue()


def peak_while(data: bytes) -> tuple[PacketReport, int]:
    tracemalloc.start()
    try:
        report = verify_packet(data, redraw_documents=False)
        return report, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_zip_bomb_is_refused_before_it_costs_more_memory_than_itself() -> None:
    bomb = zip_of_zeros()
    assert len(bomb) < ZEROS // 500

    report, peak = peak_while(bomb)

    assert kinds(report) == [("packet-unreadable", None)]
    assert "zip bomb" in report.findings[0].detail
    assert peak < memory_bound(len(bomb)), peak


def test_a_zip_bomb_that_understates_its_size_inflates_no_further_than_it_says() -> None:
    bomb = bytearray(zip_of_zeros())
    said = 1000
    # The uncompressed size in the local header (offset 22) and the central directory's
    # (offset 24 of its record): the entry claims to inflate to 1000 bytes.
    struct.pack_into("<I", bomb, 22, said)
    central = bytes(bomb).rfind(b"PK\x01\x02")
    struct.pack_into("<I", bomb, central + 24, said)

    report, peak = peak_while(bytes(bomb))

    assert ("file-unreadable", "datasets/LB.csv") in kinds(report)
    assert peak < memory_bound(len(bomb)), peak


def test_the_demonstration_packet_unpacks_well_within_the_bound(demo_packet: BuiltPacket) -> None:
    with zipfile.ZipFile(io.BytesIO(demo_packet.data)) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())

    assert unpacked < MAX_INFLATION / 2 * len(demo_packet.data)


NEAR_THE_BOUND = 40 * 1024**2
"""What the zip below unpacks to: 40 MiB, 48 times its own size."""


def test_a_zip_near_the_bound_is_read_a_chunk_at_a_time_not_a_file_at_a_time() -> None:
    packet = zip_near_the_bound(NEAR_THE_BOUND)
    with zipfile.ZipFile(io.BytesIO(packet)) as archive:
        (entry,) = archive.infolist()
    assert MAX_INFLATION * 0.9 < entry.file_size / len(packet) < MAX_INFLATION

    report, peak = peak_while(packet)

    # Not refused (it is within the bound), every entry digested: it is simply no packet.
    assert ("manifest-missing", "manifest.json") in kinds(report)
    assert report.files == 1
    # The zip's size and a few chunks: the entry (40 MiB) is never held whole.
    assert peak < 2 * len(packet) + 8 * READ_CHUNK < entry.file_size / 4, peak


def test_a_file_read_line_by_line_gives_the_lines_of_the_whole() -> None:
    chosen = random.Random(12)
    for _ in range(20_000):
        whole = bytes(chosen.choice(b"ab\r\n\x85") for _ in range(chosen.randrange(30)))
        cuts = sorted(chosen.randrange(len(whole) + 1) for _ in range(chosen.randrange(6)))
        chunks = [whole[a:b] for a, b in zip([0, *cuts], [*cuts, len(whole)], strict=True)]
        for keepends in (False, True):
            assert list(split_lines(chunks, keepends=keepends)) == whole.splitlines(keepends)


def test_a_file_whose_lines_end_oddly_is_read_as_the_whole_of_it_splits() -> None:
    text = "a\u2028b\r\nc\x85\rd\x85\n\ne\u2029"
    whole = text.encode("utf-8") + b"\xe2\x82\nf"
    packet = io.BytesIO()
    with zipfile.ZipFile(packet, "w") as archive:
        archive.writestr("log/events.jsonl", whole)

    with PacketZip(packet.getvalue()) as opened:
        lines = list(_text_lines(opened, "log/events.jsonl"))

    assert lines == whole.decode("utf-8", "replace").splitlines()


def test_a_differing_line_is_quoted_both_ways_unless_too_long_to_quote() -> None:
    assert (
        _differing_line(3, b"a,1", b"a,\xc3\xa9") == "line 3 is 'a,1'; the events give 'a,\u00e9'"
    )
    assert _differing_line(3, b"x" * 400, b"a,1") == "line 3 differs"
    assert _differing_line(3, b"a,1", b"x" * 400) == "line 3 differs"


def first_difference_of_whole_files(found: bytes, expected: bytes) -> str:
    """How a derived-mismatch was told when the packet's file was read whole."""
    found_lines, expected_lines = found.splitlines(), expected.splitlines()
    for number, (a, b) in enumerate(zip(found_lines, expected_lines, strict=False), start=1):
        if a != b:
            return _differing_line(number, a, b)
    return f"it has {len(found_lines)} lines; the events give {len(expected_lines)}"


def test_a_derived_file_read_line_by_line_differs_where_the_whole_did() -> None:
    chosen = random.Random(11)
    expected = b"".join(
        chosen.choice([b"a,1\r\n", b"b,2\r\n", b"x" * 500 + b"\n"]) for _ in range(9)
    )
    for _ in range(3_000):
        lines = expected.splitlines(keepends=True)
        for _ in range(chosen.randrange(3)):
            at = chosen.randrange(len(lines) + 1)
            edit = chosen.choice(["drop", "add", "change"])
            if edit == "drop" and lines:
                lines.pop(min(at, len(lines) - 1))
            elif edit == "add":
                lines.insert(at, b"c,3\r\n")
            elif lines:
                lines[min(at, len(lines) - 1)] = b"y" * chosen.choice([3, 450]) + b"\n"
        found = b"".join(lines)
        chunk = chosen.randrange(1, 64)
        chunks = [found[i : i + chunk] for i in range(0, len(found), chunk)]

        told = _first_difference(split_lines(chunks), expected)

        assert told == first_difference_of_whole_files(found, expected)
