"""Files written in memory and given a chunk at a time (:func:`projections.csv_file.csv_chunks`,
the audit trail's JSON): a reader that digests them, a packet's verifier, never holds one whole.
"""

from __future__ import annotations

import io

CHUNK = 1024**2
"""About how many bytes a writer holds before it gives them (read when it writes, so that a
test may make it small)."""


def full(buffer: io.BytesIO) -> bool:
    """Whether the buffer holds a chunk to give."""
    return buffer.tell() >= CHUNK


def drained(buffer: io.BytesIO) -> bytes:
    """What the buffer holds, the buffer emptied to be written again from its start."""
    written = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return written
