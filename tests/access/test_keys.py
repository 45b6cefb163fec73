"""Keys: verification with the key valid when the event was recorded; rotation keeps old events
verifiable; a revocation takes effect at its stated instant, refusing later writes, and any
stored later event is a finding of ``sealtrail verify``."""

from __future__ import annotations

import copy
import time
from datetime import UTC, datetime, timedelta

import pytest

from api.schemas.submissions import submission_from
from domain.account import Role
from domain.authorship import Authorship, authored
from domain.errors import KeyAlreadyRevoked, KeyEndPassed, KeyNotRegistered, ReasonNotStated
from infrastructure.application.commands import RecordEvent, RevokeKey, RotateKey
from infrastructure.bootstrap import Store
from signatures.errors import KeyNotValid, UnknownKey
from tests.access.conftest import (
    Admin,
    administer,
    assert_problem,
    make_admin,
    make_person,
    new_key,
)
from tests.conftest import Person, consent, screening
from tests.e2e.conftest import Site


@pytest.fixture
def coordinator(timed: Store) -> Person:
    return make_person(timed, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))


@pytest.fixture
def any_admin(timed: Store) -> Admin:
    return make_admin(timed)


def findings(store: Store) -> list[tuple[str | None, int | None, str]]:
    return [(f.stream, f.version, f.kind) for f in store.verifier(workers=1).verify().findings]


def wait_until(moment: datetime) -> None:
    """Sleep until the clock has passed ``moment``."""
    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()) + 0.01)


def revoke(
    store: Store, person: Person, admin: Admin, *, at: datetime | None, reason: str = "lost"
) -> None:
    """The administrator revokes the person's key from ``at`` (None: the next whole second)."""
    store.administration.revoke_key(
        RevokeKey(user_id=person.user_id, key_id=person.key_id, revoked_at=at, reason=reason),
        by=admin.signatory,
    )


def test_a_rotation_now_takes_effect_at_the_next_whole_second_after_the_events_before_it(
    timed: Store, coordinator: Person, any_admin: Admin
) -> None:
    first = coordinator.record(timed, "RP-101", "Screened", screening())

    timed.administration.rotate_key(
        RotateKey(user_id="coord1", old_key_id=coordinator.key_id, public_key=new_key()[1]),
        by=any_admin.signatory,
    )

    end = timed.app.account("coord1").keys[coordinator.key_id].revoked_at
    assert end is not None and end.microsecond == 0
    assert end > datetime.fromisoformat(first["server_time"])
    # The event recorded just before, in the same second as the rotation, stays valid.
    assert findings(timed) == []


def test_a_revocation_now_takes_effect_at_the_next_whole_second(
    timed: Store, coordinator: Person, any_admin: Admin
) -> None:
    coordinator.record(timed, "RP-101", "Screened", screening())
    before = datetime.now(UTC)

    revoke(timed, coordinator, any_admin, at=None, reason="lost")
    after = datetime.now(UTC)

    end = timed.app.account("coord1").keys[coordinator.key_id].revoked_at
    # The whole second after the moment the revocation was made, which lies between the two
    # readings (a slow database under load may carry the call across a second's boundary).
    assert end is not None and end.microsecond == 0
    second = timedelta(seconds=1)
    assert before.replace(microsecond=0) + second <= end <= after.replace(microsecond=0) + second
    assert findings(timed) == []


def test_a_write_checked_against_an_account_loaded_before_a_revocation_is_refused(
    timed: Store, coordinator: Person, any_admin: Admin
) -> None:
    # The account as a server worker loaded it to authenticate the request, before another
    # process revoked the key: the store must not admit the write on that stale copy.
    loaded_at_authentication = copy.deepcopy(timed.app.account("coord1"))
    revoke(timed, coordinator, any_admin, at=None, reason="lost")
    wait_until(timed.app.account("coord1").keys[coordinator.key_id].revoked_at)
    body = coordinator.body("RP-101", "Screened", screening())

    with pytest.raises(KeyNotValid, match="revoked at"):
        timed.records.record(
            RecordEvent(
                submission=submission_from(body, coordinator.sign(body)), actor_id="coord1"
            ),
            actor=loaded_at_authentication,
        )
    assert findings(timed) == []
    assert timed.app.find_subject("NCT01297972/RP-101") is None


