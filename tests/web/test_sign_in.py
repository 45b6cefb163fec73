"""Signing in to the pages with the API's accounts: the same authentication, lockout, one-time
passwords, inactivity timeout and authentication log; a cookie that is HttpOnly, SameSite=Strict,
and ends with the session."""

from __future__ import annotations

from domain.account import Role
from infrastructure.bootstrap import Store
from tests.access.conftest import Clock, make_person
from tests.conftest import ON_BOTH_BACKENDS, Person
from tests.web.conftest import Browser, text


def log_of(store: Store, user_id: str) -> list[tuple[str, str]]:
    """The user's authentication log, oldest first: (channel, outcome)."""
    return [(a.channel, a.outcome) for a in reversed(store.access.attempts(user_id))]


def monitor(store: Store) -> Person:
    return make_person(store, "mon1", role=Role.MONITOR, sites=("RP",))


@ON_BOTH_BACKENDS
def test_signing_in_opens_a_session_and_records_the_attempt_on_the_web_channel(
    browser: Browser, timed: Store
) -> None:
    person = monitor(timed)

    answer = browser.sign_in(person.user_id, person.password)

    assert answer.status_code == 302
    assert answer.headers["Location"] == "/"
    assert browser.get("/").headers["Location"] == "/study"
    assert log_of(timed, "mon1")[-1] == ("web", "succeeded")
    page = browser.get("/account")
    assert page.status_code == 200
    assert "mon1" in text(page) and "Sign out" in text(page)


def test_signing_in_goes_back_to_the_page_asked_for_but_never_to_another_site(
    browser: Browser, timed: Store
) -> None:
    person = monitor(timed)

    asked = browser.get("/account")
    assert asked.headers["Location"] == "/login?next=/account"
    assert (
        browser.sign_in(person.user_id, person.password, next_page="/account#keys").headers[
            "Location"
        ]
        == "/account#keys"
    )
    for elsewhere in (
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
    ):
        answer = Browser(timed).sign_in(person.user_id, person.password, next_page=elsewhere)
        assert answer.headers["Location"] == "/", elsewhere


