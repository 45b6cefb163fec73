"""``/queries`` and the query forms in Debian's Chromium (issue 19, point 6; docs/pages.md): the
demonstration's monitor raises a query from a record of the subject page, the coordinator
answers it, the monitor closes it, each signed in the browser with the person's own key file;
the log then verifies, no request carries a key's bytes, and every page passes axe and loads
nothing from another origin (the ``page`` fixture fails a test that does).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.harness import (
    OWN_SUBJECTS,
    DemoPerson,
    Served,
    Traffic,
    assert_accessible,
    screenshot,
    sign_in,
)
from tests.browser.test_signing_in_the_browser import (
    COORDINATOR,
    assert_no_key_in,
    coordinator_records,
    demo_key,
    history_of,
)
from tests.cli_stores import sealtrail
from tests.conftest import consent, haemoglobin, screening

if TYPE_CHECKING:
    from playwright.sync_api import Page


pytestmark = pytest.mark.shares_the_served_store(OWN_SUBJECTS)  # RP-91 on

MONITOR = "monitor"
SUBJECTS = itertools.count(91)


@pytest.fixture
def fresh_subject(served: Served, tmp_path: Path) -> str:
    """A subject of site RP newly recorded by the demonstration's coordinator (screening,
    consent, a blood count); the demonstration's own subjects are locked."""
    code = f"RP-{next(SUBJECTS)}"
    coordinator_records(
        served,
        code,
        tmp_path,
        ("Screened", screening(screened_on="2013-02-04")),
        ("ConsentObtained", consent() | {"consented_on": "2013-02-04"}),
        ("BloodCountRecorded", haemoglobin(collected_on="2013-02-05")),
    )
    return code


def as_person(page: Page, person: DemoPerson) -> None:
    """The browser signed in as ``person`` (whoever was signed in before, signed out)."""
    page.context.clear_cookies()
    sign_in(page, person)


def sign_with_key(page: Page, key_file: Path, button: str) -> None:
    page.locator("[data-key-file]").set_input_files(key_file)
    page.get_by_role("button", name=button).click()


def test_a_query_is_raised_answered_and_closed_in_the_browser_and_the_log_verifies(
    page: Page, served: Served, fresh_subject: str, sent_bodies: list[bytes]
) -> None:
    monitor, coordinator = served.person(MONITOR), served.person(COORDINATOR)
    monitor_key, coordinator_key = demo_key(served, MONITOR), demo_key(served, COORDINATOR)
    code = fresh_subject

    as_person(page, monitor)
    page.goto(f"/subjects/{code}")
    page.locator("#entry-3").get_by_role("link", name="Raise a query about this record").click()
    page.get_by_role("heading", name=f"Raise a query about {code}").wait_for()
    page.locator("form[data-signing-ready]").wait_for(state="attached")
    assert_accessible(page)
    page.get_by_label("The field asked about").select_option("results")
    page.get_by_label("Your question").fill("Haemoglobin 76 g/dL?\nA decimal point missing?")
    screenshot(page, "query-raise")
    sign_with_key(page, monitor_key, "Sign and raise the query")
    page.get_by_text("Query 4 raised.").wait_for()

    as_person(page, coordinator)
    page.goto("/queries?status=open")
    page.get_by_role("row", name=code).get_by_role("link", name="Query 4").click()
    page.locator("form[data-signing-ready]").wait_for(state="attached")
    assert_accessible(page)
    page.get_by_label("Your answer").fill("Yes: 7.6 g/dL at source; corrected.")
    sign_with_key(page, coordinator_key, "Sign and answer")
    page.get_by_text("Query 4 answered.").wait_for()

    as_person(page, monitor)
    page.goto(f"/queries/{code}/4")
    page.locator("form[data-signing-ready]").wait_for(state="attached")
    page.get_by_label("What resolved the query").fill("Corrected at source.")
    sign_with_key(page, monitor_key, "Sign and close")
    page.get_by_text("Query 4 closed.").wait_for()
    assert_accessible(page)
    screenshot(page, "query")
    page.goto(f"/queries?subject={code}")
    assert_accessible(page)
    screenshot(page, "queries")

    events = history_of(served, code)
    kinds = [type(event).__name__ for event in events]
    assert kinds[3:] == ["QueryRaised", "QueryAnswered", "QueryClosed"]
    signers = [json.loads(e.authorship.signed_body)["signer"]["user_id"] for e in events[3:]]
    assert signers == [monitor.user_id, coordinator.user_id, monitor.user_id]
    raised = json.loads(events[3].authorship.signed_body)["data"]
    assert raised == {
        "entry": 3,
        "entry_kind": "BloodCountRecorded",
        "item": "results",
        "question": "Haemoglobin 76 g/dL?\nA decimal point missing?",
    }
    verified = sealtrail("verify", home=served.home)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert ", 0 findings" in verified.stdout
    assert_no_key_in(sent_bodies, monitor_key)
    assert_no_key_in(sent_bodies, coordinator_key)


def test_a_coordinator_is_offered_no_query_to_raise_and_refused_the_form(
    page: Page, served: Served, fresh_subject: str, traffic: Traffic
) -> None:
    traffic.tolerate("status of 403")
    as_person(page, served.person(COORDINATOR))
    page.goto(f"/subjects/{fresh_subject}")
    offered = page.get_by_role("link", name="Raise a query about this record").count()

    refused = page.goto(f"/queries/raise?subject={fresh_subject}&entry=3")

    assert offered == 0
    assert refused is not None and refused.status == 403