def test_a_key_end_already_past_is_refused_unless_stated_as_retroactive(
    timed: Store, admin: Admin
) -> None:
    person = make_person(timed, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
    past = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    account = timed.app.account("coord1", to_change=True)

    with pytest.raises(KeyEndPassed), authored(Authorship("{}", "")):
        account.revoke_key(key_id=person.key_id, revoked_at=past, reason="lost")
    with pytest.raises(KeyEndPassed), authored(Authorship("{}", "")):
        account.rotate_key(
            old_key_id=person.key_id,
            key_id=new_key()[2],
            public_key=new_key()[1],
            rotated_at=past,
        )
    revoke(timed, person, admin, at=past, reason="lost")

    (revoked,) = [
        r.event for r in timed.reads.account_history("coord1") if r.event.kind() == "KeyRevoked"
    ]
    assert revoked.authorship.body()["data"]["retroactive"] is True


@pytest.mark.requirement("P11-11.300c-1")
def test_rotation_keeps_old_events_verifiable_and_the_new_key_signs_from_then_on(
    timed: Store, coordinator: Person, any_admin: Admin
) -> None:
    coordinator.record(timed, "RP-101", "Screened", screening())
    old_key = coordinator.private_key
    private_key, public_key, new_id = new_key()

    rotated = timed.administration.rotate_key(
        RotateKey(user_id="coord1", old_key_id=coordinator.key_id, public_key=public_key),
        by=any_admin.signatory,
    )
    wait_until(timed.app.account("coord1").keys[new_id].valid_from)
    coordinator.private_key = private_key
    coordinator.record(timed, "RP-101", "ConsentObtained", consent())
    coordinator.private_key = old_key

    assert rotated == new_id
    with pytest.raises(KeyNotValid, match="was not valid"):
        coordinator.record(timed, "RP-102", "Screened", screening())
    assert findings(timed) == []
    keys = timed.app.account("coord1").keys
    assert keys[coordinator.key_id].revoked_at == keys[new_id].valid_from


def test_a_revocation_in_the_future_takes_effect_at_its_stated_instant(
    timed: Store, admin: Admin
) -> None:
    person = make_person(timed, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
    at = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
    revoke(timed, person, admin, at=at, reason="leaving")

    person.record(timed, "RP-101", "Screened", screening())
    time.sleep(max(0.0, (at - datetime.now(UTC)).total_seconds()) + 0.2)

    with pytest.raises(KeyNotValid, match="revoked at"):
        person.record(timed, "RP-102", "Screened", screening())
    assert findings(timed) == []


@pytest.mark.requirement("P11-11.300c-1")
def test_a_revocation_dated_before_stored_events_makes_each_of_them_a_finding(
    timed: Store, admin: Admin
) -> None:
    person = make_person(timed, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
    person.record(timed, "RP-101", "Screened", screening())
    time.sleep(1.1)
    compromised_at = datetime.now(UTC).replace(microsecond=0)
    time.sleep(1.1)
    person.record(timed, "RP-101", "ConsentObtained", consent())

    revoke(timed, person, admin, at=compromised_at, reason="key found on a shared drive")

    # Recorded while the key was in force, disowned afterwards: named as such, not as an
    # event the store should have refused.
    assert findings(timed) == [("NCT01297972/RP-101", 2, "key-revoked-retroactively")]


@pytest.mark.requirement("P11-11.300c-1")
def test_a_write_with_a_revoked_key_is_refused_over_the_api(
    timed: Store, site_client: Site, admin: Admin
) -> None:
    person = make_person(timed, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
    # Stated to the second, as revocations are signed: the current second, already begun.
    revoke(timed, person, admin, at=datetime.now(UTC), reason="lost")

    response = site_client.submit(person, "Screened", screening())

    assert_problem(response, 422, detail="disowned retroactively")


def test_a_key_is_revoked_once_and_never_rotated_after(timed: Store, admin: Admin) -> None:
    person = make_person(timed, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
    revoke(timed, person, admin, at=None, reason="lost")

    with pytest.raises(KeyAlreadyRevoked):
        timed.administration.revoke_key(
            RevokeKey(user_id="coord1", key_id=person.key_id, revoked_at=None, reason="x"),
            by=admin.signatory,
        )
    with pytest.raises(KeyAlreadyRevoked):
        timed.administration.rotate_key(
            RotateKey(user_id="coord1", old_key_id=person.key_id, public_key=new_key()[1]),
            by=admin.signatory,
        )


def test_an_unknown_key_cannot_be_revoked_or_rotated(timed: Store, admin: Admin) -> None:
    make_person(timed, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
    unknown = new_key()[2]

    with pytest.raises(KeyNotRegistered):
        timed.administration.revoke_key(
            RevokeKey(user_id="coord1", key_id=unknown, revoked_at=None, reason="x"),
            by=admin.signatory,
        )
    with pytest.raises(KeyNotRegistered):
        timed.administration.rotate_key(
            RotateKey(user_id="coord1", old_key_id=unknown, public_key=new_key()[1]),
            by=admin.signatory,
        )


def test_keys_are_rotated_and_revoked_over_the_api(site_client: Site, admin: Admin) -> None:
    person = make_person(site_client.store, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
    _, public_key, new_id = new_key()
    soon = (datetime.now(UTC) + timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    past = (datetime.now(UTC) - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")

    rotated = administer(
        site_client,
        admin,
        admin.signed(
            "coord1",
            "KeyRotated",
            {
                "old_key_id": person.key_id,
                "key_id": new_id,
                "public_key": public_key,
                "rotated_at": soon,
            },
        ),
    )
    revoked = administer(
        site_client,
        admin,
        admin.signed(
            "coord1",
            "KeyRevoked",
            {"key_id": new_id, "revoked_at": past, "reason": "x", "retroactive": True},
        ),
    )
    unknown = administer(
        site_client,
        admin,
        admin.signed(
            "coord1",
            "KeyRevoked",
            {"key_id": new_key()[2], "revoked_at": soon, "reason": "x"},
        ),
    )

    assert rotated.status_code == 201, rotated.get_data(as_text=True)
    assert revoked.status_code == 201, revoked.get_data(as_text=True)
    assert_problem(unknown, 404, title="Key not registered")


@pytest.mark.parametrize(
    ("seconds_from_now", "reason", "title"),
    [(-30, "x", "Key end already passed"), (30, "\u200b \u2800", "Reason not stated")],
    ids=["past-without-retroactive", "reason-shows-nothing"],
)
def test_a_revocation_refused_over_the_api_records_nothing(
    site_client: Site, admin: Admin, seconds_from_now: int, reason: str, title: str
) -> None:
    person = make_person(site_client.store, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
    at = datetime.now(UTC) + timedelta(seconds=seconds_from_now)
    before = len(site_client.store.reads.account_history("coord1"))

    response = administer(
        site_client,
        admin,
        admin.signed(
            "coord1",
            "KeyRevoked",
            {
                "key_id": person.key_id,
                "revoked_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "reason": reason,
            },
        ),
    )

    assert_problem(response, 422, title=title)
    assert len(site_client.store.reads.account_history("coord1")) == before


def test_a_key_event_whose_key_id_is_not_its_keys_is_refused(
    site_client: Site, admin: Admin
) -> None:
    make_person(site_client.store, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
    _, public_key, _ = new_key()
    other_id = new_key()[2]

    response = administer(
        site_client,
        admin,
        admin.signed(
            "coord1",
            "KeyRegistered",
            {
                "key_id": other_id,
                "public_key": public_key,
                "valid_from": "2011-01-01T00:00:00Z",
            },
        ),
    )

    assert_problem(response, 422, title="Key id does not match the key")


def test_an_event_signed_by_a_key_never_registered_is_refused(timed: Store, admin: Admin) -> None:
    person = make_person(timed, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
    person.private_key = new_key()[0]

    with pytest.raises(UnknownKey):
        person.record(timed, "RP-101", "Screened", screening())


@pytest.mark.parametrize("blank", ["", "   ", "\u200b\u2060", "\u3164 \t"])
def test_a_key_revoked_without_a_visible_reason_is_refused_and_records_nothing(
    timed: Store, admin: Admin, blank: str
) -> None:
    person = make_person(timed, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
    before = len(timed.reads.account_history("coord1"))

    with pytest.raises(ReasonNotStated):
        revoke(timed, person, admin, at=None, reason=blank)

    assert len(timed.reads.account_history("coord1")) == before
