"""The authentication half of a signing ceremony (21 CFR 11.200(a)(1)).

First signing of a continuous session: user id and password. Later ones in the same session:
the password only. After the inactivity timeout: both again. Every failure counts toward the
lockout, as a failed login does.
"""

from __future__ import annotations

import pytest

from domain.account import Role
from infrastructure.bootstrap import Store
from infrastructure.errors import (
    AccountLockedOut,
    AuthenticationFailed,
    SessionExpired,
    SigningComponentsRequired,
)
from tests.access.conftest import Clock, make_person
from tests.conftest import Person


@pytest.fixture
def investigator(timed: Store) -> Person:
    return make_person(timed, "inv1", role=Role.INVESTIGATOR, sites=("RP",))


@pytest.fixture
def session(timed: Store, investigator: Person) -> str:
    account = timed.access.authenticate("inv1", investigator.password, channel="token")
    return timed.access.open_session(account)


@pytest.mark.requirement("P11-11.200a-1")
def test_the_first_signing_of_a_session_needs_the_user_id_and_the_password(
    timed: Store, session: str, investigator: Person
) -> None:
    with pytest.raises(SigningComponentsRequired, match="needs your user id and password"):
        timed.access.authenticate_signing(session_id=session, password=investigator.password)

    signed = timed.access.authenticate_signing(
        session_id=session, user_id="inv1", password=investigator.password
    )

    assert signed.components == ("user_id", "password")
    assert signed.account.user_id == "inv1"
    assert signed.session_id == session


@pytest.mark.requirement("P11-11.200a-1")
def test_later_signings_in_the_same_session_need_the_password_only(
    timed: Store, clock: Clock, session: str, investigator: Person
) -> None:
    timed.access.authenticate_signing(
        session_id=session, user_id="inv1", password=investigator.password
    )
    clock.advance(minutes=9)

    second = timed.access.authenticate_signing(session_id=session, password=investigator.password)
    clock.advance(minutes=9)
    third = timed.access.authenticate_signing(session_id=session, password=investigator.password)

    assert second.components == third.components == ("password",)


@pytest.mark.requirement("P11-11.200a-1")
def test_after_the_inactivity_timeout_both_components_are_needed_again(
    timed: Store, clock: Clock, session: str, investigator: Person
) -> None:
    timed.access.authenticate_signing(
        session_id=session, user_id="inv1", password=investigator.password
    )
    clock.advance(minutes=10, seconds=1)

    with pytest.raises(SigningComponentsRequired):
        timed.access.authenticate_signing(session_id=session, password=investigator.password)
    again = timed.access.authenticate_signing(
        session_id=session, user_id="inv1", password=investigator.password
    )
    later = timed.access.authenticate_signing(session_id=session, password=investigator.password)

    assert again.components == ("user_id", "password")
    assert later.components == ("password",)


def test_any_request_in_the_session_keeps_the_signing_continuous(
    timed: Store, clock: Clock, session: str, investigator: Person
) -> None:
    timed.access.authenticate_signing(
        session_id=session, user_id="inv1", password=investigator.password
    )
    for _ in range(3):
        clock.advance(minutes=8)
        timed.access.resume_session(session, "inv1")

    signed = timed.access.authenticate_signing(session_id=session, password=investigator.password)

    assert signed.components == ("password",)


def test_a_wrong_password_at_signing_fails_and_counts_toward_the_lockout(
    timed: Store, session: str, investigator: Person
) -> None:
    for _ in range(3):
        with pytest.raises(AuthenticationFailed, match="wrong user id or password"):
            timed.access.authenticate_signing(
                session_id=session, user_id="inv1", password="not the password"
            )

    assert timed.app.account("inv1").locked
    with pytest.raises(AccountLockedOut):
        timed.access.authenticate_signing(
            session_id=session, user_id="inv1", password=investigator.password
        )
    assert [a.channel for a in timed.access.attempts("inv1")][:4] == ["signing"] * 4


def test_signing_and_login_failures_add_up(
    timed: Store, session: str, investigator: Person
) -> None:
    with pytest.raises(AuthenticationFailed):
        timed.access.authenticate("inv1", "not the password", channel="token")
    with pytest.raises(AuthenticationFailed):
        timed.access.authenticate_signing(
            session_id=session, user_id="inv1", password="not the password"
        )
    with pytest.raises(AuthenticationFailed):
        timed.access.authenticate("inv1", "not the password", channel="console")

    assert timed.app.account("inv1").locked


@pytest.mark.requirement("P11-11.200a-2")
def test_a_user_id_that_is_not_the_sessions_fails_and_counts(
    timed: Store, session: str, investigator: Person
) -> None:
    other = make_person(timed, "inv2", role=Role.INVESTIGATOR, sites=("RP",))

    with pytest.raises(AuthenticationFailed):
        timed.access.authenticate_signing(
            session_id=session, user_id="inv2", password=other.password
        )

    failure = timed.access.attempts("inv1")[0]
    assert (failure.channel, failure.outcome) == ("signing", "failed")
    assert "is not the session's" in failure.detail
    assert timed.access.attempts("inv2") == []


@pytest.mark.requirement("P11-11.200a-1")
def test_a_signing_in_an_ended_session_is_refused(
    timed: Store, session: str, investigator: Person
) -> None:
    timed.access.end_session(session)

    with pytest.raises(SessionExpired):
        timed.access.authenticate_signing(
            session_id=session, user_id="inv1", password=investigator.password
        )


def test_a_signing_in_an_unknown_session_is_refused(timed: Store, investigator: Person) -> None:
    with pytest.raises(SessionExpired):
        timed.access.authenticate_signing(
            session_id="0" * 32, user_id="inv1", password=investigator.password
        )


def test_every_signing_authentication_is_in_the_authentication_log(
    timed: Store, session: str, investigator: Person
) -> None:
    timed.access.authenticate_signing(
        session_id=session, user_id="inv1", password=investigator.password
    )
    timed.access.authenticate_signing(session_id=session, password=investigator.password)

    assert [(a.channel, a.outcome) for a in timed.access.attempts("inv1")][:2] == [
        ("signing", "succeeded"),
        ("signing", "succeeded"),
    ]


def test_a_page_is_told_which_components_the_next_signing_needs(
    timed: Store, clock: Clock, session: str, investigator: Person
) -> None:
    first = timed.access.signing_components(session)
    timed.access.authenticate_signing(
        session_id=session, user_id="inv1", password=investigator.password
    )
    later = timed.access.signing_components(session)
    clock.advance(minutes=10, seconds=1)
    after_a_pause = timed.access.signing_components(session)
    timed.access.end_session(session)

    assert first == after_a_pause == ("user_id", "password")
    assert later == ("password",)
    with pytest.raises(SessionExpired):
        timed.access.signing_components(session)
