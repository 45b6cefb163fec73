"""Zips crafted to unpack close to the bound a packet may unpack to
(:data:`infrastructure.packets.archive.MAX_INFLATION`): the zip hardening tests measure how one
is read, and ``benchmarks/packet_memory.py`` what verifying one costs."""

from __future__ import annotations

import io
import random
import zipfile


def zip_near_the_bound(size: int, name: str = "datasets/LB.csv") -> bytes:
    """A zip whose one entry, ``name``, unpacks to ``size`` bytes, 48 times its own size (just
    within the bound): 1 KiB of random bytes (from a fixed seed), then 55,000 zeros, over and
    over, written a block at a time."""
    chosen = random.Random(15)
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open(name, "w") as entry,
    ):
        written = 0
        while written < size:
            block = chosen.randbytes(1024) + bytes(55_000)
            entry.write(block)
            written += len(block)
    return buffer.getvalue()


def one_byte_changed(packet: bytes, name: str) -> bytes:
    """The packet with the middle byte of its file ``name`` changed, and nothing else: every
    other entry, the manifest and its signature as they were."""
    source = zipfile.ZipFile(io.BytesIO(packet))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == name:
                middle = len(content) // 2
                content = content[:middle] + bytes([content[middle] ^ 1]) + content[middle + 1 :]
            archive.writestr(info, content)
    return buffer.getvalue()


def zip_of(entries: dict[str, bytes]) -> bytes:
    """A zip of ``entries`` (name: content), deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()
