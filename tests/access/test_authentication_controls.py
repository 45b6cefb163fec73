"""21 CFR 11.300: password rules, lockout, token expiry, inactivity, ageing, the attempt log."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import text

from api.http.auth import SALT
from domain.account import Account, Role
from infrastructure.application.commands import (
    LockAccount,
    OpenAccount,
    ResetPassword,
    UnlockAccount,
)
from infrastructure.application.policy import AccessPolicy
from infrastructure.bootstrap import Store, bootstrap
from infrastructure.errors import (
    AccountLockedOut,
    AuthenticationFailed,
    ConfigurationError,
    PasswordExpired,
    PasswordRejected,
    SessionExpired,
)
from infrastructure.identity.server_key import token_secret
from tests.access.conftest import (
    Admin,
    Clock,
    assert_problem,
    bearer,
    make_person,
    token_for,
)
from tests.conftest import Person
from tests.e2e.conftest import Site


@pytest.fixture
def monitor(timed: Store) -> Person:
    return make_person(timed, "mon1", role=Role.MONITOR, sites=("RP",))


def kinds(store: Store, user_id: str) -> list[str]:
    return [record.event.kind() for record in store.reads.account_history(user_id)]


def outcomes(store: Store, user_id: str) -> list[tuple[str, str]]:
    """The user's authentication log, oldest first: (channel, outcome)."""
    return [(a.channel, a.outcome) for a in reversed(store.access.attempts(user_id))]


# -- password rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-pw", "12 to 200 characters"),
        ("x" * 201, "12 to 200 characters"),
        ("abababababababab", "at least 5 different characters"),
        ("my-mon1-password", "does not contain the user id"),
        ("MY-MON1-PASSWORD", "does not contain the user id"),
        ("qazwsxedcrfv", "common password"),
        ("Password1234", "common password"),
        ("!!iloveyou2024!!", "common password"),
    ],
)
@pytest.mark.requirement("P11-11.300b-1")
def test_a_password_that_breaks_a_rule_is_rejected(
    timed: Store, monitor: Person, password: str, message: str
) -> None:
    with pytest.raises(PasswordRejected, match=message):
        timed.access.change_password("mon1", monitor.password, password)


@pytest.mark.requirement("P11-11.300b-1")
def test_none_of_the_last_five_passwords_may_come_back(timed: Store, monitor: Person) -> None:
    current = monitor.password
    used = [current]
    for n in range(4):
        new = f"fresh password {n} of five"
        timed.access.change_password("mon1", current, new)
        used.append(new)
        current = new

    for old in used:
        with pytest.raises(PasswordRejected, match="last 5"):
            timed.access.change_password("mon1", current, old)
    timed.access.change_password("mon1", current, "yet another passphrase")


def test_a_password_change_is_a_signed_event_naming_who_changed_it(
    timed: Store, monitor: Person
) -> None:
    timed.access.change_password("mon1", monitor.password, "a brand new passphrase")

    last = timed.reads.account_history("mon1")[-1].event
    assert isinstance(last, Account.PasswordChanged)
    assert (last.changed_by, last.temporary) == ("mon1", False)
    timed.access.authenticate("mon1", "a brand new passphrase", channel="token")
    with pytest.raises(AuthenticationFailed):
        timed.access.authenticate("mon1", monitor.password, channel="token")


def test_a_password_change_over_the_api_needs_the_current_password(
    site_client: Site, monitor: Person
) -> None:
    wrong = site_client.client.post(
        "/v1/auth/password",
        json={"username": "mon1", "password": "not it at all", "new_password": "new passphrase 1"},
    )
    weak = site_client.client.post(
        "/v1/auth/password",
        json={"username": "mon1", "password": monitor.password, "new_password": "short"},
    )
    common = site_client.client.post(
        "/v1/auth/password",
        json={"username": "mon1", "password": monitor.password, "new_password": "qwerty123456"},
    )
    done = site_client.client.post(
        "/v1/auth/password",
        json={"username": "mon1", "password": monitor.password, "new_password": "new passphrase 1"},
    )

    assert_problem(wrong, 401, title="Authentication failed")
    assert_problem(weak, 422, title="Password rejected", detail="12 to 200 characters")
    assert_problem(common, 422, title="Password rejected", detail="common password")
    assert done.status_code == 204
    assert token_for(site_client, "mon1", "new passphrase 1").status_code == 200