def test_the_session_cookie_is_http_only_same_site_strict_and_secure_over_tls(
    browser: Browser, timed: Store
) -> None:
    person = monitor(timed)
    token = browser.csrf_token("/login")

    plain = browser.client.post(
        "/login", data={"username": "mon1", "password": person.password, "csrf_token": token}
    )
    over_tls = Browser(timed)
    tls_token = over_tls.client.get("/login", base_url="https://localhost")
    secure = over_tls.client.post(
        "/login",
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
        data={
            "username": "mon1",
            "password": person.password,
            "csrf_token": _token_in(text(tls_token)),
        },
    )

    cookie = plain.headers["Set-Cookie"]
    assert cookie.startswith("sealtrail_session=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    assert secure.status_code == 302, text(secure)
    assert "Secure" in secure.headers["Set-Cookie"]


def _token_in(page: str) -> str:
    from tests.web.conftest import CSRF_FIELD

    found = CSRF_FIELD.search(page)
    assert found is not None
    return found.group(1)


def test_a_wrong_password_is_refused_with_an_error_summary_and_keeps_the_user_id_typed(
    browser: Browser, timed: Store
) -> None:
    monitor(timed)

    answer = browser.sign_in("mon1", "not the password at all")

    page = text(answer)
    assert answer.status_code == 200
    assert 'class="error-summary"' in page and "The user id or the password is wrong" in page
    assert 'value="mon1"' in page
    assert "not the password at all" not in page  # a password is never shown again
    assert log_of(timed, "mon1")[-1] == ("web", "failed")
    assert browser.get("/account").status_code == 302


def test_empty_fields_are_named_in_the_summary_and_beside_each_field(browser: Browser) -> None:
    answer = browser.submit("/login", "/login", {"username": "", "password": ""})

    page = text(answer)
    assert '<a href="#username">Enter your user id</a>' in page
    assert '<a href="#password">Enter your password</a>' in page
    assert 'id="username-error"' in page and 'aria-describedby="username-error"' in page


@ON_BOTH_BACKENDS
def test_failures_lock_the_account_as_the_api_does_and_then_even_the_right_password_is_refused(
    browser: Browser, timed: Store
) -> None:
    person = monitor(timed)

    for _ in range(3):  # the test policy locks after 3
        browser.sign_in("mon1", "wrong password, again")
    answer = browser.sign_in("mon1", person.password)

    assert "mon1 is locked" in text(answer)
    account = timed.app.find_account("mon1")
    assert account is not None and account.locked
    assert browser.get("/account").status_code == 302
    # A token is refused too: one account, one lock.
    token = browser.client.post(
        "/v1/auth/token", json={"username": "mon1", "password": person.password}
    )
    assert token.status_code == 401


def test_a_one_time_password_leads_to_its_change_and_then_signs_in_with_the_new_one(
    browser: Browser, timed: Store
) -> None:
    person = monitor(timed)
    timed.credentials.set_password("mon1", "a one-time password 1", temporary=True)

    answer = browser.sign_in("mon1", "a one-time password 1", next_page="/account#keys")

    assert answer.headers["Location"] == "/account"
    form = browser.get("/account")
    assert "Choose your password" in text(form) and "one-time password" in text(form)
    assert "Your signing keys" not in text(form)  # nothing else opens before the change
    changed = browser.submit(
        "/account",
        "/account",
        {
            "password": "a one-time password 1",
            "new_password": "my own long passphrase",
            "confirm_password": "my own long passphrase",
        },
    )
    assert changed.headers["Location"] == "/account#keys"
    assert "Your signing keys" in text(browser.get("/account"))
    assert log_of(timed, "mon1") == [
        ("web", "refused"),  # the one-time password opens nothing
        ("password", "succeeded"),  # but proves the person at its change
        ("web", "succeeded"),  # then the sign-in with the new one
    ]
    assert timed.access.authenticate("mon1", "my own long passphrase", channel="token")
    assert person.password != "my own long passphrase"


@ON_BOTH_BACKENDS
def test_an_idle_session_ends_after_the_timeout_and_the_page_says_so(
    browser: Browser, timed: Store, clock: Clock
) -> None:
    person = monitor(timed)
    browser.sign_in(person.user_id, person.password)
    clock.advance(minutes=9)
    assert browser.get("/account").status_code == 200  # activity restarts the clock

    clock.advance(minutes=10, seconds=1)
    answer = browser.get("/account")

    assert answer.headers["Location"] == "/login?next=/account"
    login = browser.get("/login")
    assert "inactive for more than 10 minutes" in text(login)
    assert log_of(timed, "mon1")[-1] == ("session", "refused")


@ON_BOTH_BACKENDS
def test_signing_out_ends_the_session_so_a_kept_cookie_opens_nothing(
    browser: Browser, timed: Store
) -> None:
    person = monitor(timed)
    browser.sign_in(person.user_id, person.password)
    kept = browser.cookie()
    assert kept is not None

    answer = browser.submit("/account", "/logout", {})

    assert answer.headers["Location"] == "/login"
    assert browser.get("/account").status_code == 302
    replay = Browser(timed)
    replay.client.set_cookie("sealtrail_session", kept)
    assert replay.get("/account").headers["Location"] == "/login?next=/account"


@ON_BOTH_BACKENDS
def test_signing_in_again_over_a_live_session_ends_it_so_its_kept_cookie_opens_nothing(
    browser: Browser, timed: Store
) -> None:
    person = monitor(timed)
    browser.sign_in(person.user_id, person.password)
    kept = browser.cookie()
    assert kept is not None

    again = browser.submit(
        "/account", "/login", {"username": person.user_id, "password": person.password}
    )

    assert again.status_code == 302
    assert browser.get("/account").status_code == 200
    replay = Browser(timed)
    replay.client.set_cookie("sealtrail_session", kept)
    assert replay.get("/account").headers["Location"] == "/login?next=/account"


def test_a_form_without_its_csrf_token_is_refused_with_a_page_and_does_nothing(
    browser: Browser, timed: Store
) -> None:
    person = monitor(timed)
    browser.get("/login")

    answer = browser.client.post("/login", data={"username": "mon1", "password": person.password})

    assert answer.status_code == 400
    assert answer.mimetype == "text/html"
    assert "The form was not sent from a page of this site" in text(answer)
    assert log_of(timed, "mon1") == []  # no attempt was even made
    forged = browser.client.post(
        "/login", data={"username": "mon1", "password": person.password, "csrf_token": "forged"}
    )
    assert forged.status_code == 400


def test_signing_out_needs_the_form_not_a_link_another_site_could_plant(
    browser: Browser, timed: Store
) -> None:
    person = monitor(timed)
    browser.sign_in(person.user_id, person.password)

    assert browser.client.post("/logout").status_code == 400
    assert browser.get("/logout").status_code == 200  # a page with the button
    assert browser.get("/account").status_code == 200  # still signed in
