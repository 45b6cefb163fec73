"""Attribution at the exact boundaries: a key's end, its start, and the signer's clock allowances.

Each test builds a real signed event (an Ed25519 signature over the canonical body) and the
signer's account, and runs :func:`domain.attribution.attribute`, the check the store runs on the
way in and every verifier runs again. The instants are placed exactly on the boundary and one
step beyond it, so that moving a boundary by any amount (``<`` to ``<=``, five minutes to
twelve hours) fails a test.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.account import Account, RegisteredKey, server_anchor
from domain.attribution import attribute
from domain.authorship import Authorship, authored
from domain.signed import SignedAggregate
from domain.wire import instant_to_wire
from signatures.authorship import sign_body
from signatures.errors import KeyNotValid, SigningTimeInvalid
from signatures.keys import generate_private_key, key_id, public_key_to_text
from tests.unit.subjects import events_of, screened, signed_by_someone

SIGNER = {"user_id": "coord1", "printed_name": "Ana Souza"}
PRIVATE_KEY = generate_private_key()
KEY_ID = key_id(PRIVATE_KEY.public_key())
ANCHOR = server_anchor(public_key_to_text(generate_private_key().public_key()))
MICROSECOND = timedelta(microseconds=1)
ALLOWANCE = timedelta(minutes=5)
"""The signer's clock allowance, written out: a test relative to the code's own constant would
follow it anywhere."""


def signed_screening(signed_at: datetime) -> SignedAggregate.Event:
    """A screening of RP-101 signed by coord1 at ``signed_at``, recorded now."""
    with contextmanager(signed_by_someone)():
        data = events_of(screened())[0].signed_data()
    body = {
        "study": "NCT01297972",
        "subject": "RP-101",
        "kind": "Screened",
        "data": data,
        "signer": SIGNER,
        "key_id": KEY_ID,
        "signed_at": instant_to_wire(signed_at),
        "meaning": "authorship",
    }
    with authored(Authorship(*sign_body(PRIVATE_KEY, body))):
        return events_of(screened())[0]


def coordinator(**key: Any) -> Account:
    """coord1's account holding the key, with the period of validity given."""
    with contextmanager(signed_by_someone)():
        account = Account.open(user_id="coord1", printed_name="Ana Souza")
    account.keys[KEY_ID] = RegisteredKey(
        KEY_ID, public_key_to_text(PRIVATE_KEY.public_key()), **key
    )
    return account


def attribute_with(event: SignedAggregate.Event, account: Account) -> None:
    attribute(event, {"coord1": account}.get, ANCHOR)


def long_ago() -> dict[str, datetime]:
    then = datetime(2011, 1, 1, tzinfo=UTC)
    return {"valid_from": then, "registered_at": then}


@pytest.fixture
def event() -> Iterator[SignedAggregate.Event]:
    yield signed_screening(datetime.now(UTC))


def test_a_key_is_not_valid_at_the_instant_of_its_revocation(
    event: SignedAggregate.Event,
) -> None:
    revoked_at_the_event = coordinator(**long_ago(), revoked_at=event.recorded_at)

    with pytest.raises(KeyNotValid, match="revoked at"):
        attribute_with(event, revoked_at_the_event)


def test_a_key_is_valid_until_the_instant_of_its_revocation(event: SignedAggregate.Event) -> None:
    attribute_with(event, coordinator(**long_ago(), revoked_at=event.recorded_at + MICROSECOND))


def test_a_key_is_valid_from_the_instant_it_takes_effect(event: SignedAggregate.Event) -> None:
    starts = event.recorded_at
    attribute_with(event, coordinator(valid_from=starts, registered_at=starts))

    later = event.recorded_at + MICROSECOND
    with pytest.raises(KeyNotValid, match="valid from"):
        attribute_with(event, coordinator(valid_from=later, registered_at=later))


def test_a_signer_clock_ahead_by_exactly_the_allowance_is_accepted() -> None:
    # Whole seconds, as signed: the latest signing time within five minutes of the recording.
    at_allowance = (datetime.now(UTC) + ALLOWANCE).replace(microsecond=0)
    attribute_with(signed_screening(at_allowance), coordinator(**long_ago()))


def test_a_signer_clock_ahead_by_more_than_the_allowance_is_refused() -> None:
    beyond = (datetime.now(UTC) + ALLOWANCE).replace(microsecond=0) + timedelta(seconds=2)

    with pytest.raises(SigningTimeInvalid, match="after the store recorded it"):
        attribute_with(signed_screening(beyond), coordinator(**long_ago()))


def test_a_signing_time_before_the_key_took_effect_is_refused() -> None:
    # The signer's clock may run behind the server's by the same allowance, not more.
    event = signed_screening(datetime(1999, 1, 1, tzinfo=UTC))
    with pytest.raises(SigningTimeInvalid, match="before the key"):
        attribute_with(event, coordinator(**long_ago()))


def test_a_signing_time_the_allowance_before_the_key_took_effect_is_the_earliest_accepted() -> None:
    signed_at = datetime.now(UTC).replace(microsecond=0) - ALLOWANCE
    event = signed_screening(signed_at)
    at_allowance = signed_at + ALLOWANCE  # the key took effect exactly the allowance later

    attribute_with(event, coordinator(valid_from=at_allowance, registered_at=at_allowance))
    beyond = at_allowance + MICROSECOND
    with pytest.raises(SigningTimeInvalid, match="before the key"):
        attribute_with(event, coordinator(valid_from=beyond, registered_at=beyond))