def test_a_password_change_request_with_an_unknown_field_is_a_field_error(
    site_client: Site,
) -> None:
    response = site_client.client.post(
        "/v1/auth/password",
        json={"username": "u", "password": "p", "new_password": "n", "also": 1},
    )

    assert_problem(response, 422, title="Unprocessable Entity")


# -- one-time passwords and ageing -----------------------------------------------------------------


@pytest.mark.requirement("P11-11.200a-2")
def test_a_one_time_password_opens_nothing_but_its_own_change(
    timed: Store, site_client: Site, admin: Admin
) -> None:
    password = timed.administration.open_account(
        OpenAccount(
            user_id="aud1", printed_name="Alice Audit", role=Role.AUDITOR, one_time_password=True
        ),
        by=admin.signatory,
    )

    refused = token_for(site_client, "aud1", password)
    changed = site_client.client.post(
        "/v1/auth/password",
        json={"username": "aud1", "password": password, "new_password": "my own passphrase"},
    )

    assert_problem(refused, 403, title="Password change required", detail="one-time password")
    assert changed.status_code == 204
    assert token_for(site_client, "aud1", "my own passphrase").status_code == 200
    assert kinds(timed, "aud1") == ["Opened", "RoleGranted", "PasswordChanged", "PasswordChanged"]


@pytest.mark.requirement("P11-11.300b-1")
def test_a_password_expires_after_the_policy_age_and_can_then_only_be_changed(
    timed: Store, site_client: Site, clock: Clock, monitor: Person
) -> None:
    clock.advance(days=90)
    still = token_for(site_client, "mon1", monitor.password)
    clock.advance(seconds=1)
    expired = token_for(site_client, "mon1", monitor.password)
    changed = site_client.client.post(
        "/v1/auth/password",
        json={
            "username": "mon1",
            "password": monitor.password,
            "new_password": "renewed pass 1",
        },
    )

    assert still.status_code == 200
    assert_problem(expired, 403, title="Password change required", detail="older than 90 days")
    assert changed.status_code == 204
    assert token_for(site_client, "mon1", "renewed pass 1").status_code == 200
    assert ("token", "refused") in outcomes(timed, "mon1")


def test_me_shows_when_the_password_expires(site_client: Site, monitor: Person) -> None:
    me = site_client.client.get("/v1/me", headers=bearer(site_client, monitor)).get_json()

    assert me["password_expires_at"] is not None
    assert me["role"] == me["role_in_force"] == "monitor"


# -- lockout ---------------------------------------------------------------------------------------


@pytest.mark.requirement("P11-11.300d-1")
def test_the_account_locks_after_n_failures_and_the_lock_is_a_signed_event(
    timed: Store, clock: Clock
) -> None:
    make_person(timed, "mon1", role=Role.MONITOR, sites=("RP",))
    person = make_person(timed, "mon2", role=Role.MONITOR, sites=("RP",))

    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            timed.access.authenticate("mon2", "wrong password!", channel="token")

    account = timed.app.account("mon2")
    locked = timed.reads.account_history("mon2")[-1]
    assert account.locked
    assert isinstance(locked.event, Account.AccountLocked)
    assert locked.event.failed_attempts == 3
    assert locked.event.authorship.body()["signer"]["user_id"] == "system"
    with pytest.raises(AccountLockedOut, match="locked"):
        timed.access.authenticate("mon2", person.password, channel="token")
    assert not timed.app.account("mon1").locked
    assert timed.verifier(workers=1).verify().ok


