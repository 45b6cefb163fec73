"""A packet's long files (events, proofs, withheld leaves) are spooled to disk as the log is read,
and must give the zip and the manifest exactly what the same bytes held in memory give."""

from __future__ import annotations

import random
import zipfile
from datetime import UTC, datetime
from io import BytesIO

from infrastructure.packets.archive import (
    CHUNK,
    Manifest,
    ManifestSigner,
    SpooledFile,
    sha256,
    write_zip,
)

DATED = datetime(2026, 12, 5, 1, 2, 3, tzinfo=UTC)


def lines_of(count: int) -> list[str]:
    # Text that deflates unevenly (some repeats, some noise), across several chunks and with
    # line ends falling anywhere in them: the case where cutting deflate's input could show.
    noise = random.Random(21)
    return [
        f'{{"leaf_index":{i},"state":"{noise.randbytes(noise.randrange(0, 300)).hex()}é"}}'
        for i in range(count)
    ]


def spooled(lines: list[str]) -> SpooledFile:
    file = SpooledFile()
    for line in lines:
        file.write_line(line)
    return file


def test_a_spooled_file_zips_and_digests_as_its_bytes_do() -> None:
    lines = lines_of(12_000)
    content = "".join(line + "\n" for line in lines).encode("utf-8")
    assert len(content) > 3 * CHUNK
    file = spooled(lines)
    try:
        assert (file.size, file.sha256()) == (len(content), sha256(content))
        in_memory = write_zip({"a.txt": b"first\n", "log/events.jsonl": content}, DATED)
        streamed = write_zip({"a.txt": b"first\n", "log/events.jsonl": file}, DATED)
        assert streamed == in_memory
        # Read back twice (the manifest, then the zip): the second read starts from the start.
        assert write_zip({"log/events.jsonl": file}, DATED) == write_zip(
            {"log/events.jsonl": content}, DATED
        )
        with zipfile.ZipFile(BytesIO(streamed)) as archive:
            assert archive.read("log/events.jsonl") == content
    finally:
        file.close()


def test_a_manifest_lists_a_spooled_file_as_its_bytes() -> None:
    lines = lines_of(50)
    content = "".join(line + "\n" for line in lines).encode("utf-8")
    file = spooled(lines)
    signer = ManifestSigner("sponsor", "Sponsor", "k1")
    described = {
        "study": "NCT01297972",
        "origin": "sealtrail",
        "tree_size": 50,
        "root": "cm9vdA==",
        "sealed_at": "2026-12-05T01:02:03Z",
        "server_key_id": "k0",
        "signer": signer,
    }
    try:
        assert (
            Manifest.of({"log/events.jsonl": file}, **described).body()
            == Manifest.of({"log/events.jsonl": content}, **described).body()
        )
    finally:
        file.close()


def test_an_empty_spooled_file_is_an_empty_entry() -> None:
    file = SpooledFile()
    try:
        assert (file.size, file.sha256()) == (0, sha256(b""))
        assert write_zip({"log/withheld-leaves.jsonl": file}, DATED) == write_zip(
            {"log/withheld-leaves.jsonl": b""}, DATED
        )
    finally:
        file.close()
