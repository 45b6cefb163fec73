"""``/account``: the password changed with the API's rules and errors, the person's keys and
their validity, the language of the pages, kept per person."""

from __future__ import annotations

import re

from domain.account import Role
from infrastructure.bootstrap import Store
from tests.access.conftest import make_person
from tests.conftest import ON_BOTH_BACKENDS, Person
from tests.web.conftest import Browser, text


def signed_in(browser: Browser, store: Store) -> Person:
    person = make_person(store, "inv1", role=Role.INVESTIGATOR, sites=("RP",))
    browser.sign_in(person.user_id, person.password)
    return person


def change(browser: Browser, current: str, new: str, again: str | None = None) -> str:
    answer = browser.submit(
        "/account",
        "/account",
        {"password": current, "new_password": new, "confirm_password": again or new},
    )
    if answer.status_code == 302:
        answer = browser.get(answer.headers["Location"])
    return text(answer)


@ON_BOTH_BACKENDS
def test_the_password_is_changed_and_the_new_one_opens_the_api(
    browser: Browser, timed: Store
) -> None:
    person = signed_in(browser, timed)

    page = change(browser, person.password, "a passphrase of my own")

    assert "Your password was changed." in page and "Your signing keys" in page
    token = browser.client.post(
        "/v1/auth/token", json={"username": "inv1", "password": "a passphrase of my own"}
    )
    assert token.status_code == 200


def test_a_wrong_current_password_is_named_beside_its_field_and_changes_nothing(
    browser: Browser, timed: Store
) -> None:
    person = signed_in(browser, timed)

    page = change(browser, "not my password", "a passphrase of my own")

    assert '<a href="#password">The current password is wrong</a>' in page
    assert 'id="password-error"' in page
    timed.access.authenticate("inv1", person.password, channel="token")


def test_a_new_password_breaking_a_rule_is_refused_with_the_apis_own_words(
    browser: Browser, timed: Store
) -> None:
    person = signed_in(browser, timed)
    api = browser.client.post(
        "/v1/auth/password",
        json={"username": "inv1", "password": person.password, "new_password": "short"},
    )

    page = change(browser, person.password, "short")

    assert api.status_code == 422
    assert api.get_json()["detail"] in page
    assert '<a href="#new_password">' in page


def test_the_two_new_passwords_must_agree(browser: Browser, timed: Store) -> None:
    person = signed_in(browser, timed)

    page = change(browser, person.password, "a passphrase of my own", "a passphrase of my owl")

    assert "The two new passwords are not the same" in page
    timed.access.authenticate("inv1", person.password, channel="token")


def test_the_account_lists_the_persons_keys_with_their_validity(
    browser: Browser, timed: Store
) -> None:
    person = signed_in(browser, timed)

    page = text(browser.get("/account"))

    assert person.key_id in page
    assert "<td>valid</td>" in page
    assert "UTC" in page and "America/Sao_Paulo" in page


@ON_BOTH_BACKENDS
def test_the_language_chosen_is_the_persons_in_any_browser_they_sign_in_from(
    browser: Browser, timed: Store
) -> None:
    person = signed_in(browser, timed)

    chosen = browser.submit("/account", "/language", {"language": "pt-BR", "next": "/account"})
    page = text(browser.get(chosen.headers["Location"]))

    assert '<html lang="pt-BR">' in page and "Sua conta" in page
    elsewhere = Browser(timed)
    assert '<html lang="en">' in text(elsewhere.get("/login"))
    elsewhere.sign_in(person.user_id, person.password)
    assert '<html lang="pt-BR">' in text(elsewhere.get("/account"))
    assert timed.credentials.language("inv1") == "pt-BR"


def test_before_signing_in_the_browsers_language_is_followed_and_can_be_switched(
    browser: Browser,
) -> None:
    assert "Entrar" in text(browser.get("/login", headers={"Accept-Language": "pt-BR,pt;q=0.9"}))

    switched = browser.submit("/login", "/language", {"language": "pt-BR", "next": "/login"})

    assert switched.headers["Location"] == "/login"
    assert '<html lang="pt-BR">' in text(browser.get("/login"))


def test_an_unknown_language_changes_nothing(browser: Browser, timed: Store) -> None:
    signed_in(browser, timed)

    browser.submit("/account", "/language", {"language": "xx", "next": "/account"})

    assert '<html lang="en">' in text(browser.get("/account"))
    assert timed.credentials.language("inv1") is None


def test_each_label_on_the_account_page_names_its_own_field_by_an_id_nothing_else_has(
    browser: Browser, timed: Store
) -> None:
    # A heading that took the current password field's id left the field without a label.
    signed_in(browser, timed)
    make_person(timed, "mon1", role=Role.MONITOR, sites=("RP",))
    timed.credentials.set_password("mon1", "a one-time password 1", temporary=True)
    first_change = Browser(timed)
    first_change.sign_in("mon1", "a one-time password 1")

    for page in (text(browser.get("/account")), text(first_change.get("/account"))):
        ids = re.findall(r'\bid="([^"]+)"', page)
        labelled = re.findall(r'<label[^>]* for="([^"]+)"', page)
        assert "password" in labelled
        for target in labelled:
            assert ids.count(target) == 1, target
            assert re.search(rf'<(input|select|textarea)\b[^>]*\bid="{target}"', page), target