def test_a_success_resets_the_count_of_failures(timed: Store, monitor: Person) -> None:
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            timed.access.authenticate("mon1", "wrong password!", channel="token")
    timed.access.authenticate("mon1", monitor.password, channel="token")
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            timed.access.authenticate("mon1", "wrong password!", channel="token")

    assert not timed.app.account("mon1").locked


@pytest.mark.requirement("P11-11.300d-1")
def test_a_locked_account_is_visible_to_administrators_at_once(
    site_client: Site, admin: Admin, monitor: Person
) -> None:
    for _ in range(3):
        assert token_for(site_client, "mon1", "wrong password!").status_code == 401

    accounts = site_client.client.get("/v1/accounts", headers=bearer(site_client, admin))
    log = site_client.client.get(
        "/v1/authentication-attempts?user_id=mon1", headers=bearer(site_client, admin)
    )
    refused = token_for(site_client, "mon1", monitor.password)

    assert {a["user_id"]: a["locked"] for a in accounts.get_json()}["mon1"] is True
    assert [row["outcome"] for row in log.get_json()] == ["refused"] + ["failed"] * 3
    assert "locked after 3 failures" in log.get_json()[0]["detail"]
    assert_problem(refused, 401, title="Account locked")


def test_an_administrator_unlocks_and_earlier_failures_no_longer_count(
    timed: Store, admin: Admin, monitor: Person
) -> None:
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            timed.access.authenticate("mon1", "wrong password!", channel="token")

    timed.administration.unlock_account(
        UnlockAccount(user_id="mon1", reason="called the help desk"), by=admin.signatory
    )
    with pytest.raises(AuthenticationFailed):
        timed.access.authenticate("mon1", "wrong password!", channel="token")

    assert not timed.app.account("mon1").locked
    timed.access.authenticate("mon1", monitor.password, channel="token")
    assert kinds(timed, "mon1")[-2:] == ["AccountLocked", "AccountUnlocked"]
    assert timed.reads.account_history("mon1")[-1].event.authorship.body()["signer"]["user_id"] == (
        "admin1"
    )


def test_a_lock_ends_the_sessions_the_account_had(
    site_client: Site, admin: Admin, monitor: Person
) -> None:
    headers = bearer(site_client, monitor)
    site_client.store.administration.lock_account(
        LockAccount(user_id="mon1", reason="left the study"), by=admin.signatory
    )

    response = site_client.client.get("/v1/me", headers=headers)

    assert_problem(response, 401, title="Account locked")


def answer(response: Any) -> tuple[int, str, list[tuple[str, str]]]:
    """Everything a client sees of a response but the Date header and the address's count of
    failed sign-ins (``X-RateLimit-*``: each refusal spends one, whichever the password), with
    the limiter's ``Retry-After`` (the seconds left in the address's window, which ticks down
    between two requests whichever the password)."""
    headers = sorted(
        (k, v)
        for k, v in response.headers.items()
        if k.lower() not in ("date", "retry-after") and not k.lower().startswith("x-ratelimit-")
    )
    return response.status_code, response.get_data(as_text=True), headers


@pytest.mark.requirement("P11-11.300d-1")
def test_a_locked_account_answers_the_same_to_every_password(
    site_client: Site, admin: Admin, monitor: Person
) -> None:
    site_client.store.administration.lock_account(
        LockAccount(user_id="mon1", reason="left the study"), by=admin.signatory
    )
    before = len(site_client.store.access.attempts("mon1"))

    def change(password: str) -> Any:
        body = {"username": "mon1", "password": password, "new_password": "new passphrase 1"}
        return site_client.client.post("/v1/auth/password", json=body)

    right, wrong = (
        token_for(site_client, "mon1", monitor.password),
        token_for(site_client, "mon1", "wrong password!"),
    )
    right_change, wrong_change = change(monitor.password), change("wrong password!")

    assert answer(right) == answer(wrong)
    assert answer(right_change) == answer(wrong_change)
    assert_problem(right, 401, title="Account locked")
    # Every one of them is still in the authentication log.
    logged = site_client.store.access.attempts("mon1")
    assert len(logged) == before + 4
    assert {(a.outcome, a.detail) for a in logged[:4]} == {("refused", "the account is locked")}


