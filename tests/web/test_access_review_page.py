"""``/access-review`` through Flask's test client (api/web/access_review.py): an administrator
reviews every site's accounts, an investigator their own site's, each the accounts as they stand
and a signed ``AccessReviewed`` on the reviewer's own account, signed as the browser signs it
(sign-form.js's steps, in Python, with the reviewer's real key) and recorded by the API's
service; each refusal (another role, another site, accounts changed since, no CSRF token, a body
of another kind, nothing signed) shows a page and records nothing.

Real stores (SQLite and PostgreSQL), real keys, Argon2id passwords; only the access control's
clock is the test's.
"""

from __future__ import annotations

import pytest

from domain.account import Role
from infrastructure.application.commands import AssignSite
from infrastructure.bootstrap import Store
from tests.access.conftest import Admin, make_admin, make_person
from tests.conftest import ON_BOTH_BACKENDS, Person
from tests.web.conftest import Browser, signed_in, text
from tests.web.signed_forms import SigningPage

REVIEW = "/access-review"


class Staff:
    """An administrator, an investigator and a coordinator at RP, a monitor at SP."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.admin: Admin = make_admin(store)
        self.investigator = make_person(store, "inv1", role=Role.INVESTIGATOR, sites=("RP",))
        self.coordinator = make_person(store, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
        self.monitor = make_person(store, "mon2", role=Role.MONITOR, sites=("SP",))

    def browser_of(self, person: Person) -> Browser:
        return signed_in(self.store, person)

    def version(self, user_id: str) -> int:
        return int(self.store.app.account(user_id).version)


@pytest.fixture
def staff(timed: Store) -> Staff:
    return Staff(timed)


def changes_given(browser: Browser, url: str, changes: str) -> SigningPage:
    """The first step (the changes decided), then the signing page it leads to."""
    answer = browser.client.post(
        url, data={"csrf_token": browser.csrf_token(url), "changes": changes}
    )
    return SigningPage(answer)


@ON_BOTH_BACKENDS
def test_an_administrator_reviews_every_sites_access_signed_in_the_browser(staff: Staff) -> None:
    browser = staff.browser_of(staff.admin)
    shown = text(browser.get(REVIEW))
    assert 'id="account-mon2"' in shown and 'id="account-coord1"' in shown

    page = changes_given(browser, REVIEW, "End mon2's role: left.\n\n  Train coord1 again. \n")
    assert page.body["account"] == "admin1" and page.body["kind"] == "AccessReviewed"
    assert page.body["data"]["changes"] == ["End mon2's role: left.", "Train coord1 again."]
    assert "site" not in page.body["data"]
    named = {seen["user_id"] for seen in page.body["data"]["accounts"]}
    assert {"admin1", "inv1", "coord1", "mon2"} <= named
    reviewed = browser.client.post(REVIEW, data=page.signed(staff.admin, {}))

    assert reviewed.status_code == 302, text(reviewed)
    record = staff.store.reads.account_history("admin1")[-1]
    assert record.event.kind() == "AccessReviewed"
    assert record.event.authorship.body()["signer"]["user_id"] == "admin1"
    assert "AccessReviewed of admin1 recorded at log position" in text(browser.get(REVIEW))


def test_an_investigator_reviews_their_own_site_and_no_other(staff: Staff) -> None:
    browser = staff.browser_of(staff.investigator)
    shown = text(browser.get(REVIEW))
    assert 'id="account-coord1"' in shown and 'id="account-mon2"' not in shown

    page = changes_given(browser, REVIEW, "")
    assert page.body["data"]["site"] == "RP" and page.body["data"]["changes"] == []
    reviewed = browser.client.post(REVIEW, data=page.signed(staff.investigator, {}))

    assert reviewed.status_code == 302, text(reviewed)
    assert reviewed.headers["Location"] == "/access-review?site=RP"
    assert staff.store.reads.account_history("inv1")[-1].event.kind() == "AccessReviewed"
    before = staff.version("inv1")
    assert browser.get(f"{REVIEW}?site=SP").status_code == 403
    assert browser.get(f"{REVIEW}?site=RP%0A").status_code == 404
    assert staff.version("inv1") == before


@pytest.mark.parametrize("who", ["coordinator", "monitor"])
def test_a_role_that_reviews_no_access_is_refused(staff: Staff, who: str) -> None:
    browser = staff.browser_of(getattr(staff, who))

    assert browser.get(REVIEW).status_code == 403


def test_a_review_of_accounts_changed_since_it_was_offered_records_nothing(staff: Staff) -> None:
    browser = staff.browser_of(staff.admin)
    page = changes_given(browser, REVIEW, "")
    # coord1 acts for a second site from now: not the access the page offered.
    staff.store.administration.assign_site(AssignSite("coord1", "SP"), by=staff.admin.signatory)
    before = staff.version("admin1")

    stale = browser.client.post(REVIEW, data=page.signed(staff.admin, {}))

    assert stale.status_code == 200
    assert "coord1&#39;s access is not as the review saw it" in text(stale)
    assert staff.version("admin1") == before


def test_another_body_nothing_signed_and_no_token_record_nothing(staff: Staff) -> None:
    browser = staff.browser_of(staff.admin)
    page = changes_given(browser, REVIEW, "")
    before = staff.version("admin1")

    other_kind = browser.client.post(
        REVIEW, data=page.signed(staff.admin, {}, kind="AccountLocked")
    )
    other_account = browser.client.post(REVIEW, data=page.signed(staff.admin, {}, account="inv1"))
    unsigned = browser.client.post(REVIEW, data={**page.signed(staff.admin, {}), "body": ""})
    no_token = browser.client.post(
        REVIEW, data={k: v for k, v in page.signed(staff.admin, {}).items() if k != "csrf_token"}
    )

    assert "error-summary" in text(other_kind)
    assert "The signed body is not a AccessReviewed of admin1" in text(other_account)
    assert "Nothing was signed" in text(unsigned)
    assert no_token.status_code == 400
    assert staff.version("admin1") == before


def test_each_page_is_a_copy_of_the_accounts_recorded(staff: Staff) -> None:
    browser = staff.browser_of(staff.investigator)

    assert browser.get(REVIEW).status_code == 200

    (copy,) = staff.store.disclosures.of("inv1")
    assert (copy.what, copy.channel, copy.scope.site) == ("accounts", "web", "RP")
