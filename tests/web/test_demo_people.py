"""After ``sealtrail demo`` each of its staff signs in on the pages with the one-time password it
printed, and must choose their own before anything else opens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.demonstration.staff import STAFF
from infrastructure.bootstrap import Store, open_store
from tests.cli_stores import demo_output, printed_one_time_passwords
from tests.conftest import make_settings
from tests.web.conftest import Browser, text


@pytest.fixture
def demo_store(demo_home: Path) -> Iterator[Store]:
    """The store ``sealtrail demo`` made (a copy), its passwords hashed at production cost."""
    store = open_store(make_settings(demo_home))
    try:
        yield store
    finally:
        store.close()


def test_each_printed_one_time_password_signs_in_to_its_own_change_first(
    demo_home: Path, demo_store: Store
) -> None:
    printed = printed_one_time_passwords(demo_output(demo_home))
    staff = {member.user_id: member for member in STAFF.values()}
    assert sorted(row.user_id for row in printed) == sorted(staff)

    for row in printed:
        browser = Browser(demo_store)
        member = staff[row.user_id]
        assert row.role == member.role.value

        answer = browser.sign_in(row.user_id, row.password)

        assert answer.headers["Location"] == "/account", row.user_id
        change_page = text(browser.get("/account"))
        assert "New password" in change_page and "Sign out" not in change_page
        # Nothing else opens with it: the start page still asks for a sign-in.
        assert browser.get("/").headers["Location"] == "/login"
        chosen = f"{row.role} chooses a passphrase"
        changed = browser.submit(
            "/account",
            "/account",
            {"password": row.password, "new_password": chosen, "confirm_password": chosen},
        )
        assert changed.status_code == 302, text(changed)
        # The change leads to the start page, which sends each role on to its first page.
        landing = text(browser.get(changed.headers["Location"], follow_redirects=True))
        assert f"Signed in as {member.printed_name} ({row.user_id})" in landing
        # The one-time password opens nothing any more; the chosen one opens the API too.
        assert Browser(demo_store).sign_in(row.user_id, row.password).status_code == 200
        token = browser.client.post(
            "/v1/auth/token", json={"username": row.user_id, "password": chosen}
        )
        assert token.status_code == 200