def test_a_locked_account_refuses_every_password_alike_on_the_console(
    timed: Store, admin: Admin, monitor: Person
) -> None:
    timed.administration.lock_account(
        LockAccount(user_id="mon1", reason="left the study"), by=admin.signatory
    )
    errors = []
    for password in (monitor.password, "wrong password!"):
        with pytest.raises(AuthenticationFailed) as raised:
            timed.access.authenticate("mon1", password, channel="console")
        errors.append((type(raised.value), raised.value.title, str(raised.value)))

    assert errors[0] == errors[1]
    assert errors[0][0] is AccountLockedOut


def test_failures_of_unknown_user_ids_are_recorded_but_lock_nothing(timed: Store) -> None:
    for _ in range(5):
        with pytest.raises(AuthenticationFailed, match="wrong user id or password"):
            timed.access.authenticate("nobody", "some password", channel="token")

    assert outcomes(timed, "nobody") == [("token", "failed")] * 5


def test_the_server_account_can_never_log_in(timed: Store) -> None:
    with pytest.raises(AuthenticationFailed):
        timed.access.authenticate("system", "anything at all", channel="token")


@pytest.mark.requirement("P11-11.300d-1")
def test_every_success_and_failure_is_recorded_with_its_channel(
    site_client: Site, monitor: Person
) -> None:
    token_for(site_client, "mon1", "wrong password!")
    token_for(site_client, "mon1", monitor.password)

    assert outcomes(site_client.store, "mon1") == [("token", "failed"), ("token", "succeeded")]


@pytest.mark.requirement("E6-4.2.2-1")
def test_the_authentication_log_is_server_signed_events_of_the_log(
    timed: Store, monitor: Person
) -> None:
    timed.access.authenticate("mon1", monitor.password, channel="token")
    with pytest.raises(AuthenticationFailed):
        timed.access.authenticate("mon1", "wrong password!", channel="console")

    history = timed.reads.history("authentication/mon1")
    assert [record.event.kind() for record in history] == ["Started", "Attempted", "Attempted"]
    assert {record.event.authorship.body()["signer"]["user_id"] for record in history} == {"system"}
    assert [record.event.authorship.body()["data"]["outcome"] for record in history[1:]] == [
        "succeeded",
        "failed",
    ]
    events_table = timed.app.recorder.events_table_name  # type: ignore[attr-defined]
    with pytest.raises(Exception, match="immutable"), timed.engine.begin() as connection:
        connection.execute(text(f"DELETE FROM {events_table}"))
    assert timed.verifier(workers=1).verify().ok


def test_attempts_naming_no_account_share_one_log_with_the_name_escaped(timed: Store) -> None:
    for name in ("nobody", "no\x00body\u2028"):
        with pytest.raises(AuthenticationFailed):
            timed.access.authenticate(name, "some password", channel="token")

    history = timed.reads.history("authentication/~no-account")
    names = [record.event.authorship.body()["data"]["user_id"] for record in history[1:]]
    assert names == ["nobody", "no\\x00body\\u2028"]
    assert [a.user_id for a in timed.access.attempts()][:2] == names[::-1]


def test_attempts_in_one_second_on_two_logs_are_listed_newest_first(
    timed: Store, monitor: Person
) -> None:
    # The test's clock stands still: both attempts sign the same whole second.
    timed.access.authenticate("mon1", monitor.password, channel="token")
    with pytest.raises(AuthenticationFailed):
        timed.access.authenticate("nobody", "some password", channel="token")

    assert [(a.user_id, a.outcome) for a in timed.access.attempts(limit=2)] == [
        ("nobody", "failed"),
        ("mon1", "succeeded"),
    ]


# -- tokens and sessions -------------------------------------------------------------------------


