"""``/admin/accounts/new`` through Flask's test client (api/web/opening.py): an administrator opens
an account as ``sealtrail user add`` does, the bodies signed as the browser signs them
(sign-form.js's steps, in Python, with the administrator's real key), recorded together by the
API's service; the one-time password is shown once, on that answer alone. Each refusal keeps
what was typed and records nothing.
"""

from __future__ import annotations

import re

import pytest

from domain.account import Role
from infrastructure.bootstrap import Store
from tests.access.conftest import Admin, make_admin, make_person
from tests.conftest import ON_BOTH_BACKENDS
from tests.web.conftest import Browser, text
from tests.web.signed_forms import SigningPage

NEW = "/admin/accounts/new"
PERSON = {
    "user_id": "inv9",
    "printed_name": "Inês Barros",
    "role": "investigator",
    "sites": "RP SP",
}


class Opening:
    """An administrator signed in, and the store's count of accounts."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.admin: Admin = make_admin(store)
        self.browser = Browser(store)
        assert self.browser.sign_in(self.admin.user_id, self.admin.password).status_code == 302

    def accounts(self) -> int:
        return len(self.store.reads.accounts())

    def given(self, fields: dict[str, str]) -> SigningPage:
        """The signing step, once ``fields`` were given."""
        token = self.browser.csrf_token(NEW)
        return SigningPage(self.browser.client.post(NEW, data={"csrf_token": token, **fields}))


@pytest.fixture
def opening(timed: Store) -> Opening:
    return Opening(timed)


def one_time_password(page: str) -> str | None:
    found = re.search(r'id="one-time-password".*?<code>([^<]+)</code>', page, re.S)
    return found.group(1) if found else None


@ON_BOTH_BACKENDS
def test_an_account_opened_on_the_page_is_the_consoles_and_its_password_shown_once(
    opening: Opening,
) -> None:
    page = opening.given(PERSON)
    assert [body["kind"] for body in page.body] == [
        "Opened", "RoleGranted", "SiteAssigned", "SiteAssigned", "PasswordChanged",
    ]  # fmt: skip
    assert [body["version"] for body in page.body] == [1, 2, 3, 4, 5]
    form = page.signed_each(opening.admin)

    opened = opening.browser.client.post(NEW, data=form)

    shown = text(opened)
    assert opened.status_code == 200, shown
    assert opened.headers["Cache-Control"] == "no-store"
    password = one_time_password(shown)
    assert password is not None
    account = opening.store.app.account("inv9")
    assert (account.printed_name, account.role, account.sites) == (
        "Inês Barros", Role.INVESTIGATOR, ("RP", "SP"),
    )  # fmt: skip
    history = opening.store.reads.account_history("inv9")
    assert [record.event.kind() for record in history] == [body["kind"] for body in page.body]
    assert {r.event.authorship.body()["signer"]["user_id"] for r in history} == {"admin1"}
    # The password opens the account, as a one-time password: its change first.
    first = Browser(opening.store).sign_in("inv9", password)
    assert first.status_code == 302 and first.headers["Location"].startswith("/account")
    assert password not in (opening.browser.cookie() or "")

    # Reloading (or going back and sending again) is refused: the password is not shown twice.
    again = opening.browser.client.post(NEW, data=form)

    assert again.status_code == 200
    assert one_time_password(text(again)) is None
    assert "exists" in text(again)
    assert len(opening.store.reads.account_history("inv9")) == len(history)


def test_an_account_with_no_role_or_site_is_opened_and_its_password_issued(
    opening: Opening,
) -> None:
    page = opening.given({"user_id": "new.person", "printed_name": "Ana", "role": "", "sites": ""})
    assert [body["kind"] for body in page.body] == ["Opened", "PasswordChanged"]

    opened = opening.browser.client.post(NEW, data=page.signed_each(opening.admin))

    assert one_time_password(text(opened)) is not None
    assert opening.store.app.account("new.person").role is None


@pytest.mark.parametrize(
    ("fields", "field", "said"),
    [
        ({"user_id": "admin1"}, "user_id", "This user id exists"),
        ({"user_id": "inv9\x00"}, "user_id", "A user id is 1-64"),
        ({"user_id": "demo.x\n"}, "user_id", "A user id is 1-64"),
        ({"user_id": "Inv9"}, "user_id", "A user id is 1-64"),
        ({"user_id": "x" * 5000}, "user_id", "A user id is 1-64"),
        ({"user_id": ""}, "user_id", "Enter the user id"),
        ({"printed_name": ""}, "printed_name", "Enter the printed name"),
        ({"printed_name": "Inês\x00Barros"}, "printed_name", "printed_name"),
        ({"printed_name": "x" * 5000}, "printed_name", "printed_name"),
        ({"role": "system"}, "role", "Choose a role"),
        ({"sites": "RP RP"}, "sites", "Name each site once"),
        ({"sites": "R/P"}, "sites", "sites"),
    ],
)
def test_what_opens_no_account_is_refused_on_its_field_with_what_was_typed(
    opening: Opening, fields: dict[str, str], field: str, said: str
) -> None:
    before = opening.accounts()
    token = opening.browser.csrf_token(NEW)

    refused = opening.browser.client.post(NEW, data={"csrf_token": token, **PERSON, **fields})

    page = text(refused)
    assert refused.status_code == 200
    assert 'class="error-summary"' in page and f'id="{field}-error"' in page
    assert 'id="signing-body"' not in page
    assert opening.accounts() == before
    if said != field:
        assert said in page.replace("&#39;", "'")
    assert "\x00" not in page


def test_bodies_other_than_those_offered_are_refused(opening: Opening) -> None:
    page = opening.given(PERSON)
    before = opening.accounts()
    # Another role than the page offered, though signed by the administrator.
    page.body[1]["data"]["role"] = "administrator"

    refused = opening.browser.client.post(NEW, data=page.signed_each(opening.admin))

    assert refused.status_code == 200
    assert "The signed bodies are not those this page offered" in text(refused)
    assert opening.accounts() == before


def test_a_body_signed_with_another_key_or_missing_opens_nothing(opening: Opening) -> None:
    other = make_person(opening.store, "mon1", role=Role.MONITOR, sites=("RP",))
    page = opening.given(PERSON)
    before = opening.accounts()

    for form in (
        page.signed_each(other),
        {**page.signed_each(opening.admin), "signature": "[]"},
        {**page.signed_each(opening.admin), "body": "{}"},
        {"csrf_token": page.csrf_token, **page.hidden, "body": "", "signature": ""},  # no JS
    ):
        refused = opening.browser.client.post(NEW, data=form)
        assert refused.status_code == 200 and 'class="error-summary"' in text(refused)
        assert one_time_password(text(refused)) is None

    assert opening.accounts() == before


def test_the_page_needs_its_csrf_token_and_an_administrator(opening: Opening) -> None:
    form = opening.given(PERSON).signed_each(opening.admin)
    del form["csrf_token"]
    auditor = make_person(opening.store, "aud1", role=Role.AUDITOR)
    theirs = Browser(opening.store)
    theirs.sign_in(auditor.user_id, auditor.password)
    before = opening.accounts()

    assert opening.browser.client.post(NEW, data=form).status_code == 400
    assert theirs.get(NEW).status_code == 403
    assert opening.accounts() == before
