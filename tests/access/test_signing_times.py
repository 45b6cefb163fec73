"""A signature's meaning and time mean what they say (21 CFR 11.50), checked on the way in.

Review, approval and responsibility are given only through the signing ceremony; an ordinary
entry is its author's (authorship). A signing time before the signer's key took effect, or
longer before the server's time than the signing window (``SEALTRAIL_SIGNING_WINDOW_SECONDS``,
an hour by default), is refused, and nothing is recorded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from domain.account import Role
from domain.wire import instant_to_wire
from infrastructure.bootstrap import Store
from infrastructure.errors import ConfigurationError
from infrastructure.settings import Settings
from tests.access.conftest import assert_problem, make_person
from tests.conftest import Person, new_store, screening
from tests.e2e.conftest import Site

NCT = "NCT01297972"


@pytest.fixture
def coordinator(store: Store) -> Person:
    return make_person(store, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))


def nothing_recorded(store: Store) -> bool:
    return store.app.find_subject(f"{NCT}/RP-101") is None


@pytest.mark.parametrize("meaning", ["review", "approval", "responsibility"])
def test_an_ordinary_entry_signed_with_a_ceremony_meaning_is_refused(
    store: Store, coordinator: Person, meaning: str
) -> None:
    body = coordinator.body("RP-101", "Screened", screening(), meaning=meaning)

    response = Site(store).submit(coordinator, "Screened", {}, body=body)

    problem = assert_problem(response, 422, detail="signing ceremony")
    assert problem["type"] == "urn:sealtrail:problem:meaning-invalid"
    assert nothing_recorded(store)


def test_a_batch_entry_signed_with_a_ceremony_meaning_is_refused(
    store: Store, coordinator: Person
) -> None:
    site = Site(store)
    body = coordinator.body("RP-101", "Screened", screening(), meaning="approval")

    response = site.client.post(
        "/v1/events/batch",
        json=[{"event": body, "signature": coordinator.sign(body)}],
        headers=site.auth(coordinator),
    )

    problem = assert_problem(response, 422, detail="submission 0")
    assert problem["type"] == "urn:sealtrail:problem:meaning-invalid"
    assert nothing_recorded(store)


def signed_ago(person: Person, ago: timedelta) -> dict[str, object]:
    signed_at = (datetime.now(UTC) - ago).replace(microsecond=0)
    return person.body("RP-101", "Screened", screening(), signed_at=instant_to_wire(signed_at))


def store_with_window(settings: Settings, seconds: int) -> Iterator[Store]:
    opened = new_store(dataclasses.replace(settings, signing_window_seconds=seconds))
    try:
        yield opened
    finally:
        opened.close()


WINDOW = timedelta(seconds=60)
"""A window shorter than the clock allowance (five minutes), so that a key registered by the
test a moment ago is not what refuses a signature of a minute ago."""


@pytest.fixture
def minute_window(store_settings: Settings) -> Iterator[Store]:
    yield from store_with_window(store_settings, int(WINDOW.total_seconds()))


@pytest.fixture
def wide_window(store_settings: Settings) -> Iterator[Store]:
    """A store whose signing window reaches back thirty years."""
    yield from store_with_window(store_settings, 30 * 366 * 86400)


def test_a_signature_at_the_edge_of_the_signing_window_is_accepted(minute_window: Store) -> None:
    person = make_person(minute_window, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
    site = Site(minute_window)
    site.token(person)  # signed in first: the window runs from the signature to the write
    # The window's edge, less the few seconds the write may take on a loaded machine.
    body = signed_ago(person, WINDOW - timedelta(seconds=5))

    response = site.submit(person, "Screened", {}, body=body)

    assert response.status_code == 201, response.get_data(as_text=True)


@pytest.mark.requirement("P11-11.10h-2")
def test_a_signature_older_than_the_signing_window_is_refused(minute_window: Store) -> None:
    person = make_person(minute_window, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
    body = signed_ago(person, WINDOW + timedelta(seconds=2))

    response = Site(minute_window).submit(person, "Screened", {}, body=body)

    problem = assert_problem(response, 422, detail="the signing window")
    assert problem["type"] == "urn:sealtrail:problem:signing-time-invalid"
    assert nothing_recorded(minute_window)


def test_the_default_signing_window_refuses_a_signature_of_yesterday(
    store: Store, coordinator: Person
) -> None:
    body = signed_ago(coordinator, timedelta(days=1))

    response = Site(store).submit(coordinator, "Screened", {}, body=body)

    assert_problem(response, 422, title="Signing time invalid")
    assert nothing_recorded(store)


def test_a_signature_dated_before_the_key_took_effect_is_refused(wide_window: Store) -> None:
    person = make_person(wide_window, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
    body = person.body("RP-101", "Screened", screening(), signed_at="1999-01-01T00:00:00Z")

    response = Site(wide_window).submit(person, "Screened", {}, body=body)

    problem = assert_problem(response, 422, detail="before the key")
    assert problem["type"] == "urn:sealtrail:problem:signing-time-invalid"
    assert nothing_recorded(wide_window)


def test_the_signing_window_is_read_from_the_environment(tmp_path: object) -> None:
    base = {"SEALTRAIL_HOME": str(tmp_path)}

    assert Settings.from_environ(base).signing_window_seconds == 3600
    configured = {**base, "SEALTRAIL_SIGNING_WINDOW_SECONDS": "86400"}
    assert Settings.from_environ(configured).signing_window_seconds == 86400
    for wrong in ("0", "-5", "an hour", "1.5"):
        with pytest.raises(ConfigurationError, match="SEALTRAIL_SIGNING_WINDOW_SECONDS"):
            Settings.from_environ({**base, "SEALTRAIL_SIGNING_WINDOW_SECONDS": wrong})