@pytest.mark.requirement("P11-11.300d-2")
def test_a_session_ends_after_the_inactivity_timeout(
    site_client: Site, clock: Clock, monitor: Person
) -> None:
    headers = bearer(site_client, monitor)
    clock.advance(minutes=9)
    kept = site_client.client.get("/v1/me", headers=headers)
    clock.advance(minutes=9)  # 18 minutes since the token, 9 since the last request
    still = site_client.client.get("/v1/me", headers=headers)
    clock.advance(minutes=10, seconds=1)
    lapsed = site_client.client.get("/v1/me", headers=headers)
    clock.advance(seconds=1)
    after = site_client.client.get("/v1/me", headers=headers)

    assert kept.status_code == still.status_code == 200
    assert_problem(lapsed, 401, title="Session expired", detail="inactive for more than 10 minutes")
    assert_problem(after, 401, title="Session expired", detail="has ended")


@pytest.mark.requirement("P11-11.300d-2")
def test_a_password_change_ends_every_session_of_the_account(
    site_client: Site, monitor: Person
) -> None:
    first, second = bearer(site_client, monitor), bearer(site_client, monitor)

    changed = site_client.client.post(
        "/v1/auth/password",
        json={"username": "mon1", "password": monitor.password, "new_password": "new passphrase 1"},
    )

    assert changed.status_code == 204
    for headers in (first, second):
        assert_problem(
            site_client.client.get("/v1/me", headers=headers), 401, title="Session expired"
        )
    renewed = token_for(site_client, "mon1", "new passphrase 1").get_json()["access_token"]
    me = site_client.client.get("/v1/me", headers={"Authorization": f"Bearer {renewed}"})
    assert me.status_code == 200


@pytest.mark.requirement("P11-11.300c-1")
def test_an_administrators_password_reset_ends_every_session_of_the_account(
    site_client: Site, admin: Admin, monitor: Person
) -> None:
    over_the_api, on_the_console = bearer(site_client, monitor), bearer(site_client, monitor)
    signed = admin.signed("mon1", "PasswordChanged", {"changed_by": "admin1", "temporary": True})

    reset = site_client.client.post(
        "/v1/accounts", json={"events": [signed]}, headers=bearer(site_client, admin)
    )

    assert reset.status_code == 201, reset.get_data(as_text=True)
    response = site_client.client.get("/v1/me", headers=over_the_api)
    assert_problem(response, 401, title="Session expired")
    assert_problem(site_client.client.get("/v1/me", headers=on_the_console), 401)
    # The console's reset (sealtrail user reset-password) goes the same way.
    one_time = reset.get_json()["one_time_password"]
    site_client.store.access.change_password("mon1", one_time, "my own passphrase 2")
    after = bearer(
        site_client,
        Person("mon1", monitor.printed_name, monitor.private_key, "my own passphrase 2"),
    )
    site_client.store.administration.reset_password(
        ResetPassword(user_id="mon1"), by=admin.signatory
    )
    assert_problem(site_client.client.get("/v1/me", headers=after), 401, title="Session expired")


@pytest.mark.requirement("P11-11.300d-2")
def test_logout_ends_the_session_and_its_token(site_client: Site, monitor: Person) -> None:
    headers = bearer(site_client, monitor)

    done = site_client.client.delete("/v1/auth/session", headers=headers)
    after = site_client.client.get("/v1/me", headers=headers)

    assert done.status_code == 204
    assert_problem(after, 401, title="Session expired")


@pytest.mark.requirement("P11-11.300d-2")
def test_a_token_expires_after_its_lifetime_whatever_the_activity(
    timed: Store, monitor: Person
) -> None:
    site = Site(timed)
    site.config["TOKEN_LIFETIME_SECONDS"] = 1
    headers = bearer(site, monitor)
    time.sleep(2.1)
    response = site.client.get("/v1/me", headers=headers)

    assert_problem(response, 401, detail="the token has expired")


