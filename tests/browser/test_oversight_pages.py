"""The pages of those who oversee a site, in Debian's Chromium (issue 19; docs/pages.md): the
demonstration's monitor verifies a subject's records against source as one batch, the site's
principal investigator delegates a task and ends it, the investigator signs a review of who has
which access, the sponsor's data manager records a review of the audit trail, and the
administrator designates the site's principal investigator, each signed in the browser with the
person's own key file and each form used by keyboard alone (every field named, Tab reaches its
button, Enter sends it). The server's log then holds what each page said
it recorded; no request carries a key's bytes; every page passes axe and loads nothing from
another origin (the ``page`` fixture fails a test that does).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from tests.browser.harness import (
    ADMINISTRATOR,
    OWN_SUBJECTS,
    Served,
    assert_accessible,
    assert_labelled,
    screenshot,
    send_by_keyboard,
    served_store,
    sign_by_keyboard,
    sign_in,
    tab_to,
)
from tests.browser.test_signing_in_the_browser import (
    INVESTIGATOR,
    assert_no_key_in,
    coordinator_records,
    demo_key,
    history_of,
)
from tests.cli_stores import sealtrail
from tests.conftest import consent, haemoglobin, screening

if TYPE_CHECKING:
    from playwright.sync_api import Page

MONITOR, DATA_MANAGER = "monitor", "data_manager"

pytestmark = pytest.mark.shares_the_served_store(OWN_SUBJECTS)  # RP-81

CODE = "RP-81"


@pytest.fixture(scope="module")
def to_verify(served: Served, tmp_path_factory: pytest.TempPathFactory) -> str:
    """RP-81: a screening, a consent and a blood count recorded by the demonstration's
    coordinator over the API, none verified against source yet (the demonstration's own
    subjects are locked)."""
    coordinator_records(
        served,
        CODE,
        tmp_path_factory.mktemp("to-verify"),
        ("Screened", screening(screened_on="2013-04-01")),
        ("ConsentObtained", consent() | {"consented_on": "2013-04-01"}),
        ("BloodCountRecorded", haemoglobin(collected_on="2013-04-02")),
    )
    return CODE


def last_of_account(served: Served, user_id: str) -> tuple[str, dict[str, object]]:
    """The kind and signed data of the latest event of ``user_id``'s account, as recorded."""
    with served_store(served) as store:
        event = store.reads.account_history(user_id)[-1].event
        return event.kind(), dict(event.signed_data())


def test_the_monitor_verifies_two_records_against_source_signed_in_the_browser_as_one_batch(
    page: Page, served: Served, to_verify: str, sent_bodies: list[bytes]
) -> None:
    key = demo_key(served, MONITOR)
    sign_in(page, served.person(MONITOR))
    page.goto(f"/subjects/{to_verify}")
    page.get_by_role("link", name="Verify its records against source").click()
    page.get_by_role("heading", name=f"Source data verification: {to_verify}").wait_for()
    assert page.locator("#record-1").inner_text().endswith("Not verified")
    assert_accessible(page)
    screenshot(page, "source-verification")

    choice = page.locator("form", has=page.get_by_label("Entry 1"))
    assert_labelled(choice)
    for entry in ("Entry 1", "Entry 3"):  # ticked by keyboard: Tab to each, then Space
        tab_to(page, page.get_by_label(entry, exact=True))
        page.keyboard.press("Space")
    send_by_keyboard(page, page.get_by_role("button", name="Verify the records chosen"))

    page.get_by_role("heading", name="Sign the verifications").wait_for()
    assert_accessible(page)
    screenshot(page, "source-verification-sign")
    sign_by_keyboard(page, key, "Sign the verifications")

    done = f"2 records of {to_verify} verified against source, at log positions"
    page.get_by_text(done).wait_for()
    for entry in (1, 3):
        row = page.locator(f"#record-{entry}")
        assert row.inner_text().endswith("Verified as it stands")
        assert row.get_by_role("checkbox").count() == 0
    assert page.locator("#record-2").inner_text().endswith("Not verified")
    assert_accessible(page)
    verifications = [e for e in history_of(served, to_verify) if e.kind() == "SourceVerified"]
    assert [json.loads(e.authorship.signed_body)["data"]["entry"] for e in verifications] == [1, 3]
    signers = {json.loads(e.authorship.signed_body)["signer"]["user_id"] for e in verifications}
    assert signers == {served.person(MONITOR).user_id}
    verified = sealtrail("verify", home=served.home)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert ", 0 findings" in verified.stdout
    assert_no_key_in(sent_bodies, key)


