"""Properties of the chain hash, over inputs Hypothesis draws (issue 16.13).

docs/signing.md fixes the layout with one vector; these hold for every input: the hash is that
layout, a change of any one input changes it, and the in-order check ``sealtrail verify`` and
``sealtrail packet verify`` both run
(:func:`infrastructure.verification.log_checks.check_streams`) names the break where it is.
"""

from __future__ import annotations

import base64
import hashlib
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from infrastructure.verification.log_checks import EventFacts, check_streams
from signatures.chain import GENESIS_HASH, event_hash

STREAM = UUID(int=7)

hashes = st.binary(min_size=32, max_size=32)
bodies = st.binary(max_size=400)
signatures = st.binary(min_size=64, max_size=64)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@given(previous=hashes, body=bodies, signature=signatures)
def test_the_chain_hash_is_the_documented_layout_for_any_input(
    previous: bytes, body: bytes, signature: bytes
) -> None:
    by_hand = hashlib.sha256(
        b"sealtrail/chain/v1\x00" + previous + len(body).to_bytes(8, "big") + body + signature
    ).hexdigest()

    assert event_hash(previous.hex(), body, b64(signature)) == by_hand


@given(previous=hashes, other=hashes, body=bodies, signature=signatures)
def test_the_chain_hash_changes_with_the_previous_hash(
    previous: bytes, other: bytes, body: bytes, signature: bytes
) -> None:
    if other == previous:
        other = bytes([previous[0] ^ 1]) + previous[1:]

    assert event_hash(previous.hex(), body, b64(signature)) != event_hash(
        other.hex(), body, b64(signature)
    )


@given(previous=hashes, body=bodies, other=bodies, signature=signatures)
def test_the_chain_hash_changes_with_the_signed_body(
    previous: bytes, body: bytes, other: bytes, signature: bytes
) -> None:
    if other == body:
        other = body + b" "  # one byte longer: the length prefix changes too

    assert event_hash(previous.hex(), body, b64(signature)) != event_hash(
        previous.hex(), other, b64(signature)
    )


@given(previous=hashes, body=bodies, signature=signatures, other=signatures)
def test_the_chain_hash_changes_with_the_signature(
    previous: bytes, body: bytes, signature: bytes, other: bytes
) -> None:
    if other == signature:
        other = signature[:-1] + bytes([signature[-1] ^ 1])

    assert event_hash(previous.hex(), body, b64(signature)) != event_hash(
        previous.hex(), body, b64(other)
    )


# -- the in-order check verify runs names each change --------------------------------------------

Event = tuple[bytes, bytes]
"""An event's signed body and raw signature."""

events = st.lists(st.tuples(bodies, signatures), min_size=2, max_size=6)


def chained(stream: list[Event], previous_hashes: list[str] | None = None) -> list[EventFacts]:
    """The facts verify gathers of a stream stored as given: each event's stored previous hash
    (by default the honest one) and its chain hash computed from what is stored."""
    facts = []
    head = GENESIS_HASH
    for index, (body, signature) in enumerate(stream):
        previous = head if previous_hashes is None else previous_hashes[index]
        head = event_hash(previous, body, b64(signature))
        facts.append(EventFacts(index + 1, STREAM, index + 1, None, previous, head))
    return facts


def honest_previous_hashes(stream: list[Event]) -> list[str]:
    return [fact.previous_hash or "" for fact in chained(stream)]


def broken_at(facts: list[EventFacts]) -> list[tuple[int | None, str]]:
    return [(finding.position, finding.kind) for finding in check_streams(facts)]


@given(stream=events, data=st.data())
def test_verify_names_a_changed_previous_hash_at_its_event_and_the_next(
    stream: list[Event], data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, len(stream) - 1), label="event changed")
    stored = honest_previous_hashes(stream)
    new = data.draw(hashes.filter(lambda h: h.hex() != stored[at]), label="new previous hash")
    stored[at] = new.hex()

    found = broken_at(chained(stream, stored))

    # The event no longer links to its predecessor, and, its hash being another, its successor
    # no longer links to it.
    expected = [(at + 1, "chain-broken")] + (
        [(at + 2, "chain-broken")] if at + 1 < len(stream) else []
    )
    assert found == expected
    assert broken_at(chained(stream)) == []


@given(stream=events, data=st.data())
def test_verify_names_a_changed_signed_body_or_signature_at_the_next_event(
    stream: list[Event], data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, len(stream) - 2), label="event changed")
    body, signature = stream[at]
    if data.draw(st.booleans(), label="change the body (else the signature)"):
        changed = (data.draw(bodies.filter(lambda b: b != body), label="new body"), signature)
    else:
        new = data.draw(signatures.filter(lambda s: s != signature), label="new signature")
        changed = (body, new)
    stored = honest_previous_hashes(stream)  # the stored links, made before the change
    tampered = [*stream[:at], changed, *stream[at + 1 :]]

    assert broken_at(chained(tampered, stored)) == [(at + 2, "chain-broken")]