def test_a_token_of_a_session_that_is_not_the_persons_is_refused(
    timed: Store, site_client: Site, monitor: Person, admin: Admin
) -> None:
    session = timed.access.open_session(timed.app.account("admin1"))
    forged = URLSafeTimedSerializer(token_secret(timed.settings), salt=SALT).dumps(
        {"sub": "mon1", "sid": session}
    )

    response = site_client.client.get("/v1/me", headers={"Authorization": f"Bearer {forged}"})

    assert_problem(response, 401, title="Session expired", detail="no session of this server")


def test_resuming_a_session_directly_checks_the_same_rules(
    timed: Store, clock: Clock, monitor: Person
) -> None:
    session = timed.access.open_session(timed.app.account("mon1"))
    clock.advance(minutes=11)

    with pytest.raises(SessionExpired):
        timed.access.resume_session(session, "mon1")


def test_a_session_in_steady_use_writes_its_activity_at_most_once_a_second(
    timed: Store, clock: Clock
) -> None:
    make_person(timed, "mon1", role=Role.MONITOR, sites=("RP",))
    session = timed.access.open_session(timed.app.account("mon1"))
    opened = timed.credentials.session(session)
    clock.advance(seconds=0.5)
    timed.access.resume_session(session, "mon1")
    within = timed.credentials.session(session)
    clock.advance(seconds=0.5)
    timed.access.resume_session(session, "mon1")
    after = timed.credentials.session(session)

    assert opened is not None and within is not None and after is not None
    assert within.last_seen_at == opened.last_seen_at
    assert after.last_seen_at == clock.now


def test_the_activity_not_written_can_only_end_a_session_sooner_never_later(
    timed: Store, clock: Clock
) -> None:
    make_person(timed, "mon1", role=Role.MONITOR, sites=("RP",))
    session = timed.access.open_session(timed.app.account("mon1"))
    clock.advance(seconds=0.9)
    timed.access.resume_session(session, "mon1")  # within the interval: not written
    clock.advance(minutes=10, seconds=0.05)  # 10 min 0.05 s since this request

    # 10 min 0.95 s since the activity written: more than the timeout, so the session ends
    # up to one touch interval early; it never outlives the timeout.
    with pytest.raises(SessionExpired):
        timed.access.resume_session(session, "mon1")


def test_a_short_inactivity_timeout_writes_activity_at_one_hundredth_of_it(
    timed: Store, clock: Clock, monitor: Person
) -> None:
    brief = bootstrap(
        timed.app, timed.credentials, AccessPolicy(idle_timeout=timedelta(seconds=10)), clock
    ).access
    session = brief.open_session(timed.app.account("mon1"))
    clock.advance(seconds=0.1)
    brief.resume_session(session, "mon1")
    written = timed.credentials.session(session)

    assert brief.touch_interval == timedelta(seconds=0.1)
    assert written is not None and written.last_seen_at == clock.now


# -- the policy's settings -------------------------------------------------------------------------


def test_the_policy_reads_its_settings_from_the_environment() -> None:
    policy = AccessPolicy.from_environ(
        {
            "SEALTRAIL_LOCKOUT_AFTER": "4",
            "SEALTRAIL_IDLE_TIMEOUT_SECONDS": "300",
            "SEALTRAIL_PASSWORD_MAX_AGE_DAYS": "30",
        }
    )

    assert (
        policy.lockout_after,
        policy.idle_timeout.total_seconds(),
        policy.password_max_age.days,
    ) == (4, 300, 30)
    assert AccessPolicy.from_environ({}) == AccessPolicy()


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_a_bad_policy_setting_is_a_configuration_error(value: str) -> None:
    with pytest.raises(ConfigurationError, match="SEALTRAIL_LOCKOUT_AFTER is a whole number"):
        AccessPolicy.from_environ({"SEALTRAIL_LOCKOUT_AFTER": value})


def test_an_expired_password_error_is_raised_directly_too(
    timed: Store, clock: Clock, monitor: Person
) -> None:
    clock.advance(days=91)

    with pytest.raises(PasswordExpired):
        timed.access.authenticate("mon1", monitor.password, channel="console")
