"""``/admin/accounts/<user_id>/<change>`` through Flask's test client (api/web/administering.py):
an administrator locks and unlocks an account, attests training, grants and ends a role, lets
a person act for a site and stops it, issues a one-time password (shown once), each an account
event signed as the browser signs it (sign-form.js's steps, in Python, with the
administrator's real key) and recorded by the API's service; each refusal shows the form again
with what was typed, and records nothing. The keys' changes are tests/web/test_admin_key_changes.py,
an account opened tests/web/test_admin_opening.py.

Real stores (SQLite and PostgreSQL), real keys, Argon2id passwords; only the access control's
clock is the test's.
"""

from __future__ import annotations

import re

import pytest

from domain.account import Role
from infrastructure.bootstrap import Store
from tests.access.conftest import Admin, make_admin, make_person
from tests.conftest import ON_BOTH_BACKENDS, Person
from tests.web.conftest import Browser, signed_in, text
from tests.web.signed_forms import SigningPage


class Staff:
    """An administrator, an auditor and a monitor at RP, each signed in on a browser of their
    own when asked."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.admin: Admin = make_admin(store)
        self.auditor = make_person(store, "aud1", role=Role.AUDITOR)
        self.monitor = make_person(store, "mon1", role=Role.MONITOR, sites=("RP",))

    def browser_of(self, person: Person) -> Browser:
        return signed_in(self.store, person)

    def version(self, user_id: str = "mon1") -> int:
        return int(self.store.app.account(user_id).version)


@pytest.fixture
def staff(timed: Store) -> Staff:
    return Staff(timed)


def change(
    staff: Staff, browser: Browser, url: str, typed: dict[str, str], **overrides: object
) -> tuple[SigningPage, object]:
    page = SigningPage(browser.get(url))
    answer = browser.client.post(url, data=page.signed(staff.admin, typed, **overrides))
    return page, answer


@ON_BOTH_BACKENDS
def test_an_administrator_locks_and_unlocks_an_account_signed_in_the_browser(
    staff: Staff,
) -> None:
    browser = staff.browser_of(staff.admin)

    _page, locked = change(staff, browser, "/admin/accounts/mon1/lock", {"reason": "Left."})

    assert locked.status_code == 302, text(locked)
    assert locked.headers["Location"] == "/admin#account-mon1"
    assert staff.store.app.account("mon1").locked
    record = staff.store.reads.account_history("mon1")[-1]
    assert record.event.kind() == "AccountLocked"
    assert record.event.signed_data() == {"reason": "Left.", "failed_attempts": 0}
    assert record.event.authorship.body()["signer"]["user_id"] == "admin1"
    assert "AccountLocked of mon1 recorded at log position" in text(browser.get("/admin"))

    _page, unlocked = change(
        staff, browser, "/admin/accounts/mon1/unlock", {"reason": "Back from leave."}
    )

    assert unlocked.status_code == 302, text(unlocked)
    assert not staff.store.app.account("mon1").locked


def test_training_and_a_role_granted_then_ended(staff: Staff) -> None:
    new = make_person(staff.store, "inv2", role=None, sites=("RP",))
    browser = staff.browser_of(staff.admin)

    _page, granted = change(
        staff, browser, f"/admin/accounts/{new.user_id}/grant",
        {"role": "investigator", "until": "2099-12-31T23:59:59Z"},
    )  # fmt: skip
    _page, trained = change(
        staff, browser, f"/admin/accounts/{new.user_id}/train",
        {"role": "investigator", "course": "GCP and the protocol", "completed_on": "2026-11-30"},
    )  # fmt: skip

    assert (granted.status_code, trained.status_code) == (302, 302), text(trained)
    account = staff.store.app.account("inv2")
    assert account.effective_role is Role.INVESTIGATOR
    assert account.role_until is not None and account.role_until.year == 2099

    _page, ended = change(staff, browser, "/admin/accounts/inv2/end-role", {"reason": "Moved."})

    assert ended.status_code == 302, text(ended)
    assert staff.store.app.account("inv2").role is None


def test_a_refusal_shows_the_form_again_with_what_was_typed_and_records_nothing(
    staff: Staff,
) -> None:
    browser = staff.browser_of(staff.admin)
    before = staff.version()

    _page, refused = change(
        staff, browser, "/admin/accounts/mon1/train",
        {"role": "monitor", "course": "GCP <refresher>", "completed_on": "2026-02-30"},
    )  # fmt: skip

    page = text(refused)
    assert refused.status_code == 200
    assert 'class="error-summary"' in page
    assert "GCP &lt;refresher&gt;" in page and 'value="2026-02-30"' in page
    assert staff.version() == before


@ON_BOTH_BACKENDS
def test_a_change_signed_on_a_page_read_before_another_is_refused(staff: Staff) -> None:
    browser = staff.browser_of(staff.admin)
    url = "/admin/accounts/mon1/train"
    page = SigningPage(browser.get(url))
    change(staff, browser, "/admin/accounts/mon1/lock", {"reason": "Left."})
    before = staff.version()

    # The training page read before the lock signs the version the lock took.
    typed = {"role": "monitor", "course": "GCP", "completed_on": "2026-11-30"}
    stale = browser.client.post(url, data=page.signed(staff.admin, typed))

    assert stale.status_code == 200
    assert "error-summary" in text(stale)
    assert staff.version() == before


def test_a_body_of_another_kind_or_account_is_refused(staff: Staff) -> None:
    browser = staff.browser_of(staff.admin)
    before = staff.version("aud1")

    _page, other = change(
        staff, browser, "/admin/accounts/mon1/lock", {"reason": "Left."}, account="aud1"
    )

    assert other.status_code == 200
    assert "The signed body is not a AccountLocked of mon1" in text(other)
    assert staff.version("aud1") == before
    assert not staff.store.app.account("mon1").locked


def test_a_body_signed_with_another_persons_key_is_refused(staff: Staff) -> None:
    browser = staff.browser_of(staff.admin)
    url = "/admin/accounts/mon1/lock"
    page = SigningPage(browser.get(url))
    form = page.signed(staff.monitor, {"reason": "Left."})  # the monitor's key, not the admin's

    refused = browser.client.post(url, data=form)

    assert refused.status_code == 200
    assert "error-summary" in text(refused)
    assert not staff.store.app.account("mon1").locked


def test_nothing_signed_is_refused(staff: Staff) -> None:
    browser = staff.browser_of(staff.admin)
    url = "/admin/accounts/mon1/lock"
    token = SigningPage(browser.get(url)).csrf_token

    refused = browser.client.post(url, data={"csrf_token": token, "reason": "Left."})

    assert refused.status_code == 200
    assert "needs JavaScript" in text(refused)
    assert not staff.store.app.account("mon1").locked


def test_a_form_without_its_csrf_token_is_refused(staff: Staff) -> None:
    browser = staff.browser_of(staff.admin)
    url = "/admin/accounts/mon1/lock"
    form = SigningPage(browser.get(url)).signed(staff.admin, {"reason": "Left."})
    del form["csrf_token"]

    assert browser.client.post(url, data=form).status_code == 400
    assert not staff.store.app.account("mon1").locked


def test_an_auditor_reads_the_accounts_but_changes_none(staff: Staff) -> None:
    browser = staff.browser_of(staff.auditor)

    assert browser.get("/admin/accounts/mon1/lock").status_code == 403
    assert "/admin/accounts/" not in text(browser.get("/admin"))


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/admin/accounts/nobody/lock", 404),
        ("/admin/accounts/mon1/delete", 404),
        ("/admin/accounts/mon1/unlock", 409),  # not locked
        ("/admin/accounts/mon1/grant", 409),  # holds a role: end it first
        ("/admin/accounts/system/lock", 409),  # the server's own account is no person's
    ],
)
def test_a_change_of_no_account_or_that_does_not_apply_is_refused(
    staff: Staff, url: str, status: int
) -> None:
    browser = staff.browser_of(staff.admin)

    assert browser.get(url).status_code == status


def test_each_form_is_a_copy_of_the_account_recorded(staff: Staff) -> None:
    browser = staff.browser_of(staff.admin)

    answer = browser.get("/admin/accounts/mon1/lock")

    assert answer.status_code == 200
    (copy,) = staff.store.disclosures.of("admin1")
    assert (copy.what, copy.channel) == ("accounts", "web")


def test_a_person_is_let_act_for_a_site_then_stopped(staff: Staff) -> None:
    browser = staff.browser_of(staff.admin)

    _page, assigned = change(staff, browser, "/admin/accounts/mon1/assign-site", {"site": "SP"})

    assert assigned.status_code == 302, text(assigned)
    assert staff.store.app.account("mon1").sites == ("RP", "SP")
    record = staff.store.reads.account_history("mon1")[-1]
    assert (record.event.kind(), record.event.signed_data()) == ("SiteAssigned", {"site": "SP"})
    assert record.event.authorship.body()["signer"]["user_id"] == "admin1"

    page, unassigned = change(
        staff, browser, "/admin/accounts/mon1/unassign-site", {"site": "RP", "reason": "Moved."}
    )

    assert '<option value="SP">SP</option>' in page.page  # the sites the person acts for
    assert unassigned.status_code == 302, text(unassigned)
    assert staff.store.app.account("mon1").sites == ("SP",)
    assert staff.store.reads.account_history("mon1")[-1].event.signed_data() == {
        "site": "RP",
        "reason": "Moved.",
    }


@pytest.mark.parametrize(
    ("url", "typed", "said"),
    [
        ("/admin/accounts/mon1/assign-site", {"site": "RP"}, "already acts for site"),
        ("/admin/accounts/mon1/assign-site", {"site": "R P\x00"}, "site"),
        ("/admin/accounts/mon1/assign-site", {"site": "x" * 5000}, "site"),
        ("/admin/accounts/mon1/unassign-site", {"site": "SP", "reason": "Moved."}, "does not act"),
        ("/admin/accounts/mon1/unassign-site", {"site": "RP", "reason": " "}, "reason"),
    ],
)
def test_a_site_change_the_account_refuses_shows_the_form_again(
    staff: Staff, url: str, typed: dict[str, str], said: str
) -> None:
    browser = staff.browser_of(staff.admin)
    before = staff.version()

    _page, refused = change(staff, browser, url, typed)

    assert refused.status_code == 200
    assert 'class="error-summary"' in text(refused) and said in text(refused)
    assert staff.version() == before


def test_an_administrator_assigns_no_site_to_themselves(staff: Staff) -> None:
    browser = staff.browser_of(staff.admin)
    before = staff.version("admin1")

    _page, refused = change(staff, browser, "/admin/accounts/admin1/assign-site", {"site": "RP"})

    assert refused.status_code == 200
    assert "admin1 may not assign a site to themselves" in text(refused)
    assert staff.version("admin1") == before


@ON_BOTH_BACKENDS
def test_a_one_time_password_is_shown_once_and_opens_only_its_change(staff: Staff) -> None:
    browser = staff.browser_of(staff.admin)
    url = "/admin/accounts/mon1/reset-password"
    page = SigningPage(browser.get(url))
    assert page.body["data"] == {"changed_by": "admin1", "temporary": True}
    form = page.signed(staff.admin, {})
    copies = len(staff.store.disclosures.of("admin1"))

    issued = browser.client.post(url, data=form)

    shown = text(issued)
    assert issued.status_code == 200, shown
    assert issued.headers["Cache-Control"] == "no-store"
    password = re.search(r'id="one-time-password".*?<code>([^<]+)</code>', shown, re.S)
    assert password is not None, shown
    record = staff.store.reads.account_history("mon1")[-1]
    assert record.event.kind() == "PasswordChanged"
    assert record.event.authorship.body()["signer"]["user_id"] == "admin1"
    # Nowhere else: not in the session cookie, no copy of this answer in the disclosure log.
    assert password.group(1) not in (browser.cookie() or "")
    assert len(staff.store.disclosures.of("admin1")) == copies
    # The new password signs in, as a one-time password: to its change alone.
    person = Browser(staff.store)
    first = person.sign_in("mon1", password.group(1))
    assert first.status_code == 302 and first.headers["Location"].startswith("/account")

    # Reloading the answer sends the signed change again: refused, and no password shown.
    again = browser.client.post(url, data=form)

    assert again.status_code == 200
    assert 'class="error-summary"' in text(again)
    assert 'id="one-time-password"' not in text(again)
    assert staff.store.reads.account_history("mon1")[-1].position == record.position


@pytest.mark.parametrize(
    "route",
    [
        "/admin/accounts/mon1/assign-site",
        "/admin/accounts/mon1/reset-password",
        "/admin/accounts/mon1/revoke-key",
        "/admin/accounts/mon1/register-key",
        "/admin/accounts/new",
    ],
)
def test_a_person_who_does_not_administer_is_refused_even_a_signed_body(
    staff: Staff, route: str
) -> None:
    administrator = SigningPage(staff.browser_of(staff.admin).get("/admin/accounts/mon1/lock"))
    monitor = staff.browser_of(staff.monitor)
    token = monitor.csrf_token("/account")
    before = staff.version()
    form = administrator.signed(staff.monitor, {"reason": "x"}, kind="SiteAssigned")

    refused = monitor.client.post(route, data={**form, "csrf_token": token, "site": "SP"})

    assert refused.status_code == 403
    assert staff.version() == before


def test_a_locked_administrator_changes_nothing(staff: Staff) -> None:
    other = make_admin(staff.store, "admin2")
    browser = staff.browser_of(staff.admin)
    page = SigningPage(browser.get("/admin/accounts/mon1/assign-site"))
    theirs = staff.browser_of(other)
    lock = SigningPage(theirs.get("/admin/accounts/admin1/lock")).signed(other, {"reason": "Left."})
    assert theirs.client.post("/admin/accounts/admin1/lock", data=lock).status_code == 302
    before = staff.version()

    refused = browser.client.post(
        "/admin/accounts/mon1/assign-site", data=page.signed(staff.admin, {"site": "SP"})
    )

    assert refused.status_code == 302 and refused.headers["Location"].startswith("/login")
    assert staff.version() == before


@pytest.mark.parametrize(
    "user_id", ["%00", "mon1%00", "demo.x%0A", "mon1%0A", "x" * 5000, "MON1", "..%2Fmon1"]
)
def test_an_odd_user_id_names_no_account(staff: Staff, user_id: str) -> None:
    browser = staff.browser_of(staff.admin)

    assert browser.get(f"/admin/accounts/{user_id}/assign-site").status_code == 404