def test_the_principal_investigator_delegates_a_task_and_ends_it_signed_in_the_browser(
    page: Page, served: Served, sent_bodies: list[bytes]
) -> None:
    key = demo_key(served, INVESTIGATOR)
    monitor = served.person(MONITOR).user_id
    sign_in(page, served.person(INVESTIGATOR))
    page.goto("/delegation")
    page.get_by_role("heading", name="Delegation of authority", level=1).wait_for()
    assert_accessible(page)
    screenshot(page, "delegation")

    page.get_by_role("link", name=f"Delegate tasks ({monitor})").click()
    tasks = page.locator("form", has=page.get_by_role("group", name="The tasks delegated"))
    assert_accessible(page)
    assert_labelled(tasks)
    tab_to(page, page.get_by_label("Obtaining informed consent"))
    page.keyboard.press("Space")
    send_by_keyboard(page, page.get_by_role("button", name="Choose the tasks"))

    page.get_by_role("heading", name=f"Delegate tasks: {monitor}, site RP").wait_for()
    today = datetime.now(UTC).date().isoformat()
    page.get_by_label("From").fill(today)  # the focus is in the field: Tab on from there
    assert_accessible(page)
    screenshot(page, "delegation-change")
    sign_by_keyboard(page, key, "Sign and delegate the tasks")

    page.get_by_text(f"TasksDelegated of {monitor} recorded at log position").wait_for()
    log = page.locator("#site-RP table").first.get_by_role("row").filter(has_text=monitor)
    assert "Obtaining informed consent" in log.inner_text() and "in force" in log.inner_text()
    assert last_of_account(served, monitor) == (
        "TasksDelegated", {"site": "RP", "tasks": ["consent"], "starts_on": today},
    )  # fmt: skip

    page.get_by_role("link", name=f"End a delegation ({monitor})").click()
    page.get_by_label("Why").fill("Consent is taken by the coordinator again from today.")
    assert_accessible(page)
    sign_by_keyboard(page, key, "Sign and end the delegation")

    page.get_by_text(f"DelegationEnded of {monitor} recorded at log position").wait_for()
    assert "ended" in log.inner_text() and "coordinator again" in log.inner_text()
    assert last_of_account(served, monitor)[0] == "DelegationEnded"
    assert_accessible(page)
    assert_no_key_in(sent_bodies, key)


def test_the_investigator_signs_a_review_of_who_has_which_access_at_their_site(
    page: Page, served: Served
) -> None:
    investigator = served.person(INVESTIGATOR).user_id
    sign_in(page, served.person(INVESTIGATOR))
    page.goto("/access-review")
    page.get_by_role("heading", name="Access review: site RP").wait_for()
    assert page.locator(f'[id="account-{served.person(MONITOR).user_id}"]').count() == 1
    assert_accessible(page)
    screenshot(page, "access-review")

    changes = page.get_by_label("Changes decided")
    assert_labelled(page.locator("form", has=changes))
    changes.fill("Train demo.monitor again on the 2013 protocol amendment.")
    send_by_keyboard(page, page.get_by_role("button", name="Review these accounts"))

    page.get_by_role("heading", name="Your review").wait_for()
    assert_accessible(page)
    screenshot(page, "access-review-sign")
    sign_by_keyboard(page, demo_key(served, INVESTIGATOR), "Sign the review")

    page.get_by_text(f"AccessReviewed of {investigator} recorded at log position").wait_for()
    kind, data = last_of_account(served, investigator)
    assert kind == "AccessReviewed" and data["site"] == "RP"
    assert data["changes"] == ["Train demo.monitor again on the 2013 protocol amendment."]
    seen = {account["user_id"] for account in data["accounts"]}  # type: ignore[attr-defined]
    assert {investigator, served.person(MONITOR).user_id} <= seen


def test_the_data_manager_records_a_review_of_the_audit_trail_signed_in_the_browser(
    page: Page, served: Served
) -> None:
    data_manager = served.person(DATA_MANAGER).user_id
    sign_in(page, served.person(DATA_MANAGER))
    page.goto("/audit")
    page.get_by_role("link", name="Record your review of the audit trail").click()
    page.get_by_role("heading", name="Record your review of the audit trail").wait_for()
    counted = page.locator("dl").get_by_text("SHA-256").inner_text()
    assert_accessible(page)
    screenshot(page, "audit-review")
    findings = page.locator("#findings")  # collapsed: the form comes first, not after them
    tab_to(page, findings.locator("summary"))
    page.keyboard.press("Enter")
    assert findings.get_attribute("open") is not None
    assert counted.startswith(f"{findings.get_by_role('listitem').count()} (SHA-256")

    page.get_by_label("Your conclusion").fill("Each finding was explained by the site: none open.")
    sign_by_keyboard(page, demo_key(served, DATA_MANAGER), "Sign the review")

    page.get_by_text(f"AuditTrailReviewed of {data_manager} recorded at log position").wait_for()
    kind, data = last_of_account(served, data_manager)
    assert kind == "AuditTrailReviewed"
    assert data["conclusion"] == "Each finding was explained by the site: none open."
    assert len(str(data["findings_sha256"])) == 64
    assert_accessible(page)


def test_the_administrator_designates_the_sites_principal_investigator_signed_in_the_browser(
    page: Page, served: Served, sent_bodies: list[bytes]
) -> None:
    # Last in the module: the designation from today starts the investigator's role anew.
    key = served.home / "admin.pem"
    investigator = served.person(INVESTIGATOR).user_id
    sign_in(page, served.person(ADMINISTRATOR))
    page.goto("/delegation")
    page.get_by_role("heading", name="Delegation of authority", level=1).wait_for()
    assert_accessible(page)
    designate = f"Designate the principal investigator ({investigator})"
    page.get_by_role("link", name=designate).click()

    heading = f"Designate the principal investigator: {investigator}, site RP"
    page.get_by_role("heading", name=heading).wait_for()
    today = datetime.now(UTC).date().isoformat()
    assert_labelled(page.locator("form", has=page.get_by_label("From")))
    page.get_by_label("From").fill(today)
    assert_accessible(page)
    screenshot(page, "delegation-designate")
    sign_by_keyboard(page, key, "Sign and designate the principal investigator")

    page.get_by_text(f"TasksDelegated of {investigator} recorded at log position").wait_for()
    assert last_of_account(served, investigator) == (
        "TasksDelegated",
        {"site": "RP", "tasks": ["principal_investigator"], "starts_on": today},
    )
    assert_accessible(page)
    verified = sealtrail("verify", home=served.home)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert_no_key_in(sent_bodies, key)
