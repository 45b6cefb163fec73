"""Signing in, the account page, the language, signing out and /study, in a real browser: by
keyboard alone, loading nothing from another origin, with no serious accessibility finding."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from tests.browser.harness import (
    ADMINISTRATOR,
    READERS,
    assert_accessible,
    screenshot,
    sign_in,
    signed_in_line,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.browser.harness import DemoPerson, Served


pytestmark = pytest.mark.shares_the_served_store(READERS)  # signs in; one wrong password


def sign_in_by_keyboard(page: Page, person: DemoPerson) -> None:
    """Sign in as a person who uses no mouse: from the top of the page, Tab to the skip link,
    the service's name, then the fields, then Enter."""
    page.goto("/login")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="sealtrail", exact=True)).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("User id")).to_be_focused()
    page.keyboard.type(person.user_id)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type(person.password)
    page.keyboard.press("Enter")


@pytest.mark.parametrize(
    "role", [ADMINISTRATOR, "coordinator", "investigator", "monitor", "data_manager"]
)
def test_each_demonstration_role_signs_in_through_the_form(
    page: Page, served: Served, role: str
) -> None:
    person = served.person(role)

    sign_in(page, person)

    # Each lands on the first page of the navigation their role opens: /study for those who read
    # clinical data; administrators, who do not, on another of theirs, never a refusal.
    if role == ADMINISTRATOR:
        expect(page).not_to_have_url(f"{served.url}/study")
        expect(page.get_by_role("heading", name="Not permitted")).to_have_count(0)
    else:
        expect(page).to_have_url(f"{served.url}/study")
        expect(page.get_by_role("heading", name="Where the study stands", level=1)).to_be_visible()
    expect(page.get_by_text(signed_in_line(person))).to_be_visible()


def test_a_person_signs_in_by_keyboard_and_sees_their_account(page: Page, served: Served) -> None:
    monitor = served.person("monitor")
    page.goto("/login")
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    assert_accessible(page)
    screenshot(page, "login")

    sign_in_by_keyboard(page, monitor)

    expect(page).to_have_url(f"{served.url}/study")
    page.get_by_role("link", name="Your account").click()
    expect(page.get_by_role("heading", name="Your account", level=1)).to_be_visible()
    expect(page.get_by_role("cell", name="valid", exact=True)).to_be_visible()
    assert page.get_by_role("navigation", name="Pages").is_visible()
    assert_accessible(page)
    screenshot(page, "account")


def test_a_wrong_password_puts_the_error_summary_first_and_links_it_to_the_field(
    page: Page, served: Served
) -> None:
    coordinator = served.person("coordinator")
    page.goto("/login")
    page.get_by_label("User id").fill(coordinator.user_id)
    page.get_by_label("Password", exact=True).fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()

    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(page.get_by_label("User id")).to_have_value(coordinator.user_id)
    assert_accessible(page)
    screenshot(page, "login-error")

    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    page.get_by_role("button", name="Sign in").click()  # the password typed is never kept
    page.get_by_role("link", name="Enter your password").click()
    expect(page.get_by_label("Password", exact=True)).to_be_focused()

    # The user id is still there: the right password alone, then Enter, signs in.
    page.keyboard.type(coordinator.password)
    page.keyboard.press("Enter")
    expect(page.get_by_text(signed_in_line(coordinator))).to_be_visible()


def test_the_pages_speak_portuguese_once_chosen_and_sign_out_ends_the_session(
    page: Page, served: Served
) -> None:
    investigator = served.person("investigator")
    page.goto("/login")
    page.get_by_role("button", name="Português (Brasil)").click()
    expect(page.get_by_role("heading", name="Entrar", level=1)).to_be_visible()
    page.get_by_label("Identificador de usuário").fill(investigator.user_id)
    page.get_by_label("Senha", exact=True).fill(investigator.password)
    page.get_by_role("button", name="Entrar").click()
    page.get_by_role("link", name="Sua conta").click()

    expect(page.get_by_role("heading", name="Sua conta", level=1)).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "pt-BR"
    assert_accessible(page)

    page.get_by_role("button", name="Sair").click()
    expect(page.get_by_role("heading", name="Entrar", level=1)).to_be_visible()
    page.goto("/account")
    expect(page).to_have_url(f"{served.url}/login?next=/account")


def test_the_study_page_shows_where_the_study_stands_and_is_accessible(
    page: Page, served: Served
) -> None:
    manager = served.person("data_manager")
    page.goto("/login")
    page.get_by_label("User id").fill(manager.user_id)
    page.get_by_label("Password", exact=True).fill(manager.password)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"{served.url}/study")
    expect(page.get_by_role("heading", name="Where the study stands", level=1)).to_be_visible()
    expect(page.locator("#figure-subjects")).to_have_text("9")
    expect(page.get_by_role("row", name="RP")).to_be_visible()
    expect(page.get_by_role("link", name="Study", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    assert_accessible(page)
    screenshot(page, "study")
