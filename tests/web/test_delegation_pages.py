"""``/delegation`` through Flask's test client (api/web/delegation.py): the site's principal
investigator reads the delegation log, delegates tasks and ends a delegation, and an
administrator designates a site's principal investigator and ends a delegation, each an event
of the delegate's account signed as the browser signs it (sign-form.js's steps, in Python, with
the signer's real key) and recorded by the API's service; each refusal (not the principal
investigator, another site, a stale page, no CSRF token, a body of another kind, nothing signed,
a designation by a principal investigator or of a coordinator) shows a page and records
nothing.

Real stores (SQLite and PostgreSQL), real keys, Argon2id passwords; only the access control's
clock is the test's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.account import Role
from domain.delegation import Task
from infrastructure.application.commands import DelegateTasks
from infrastructure.bootstrap import Store
from tests.access.conftest import make_admin, make_person
from tests.conftest import ON_BOTH_BACKENDS, Person
from tests.web.conftest import Browser, signed_in, text
from tests.web.signed_forms import SigningPage

TODAY = datetime.now(UTC).date()
DELEGATE = "/delegation/RP/coord1/delegate"


class Site:
    """Site RP with its principal investigator, a second investigator and a coordinator, and
    site SP with its own investigator."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.admin = admin = make_admin(store)
        self.pi = make_person(store, "inv1", role=Role.INVESTIGATOR, sites=("RP",))
        self.other_investigator = make_person(store, "inv2", role=Role.INVESTIGATOR, sites=("RP",))
        self.coordinator = make_person(store, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
        self.sp = make_person(store, "inv3", role=Role.INVESTIGATOR, sites=("SP",))
        for person, site in ((self.pi, "RP"), (self.sp, "SP")):
            designation = DelegateTasks(person.user_id, site, ("principal_investigator",), TODAY)
            store.administration.delegate_tasks(designation, by=admin.signatory)

    def browser_of(self, person: Person) -> Browser:
        return signed_in(self.store, person)

    def version(self, user_id: str = "coord1") -> int:
        return int(self.store.app.account(user_id).version)


@pytest.fixture
def site(timed: Store) -> Site:
    return Site(timed)


def tasks_chosen(browser: Browser, url: str, *tasks: str) -> SigningPage:
    """The first step (the tasks), then the signing page it leads to."""
    answer = browser.client.post(
        url, data={"csrf_token": browser.csrf_token(url), "tasks": list(tasks)}
    )
    return SigningPage(answer)


@ON_BOTH_BACKENDS
def test_the_principal_investigator_delegates_tasks_and_ends_the_delegation_in_the_browser(
    site: Site,
) -> None:
    browser = site.browser_of(site.pi)
    log = text(browser.get("/delegation"))
    assert 'id="site-RP"' in log and DELEGATE in log

    page = tasks_chosen(browser, DELEGATE, "consent", "data_entry")
    assert page.body["data"] == {"site": "RP", "tasks": ["data_entry", "consent"]}
    assert page.body["account"] == "coord1" and page.body["kind"] == "TasksDelegated"
    until = (TODAY + timedelta(days=30)).isoformat()
    typed = {"starts_on": TODAY.isoformat(), "ends_on": until}
    delegated = browser.client.post(DELEGATE, data=page.signed(site.pi, typed))

    assert delegated.status_code == 302, text(delegated)
    assert delegated.headers["Location"] == "/delegation#site-RP"
    account = site.store.app.account("coord1")
    assert account.is_delegated(Task.CONSENT, "RP", TODAY)
    assert not account.is_delegated(Task.CONSENT, "RP", TODAY + timedelta(days=31))
    record = site.store.reads.account_history("coord1")[-1]
    assert record.event.authorship.body()["signer"]["user_id"] == "inv1"
    log = text(browser.get("/delegation"))
    assert "TasksDelegated of coord1 recorded at log position" in log
    assert "Obtaining informed consent" in log

    end = "/delegation/RP/coord1/end"
    ended = browser.client.post(
        end, data=SigningPage(browser.get(end)).signed(site.pi, {"reason": "Left the team."})
    )

    assert ended.status_code == 302, text(ended)
    assert site.store.app.account("coord1").delegation_at("RP") is None
    assert "Left the team." in text(browser.get("/delegation"))


def test_no_task_chosen_asks_again_and_records_nothing(site: Site) -> None:
    browser = site.browser_of(site.pi)
    before = site.version()

    for tasks in ((), ("principal_investigator",), ("no-such-task",)):
        answer = browser.client.post(
            DELEGATE, data={"csrf_token": browser.csrf_token(DELEGATE), "tasks": list(tasks)}
        )
        assert answer.status_code == 200
        assert "Choose at least one task" in text(answer)
        assert "signing-body" not in text(answer)
    assert site.version() == before


def test_a_refused_period_shows_the_form_again_with_the_tasks_kept(site: Site) -> None:
    browser = site.browser_of(site.pi)
    page = tasks_chosen(browser, DELEGATE, "signing")
    before = site.version()

    # Signing is an investigator's task: the coordinator's account refuses it, and a period
    # that ends before it starts is refused first.
    typed = {"starts_on": TODAY.isoformat(), "ends_on": (TODAY - timedelta(days=1)).isoformat()}
    refused = browser.client.post(DELEGATE, data=page.signed(site.pi, typed))

    shown = text(refused)
    assert refused.status_code == 200
    assert "error-summary" in shown and "before it starts" in shown
    assert '<input type="hidden" name="tasks" value="signing">' in shown
    assert site.version() == before


@pytest.mark.parametrize(
    "who", ["other_investigator", "coordinator"], ids=["not-the-pi", "not-an-investigator"]
)
def test_only_the_principal_investigator_may_delegate(site: Site, who: str) -> None:
    person = getattr(site, who)
    browser = site.browser_of(person)
    before = site.version("inv2" if who == "coordinator" else "coord1")

    if who == "coordinator":
        assert browser.get("/delegation").status_code == 403
        assert browser.get("/delegation/RP/inv2/delegate").status_code == 403
        return
    log = text(browser.get("/delegation"))
    assert "You are not this site's principal investigator" in log and DELEGATE not in log
    page = tasks_chosen(browser, DELEGATE, "data_entry")
    refused = browser.client.post(
        DELEGATE, data=page.signed(person, {"starts_on": TODAY.isoformat()})
    )

    assert refused.status_code == 200
    assert "inv2 is not the principal investigator of site &#39;RP&#39;" in text(refused)
    assert site.version() == before


def test_another_sites_investigator_reads_and_changes_nothing_of_the_site(site: Site) -> None:
    browser = site.browser_of(site.sp)

    log = text(browser.get("/delegation"))
    assert 'id="site-SP"' in log and 'id="site-RP"' not in log and "coord1" not in log
    assert browser.get(DELEGATE).status_code == 403
    # Their own site's page for a person of another site: no such person there.
    assert browser.get("/delegation/SP/coord1/delegate").status_code == 404


def test_a_stale_page_another_body_nothing_signed_and_no_token_record_nothing(
    site: Site,
) -> None:
    browser = site.browser_of(site.pi)
    page = tasks_chosen(browser, DELEGATE, "data_entry")
    typed = {"starts_on": TODAY.isoformat()}
    assert browser.client.post(DELEGATE, data=page.signed(site.pi, typed)).status_code == 302
    before = site.version()

    stale = browser.client.post(DELEGATE, data=page.signed(site.pi, typed))
    other_account = browser.client.post(DELEGATE, data=page.signed(site.pi, typed, account="inv2"))
    other_kind = browser.client.post(
        DELEGATE, data=page.signed(site.pi, typed, kind="DelegationEnded")
    )
    unsigned = browser.client.post(DELEGATE, data={**page.signed(site.pi, typed), "body": ""})
    no_token = browser.client.post(
        DELEGATE, data={k: v for k, v in page.signed(site.pi, typed).items() if k != "csrf_token"}
    )

    assert stale.status_code == 200 and "error-summary" in text(stale)
    assert "The signed body is not a TasksDelegated of coord1" in text(other_account)
    assert other_kind.status_code == 200 and "error-summary" in text(other_kind)
    assert "Nothing was signed" in text(unsigned)
    assert no_token.status_code == 400
    assert site.version() == before


def test_an_end_of_no_delegation_is_not_offered(site: Site) -> None:
    browser = site.browser_of(site.pi)

    assert browser.get("/delegation/RP/coord1/end").status_code == 409
    assert browser.get("/delegation/RP/coord1/resign").status_code == 404


def test_the_log_and_each_form_are_copies_of_the_sites_log_recorded(site: Site) -> None:
    browser = site.browser_of(site.pi)

    assert browser.get("/delegation").status_code == 200
    assert browser.get(DELEGATE).status_code == 200

    copies = site.store.disclosures.of("inv1")
    assert [(c.what, c.channel) for c in copies] == [("delegation log", "web")] * 2
    assert {c.scope.site for c in copies} == {"RP"}


DESIGNATE = "/delegation/RP/inv2/designate"


@ON_BOTH_BACKENDS
def test_an_administrator_designates_a_sites_principal_investigator_in_the_browser(
    site: Site,
) -> None:
    browser = site.browser_of(site.admin)
    log = text(browser.get("/delegation"))
    # Every site's log, and the site's investigators offered the designation.
    assert 'id="site-RP"' in log and 'id="site-SP"' in log
    assert DESIGNATE in log and "/delegation/RP/coord1/designate" not in log
    assert "/delegation/RP/inv1/end" in log

    page = SigningPage(browser.get(DESIGNATE))
    assert page.body["kind"] == "TasksDelegated" and page.body["account"] == "inv2"
    assert page.body["data"] == {"site": "RP", "tasks": ["principal_investigator"]}
    designated = browser.client.post(
        DESIGNATE, data=page.signed(site.admin, {"starts_on": TODAY.isoformat()})
    )

    assert designated.status_code == 302, text(designated)
    assert designated.headers["Location"] == "/delegation#site-RP"
    account = site.store.app.account("inv2")
    assert account.is_principal_investigator("RP", TODAY)
    record = site.store.reads.account_history("inv2")[-1]
    assert record.event.authorship.body()["signer"]["user_id"] == "admin1"
    # The designated investigator now delegates the site's tasks on the pages.
    assert DELEGATE in text(site.browser_of(site.other_investigator).get("/delegation"))


def test_an_administrator_ends_a_principal_investigators_designation(site: Site) -> None:
    browser = site.browser_of(site.admin)
    end = "/delegation/RP/inv1/end"

    ended = browser.client.post(
        end, data=SigningPage(browser.get(end)).signed(site.admin, {"reason": "Left the site."})
    )

    assert ended.status_code == 302, text(ended)
    assert site.store.app.account("inv1").delegation_at("RP") is None
    assert "You are not this site's principal investigator" in text(
        site.browser_of(site.pi).get("/delegation")
    )


def test_a_designation_refused_shows_the_form_again_with_the_period_kept(site: Site) -> None:
    browser = site.browser_of(site.admin)
    page = SigningPage(browser.get(DESIGNATE))
    before = site.version("inv2")

    refused = browser.client.post(
        DESIGNATE, data=page.signed(site.admin, {"starts_on": "1969-12-31"})
    )
    unsigned = browser.client.post(
        DESIGNATE, data={**page.signed(site.admin, {"starts_on": "1969-12-31"}), "body": ""}
    )

    shown = text(refused)
    assert refused.status_code == 200 and "error-summary" in shown
    assert "1970-01-01" in shown and 'value="1969-12-31"' in shown
    assert "Nothing was signed" in text(unsigned)
    assert site.version("inv2") == before


def test_a_stale_designation_another_sites_and_other_tasks_record_nothing(site: Site) -> None:
    browser = site.browser_of(site.admin)
    page = SigningPage(browser.get(DESIGNATE))
    typed = {"starts_on": TODAY.isoformat()}
    assert browser.client.post(DESIGNATE, data=page.signed(site.admin, typed)).status_code == 302
    before = site.version("inv2")

    stale = browser.client.post(DESIGNATE, data=page.signed(site.admin, typed))
    fresh = SigningPage(browser.get(DESIGNATE))
    more = {**fresh.body["data"], **typed, "tasks": ["principal_investigator", "consent"]}
    more_tasks = browser.client.post(DESIGNATE, data=fresh.signed(site.admin, typed, data=more))
    # inv2 does not act for SP: the designation is refused by the account's own rule.
    elsewhere = {**fresh.body["data"], **typed, "site": "SP"}
    other_site = browser.client.post(
        DESIGNATE, data=fresh.signed(site.admin, typed, data=elsewhere)
    )
    no_token = browser.client.post(
        DESIGNATE,
        data={k: v for k, v in fresh.signed(site.admin, typed).items() if k != "csrf_token"},
    )

    assert stale.status_code == 200 and "error-summary" in text(stale)
    assert "an administrator designates the site&#39;s principal investigator" in text(more_tasks)
    assert "does not act for site &#39;SP&#39;" in text(other_site)
    assert no_token.status_code == 400
    assert site.version("inv2") == before


def test_a_coordinator_is_not_offered_a_designation_and_other_roles_are_refused(
    site: Site,
) -> None:
    admin = site.browser_of(site.admin)
    before = site.version("inv2")

    assert admin.get("/delegation/RP/coord1/designate").status_code == 409
    assert admin.get("/delegation/XX/inv2/designate").status_code == 404
    assert admin.get("/delegation/RP/coord1/delegate").status_code == 404
    coordinator = site.browser_of(site.coordinator)
    assert coordinator.get(DESIGNATE).status_code == 403
    # A principal investigator designates no one, at their site or another.
    assert site.browser_of(site.pi).get(DESIGNATE).status_code == 404
    assert site.browser_of(site.sp).get(DESIGNATE).status_code == 403
    assert site.version("inv2") == before
