"""What each leaf of sealtrail's Merkle log commits to.

A leaf names one event and when the store recorded it: its log position, its stream's id, its
version within the stream, the server's recording time (microseconds, UTC) and its chain hash
(which covers the author's signed bytes, the signature and the previous event's hash). The leaf's
data is the RFC 8785 form of those fields; the tree hashes it as RFC 6962 leaf data.

Putting the recording time inside the hashed leaf, not beside it, means a checkpoint fixes when
each event was recorded (Sigstore's integratedTime, kept outside its leaves, is mutable).
"""

from __future__ import annotations

import json
import re

from signatures.canonical import LARGEST_EXACT_INTEGER, canonicalize

LEAF_FORMAT = "sealtrail/event-leaf/v1"

_WRITTEN_AS_IS = re.compile(r"[ !#-\[\]-~]*")
"""Text JSON writes between its quotes unchanged: printable ASCII but ``"`` and ``\\`` (RFC 8785
and ``json.dumps`` escape those two and the control characters, and nothing else of ASCII)."""


def event_leaf(
    *, position: int, stream_id: str, version: int, recorded_at: str, event_hash: str
) -> bytes:
    """The leaf data of one event (hash it with :func:`signatures.merkle.leaf_hash`).

    The fields are two integers and four strings under fixed ASCII keys, which ``json.dumps``
    writes exactly as RFC 8785 does when the integers are exact in a double (the conditions of
    :func:`signatures.canonical.canonicalize`, checked here directly rather than by walking the
    value: ``verify`` makes one leaf per event). Anything else goes through ``canonicalize``.

    The leaf a store makes (hex ids and hashes, a recording time in digits) is written directly:
    with the keys in sorted order, integers as ``int`` writes them and each string in quotes as
    it is, which is what ``json.dumps`` writes when no string holds a character JSON escapes
    (:data:`_WRITTEN_AS_IS`; a string holding one is left to ``json.dumps``).
    """
    exact = (
        type(position) is int
        and type(version) is int
        and -LARGEST_EXACT_INTEGER <= position <= LARGEST_EXACT_INTEGER
        and -LARGEST_EXACT_INTEGER <= version <= LARGEST_EXACT_INTEGER
        and type(stream_id) is str
        and type(recorded_at) is str
        and type(event_hash) is str
    )
    if (
        exact
        and _WRITTEN_AS_IS.fullmatch(stream_id)
        and _WRITTEN_AS_IS.fullmatch(recorded_at)
        and _WRITTEN_AS_IS.fullmatch(event_hash)
    ):
        return (
            f'{{"event_hash":"{event_hash}","format":"{LEAF_FORMAT}","position":{position},'
            f'"recorded_at":"{recorded_at}","stream_id":"{stream_id}","version":{version}}}'
        ).encode("ascii")
    leaf = {
        "format": LEAF_FORMAT,
        "position": position,
        "stream_id": stream_id,
        "version": version,
        "recorded_at": recorded_at,
        "event_hash": event_hash,
    }
    if exact:
        try:
            return json.dumps(
                leaf, ensure_ascii=False, sort_keys=True, separators=(",", ":")
            ).encode("utf-8")
        except UnicodeError:
            pass  # a lone surrogate: canonicalize says so
    return canonicalize(leaf)
