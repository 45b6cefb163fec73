"""``/admin/accounts/<user_id>/<change>`` through Flask's test client (api/web/administering.py):
an administrator locks and unlocks an account, attests training, grants and ends a role, each
an account event signed as the browser signs it (sign-form.js's steps, in Python, with the
administrator's real key) and recorded by the API's service; each refusal shows the form again
with what was typed, and records nothing.

Real stores (SQLite and PostgreSQL), real keys, Argon2id passwords; only the access control's
clock is the test's.
"""

from __future__ import annotations

import pytest

from domain.account import Role
from infrastructure.bootstrap import Store
from tests.access.conftest import Admin, make_admin, make_person
from tests.conftest import ON_BOTH_BACKENDS, Person
from tests.web.conftest import Browser, text
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
        browser = Browser(self.store)
        assert browser.sign_in(person.user_id, person.password).status_code == 302
        return browser

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
