"""What each leaf of sealtrail's Merkle log commits to.

A leaf names one event and when the store recorded it: its log position, its stream's id, its
version within the stream, the server's recording time (microseconds, UTC) and its chain hash
(which covers the author's signed bytes, the signature and the previous event's hash). The leaf's
data is the RFC 8785 form of those fields; the tree hashes it as RFC 6962 leaf data.

Putting the recording time inside the hashed leaf, not beside it, means a checkpoint fixes when
each event was recorded (Sigstore's integratedTime, kept outside its leaves, is mutable).
"""

from __future__ import annotations

from signatures.canonical import canonicalize

LEAF_FORMAT = "sealtrail/event-leaf/v1"


def event_leaf(
    *, position: int, stream_id: str, version: int, recorded_at: str, event_hash: str
) -> bytes:
    """The leaf data of one event (hash it with :func:`signatures.merkle.leaf_hash`)."""
    return canonicalize(
        {
            "format": LEAF_FORMAT,
            "position": position,
            "stream_id": stream_id,
            "version": version,
            "recorded_at": recorded_at,
            "event_hash": event_hash,
        }
    )
