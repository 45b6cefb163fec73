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
