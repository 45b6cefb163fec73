"""``/admin`` through Flask's test client (api/web/admin.py): the accounts as they stand (role,
its end, training, sites, keys and their validity, locked or active), the sites and the locks,
shown to administrators and auditors only, each page a copy recorded in the disclosure log.

Real stores (SQLite and PostgreSQL), real keys, Argon2id passwords; only the access control's
clock is the test's.
"""

from __future__ import annotations

import hashlib
import re
import time
from datetime import UTC, datetime, timedelta

import click
import pytest

from api.console import load_command
from api.web import administering
from domain.account import Role
from domain.disclosure import ACCOUNTS
from infrastructure.application.commands import GrantRole, LockAccount, RevokeKey
from infrastructure.bootstrap import Store
from tests.access.conftest import Admin, make_admin, make_person
from tests.conftest import ON_BOTH_BACKENDS, STUDY, Person, screening
from tests.e2e.conftest import Site
from tests.web.conftest import Browser, signed_in, text

ADMIN = "/admin"


def row_of(page: str, user_id: str) -> str:
    """The table row of ``user_id``'s account on the page."""
    found = re.search(rf'<tr id="account-{re.escape(user_id)}">(.*?)</tr>', page, re.S)
    assert found is not None, f"no row for {user_id}"
    return found.group(1)


class Staff:
    """An administrator, an auditor, RP's coordinator (one subject screened), SP's monitor
    (locked), and an investigator granted until a day to come but not trained."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.admin: Admin = make_admin(store)
        self.auditor = make_person(store, "aud1", role=Role.AUDITOR, printed_name="Lia Prado")
        self.coordinator = make_person(
            store, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",), printed_name="Ana Souza"
        )
        self.monitor = make_person(store, "mon2", role=Role.MONITOR, sites=("SP",))
        self.untrained = make_person(store, "inv3", role=None, sites=("RP",))
        answer = Site(store).submit(self.coordinator, "Screened", screening(), subject="RP-101")
        assert answer.status_code == 201, answer.get_data(as_text=True)
        by = self.admin.signatory
        store.administration.lock_account(LockAccount("mon2", reason="left the study"), by=by)
        self.until = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
        store.administration.grant_role(
            GrantRole("inv3", Role.INVESTIGATOR, until=self.until), by=by
        )
        revocation = RevokeKey("mon2", self.monitor.key_id, revoked_at=None, reason="left")
        store.administration.revoke_key(revocation, by=by)

    def browser_of(self, person: Person) -> Browser:
        return signed_in(self.store, person)


@pytest.fixture
def staff(timed: Store) -> Staff:
    return Staff(timed)


@ON_BOTH_BACKENDS
def test_an_administrator_sees_each_account_as_it_stands(staff: Staff) -> None:
    page = text(staff.browser_of(staff.admin).get(ADMIN))

    coordinator = row_of(page, "coord1")
    assert "Ana Souza" in coordinator
    assert "<code>site_coordinator</code>" in coordinator and "in force" in coordinator
    assert ">RP<" in coordinator and "no end" in coordinator
    assert f"<code>{staff.coordinator.key_id}</code>: valid" in coordinator
    assert "active" in coordinator and "account locked" not in coordinator
    locked = row_of(page, "mon2")
    assert "account locked" in locked
    assert f"<code>{staff.monitor.key_id}</code>: " in locked
    untrained = row_of(page, "inv3")
    assert "awaiting training" in untrained
    assert staff.until.strftime("%Y-%m-%d") in untrained
    assert "<td>—</td>" in untrained  # trained for nothing
    assert "<code>auditor</code>" in row_of(page, "aud1")


def test_a_revoked_key_is_shown_ended_once_its_end_has_come(staff: Staff) -> None:
    # The revocation "now" takes effect at the next whole second.
    end = staff.store.app.account("mon2").keys[staff.monitor.key_id].revoked_at
    assert end is not None
    time.sleep(max(0.0, (end - datetime.now(UTC)).total_seconds()))

    page = text(staff.browser_of(staff.admin).get(ADMIN))

    assert f"<code>{staff.monitor.key_id}</code>: ended" in row_of(page, "mon2")


def test_the_sites_name_their_people_subjects_and_database(staff: Staff) -> None:
    page = text(staff.browser_of(staff.auditor).get(ADMIN))

    rows = re.findall(
        r'<th scope="row">(\w+)</th>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*'
        r'<td class="numeric">(\d+)</td>',
        page,
    )
    assert rows == [("RP", "coord1, inv3", "open", "1"), ("SP", "mon2", "open", "0")]
    assert "The study's database is open." in page
    assert "No subject is frozen or locked." in page


@ON_BOTH_BACKENDS
@pytest.mark.parametrize("reader", ["admin", "auditor"])
def test_each_page_shown_is_a_copy_of_the_accounts_recorded(staff: Staff, reader: str) -> None:
    person = getattr(staff, reader)
    browser = staff.browser_of(person)

    answer = browser.get(ADMIN)

    assert answer.status_code == 200
    (copy,) = staff.store.disclosures.of(person.user_id)
    assert (copy.what, str(copy.scope), copy.channel) == (ACCOUNTS, STUDY, "web")
    assert copy.sha256 == hashlib.sha256(answer.get_data()).hexdigest()


@pytest.mark.parametrize("who", ["coordinator", "untrained"])
def test_a_person_who_may_not_read_accounts_is_refused_and_nothing_recorded(
    staff: Staff, who: str
) -> None:
    person = getattr(staff, who)
    browser = staff.browser_of(person)

    answer = browser.get(ADMIN)

    assert answer.status_code == 403
    assert "mon2" not in text(answer) and "aud1" not in text(answer)
    assert staff.store.disclosures.of(person.user_id) == []


def test_the_page_is_not_in_the_navigation_of_whom_it_refuses(staff: Staff) -> None:
    assert 'href="/admin"' in text(staff.browser_of(staff.admin).get("/account"))
    assert 'href="/admin"' not in text(staff.browser_of(staff.coordinator).get("/account"))


def test_without_signing_in_the_page_sends_to_sign_in(timed: Store) -> None:
    answer = Browser(timed).get(ADMIN)

    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login?next=")


CONSOLE_CHANGES_ON_THE_PAGES = {
    # the console's command that changes a person's account: where the pages make it
    "user add": "/admin/accounts/new",
    "user grant": "grant",
    "user revoke-role": "end-role",
    "user assign-site": "assign-site",
    "user unassign-site": "unassign-site",
    "user lock": "lock",
    "user unlock": "unlock",
    "user train": "train",
    "user reset-password": "reset-password",
    "key register": "register-key",
    "key rotate": "rotate-key",
    "key revoke": "revoke-key",
    "user review": "/access-review",
}


def test_every_change_the_console_makes_of_an_account_the_pages_make_too(staff: Staff) -> None:
    administered = {
        f"{group.name} {name}"
        for group in (load_command("user"), load_command("key"))
        if isinstance(group, click.Group)
        for name, command in group.commands.items()
        if any("--key" in option.opts for option in command.params)  # signed by its maker
    }
    page = text(staff.browser_of(staff.admin).get(ADMIN))

    assert administered == set(CONSOLE_CHANGES_ON_THE_PAGES)
    assert "<code>sealtrail" not in page
    own_pages = {"/admin/accounts/new", "/access-review"}
    assert all(f'href="{url}"' in page for url in own_pages)
    for change in CONSOLE_CHANGES_ON_THE_PAGES.values():
        assert change in administering.CHANGES or change in own_pages
