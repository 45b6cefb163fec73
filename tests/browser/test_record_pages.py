"""A site's record forms in Debian's Chromium (docs/pages.md, "Recording for a site"): the
demonstration's coordinator opens a blood count's form from the subject's page, makes a typing
error and reads it beside its field with what was typed kept, corrects it, signs the record with
their own key file in the browser and finds it on the subject's timeline; the log then verifies,
no request carries the key's bytes, and each page passes axe and loads nothing from another
origin (the ``page`` fixture fails a test that does).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.harness import OWN_SUBJECTS, Served, assert_accessible, screenshot, sign_in
from tests.browser.test_signing_in_the_browser import (
    COORDINATOR,
    assert_no_key_in,
    coordinator_records,
    demo_key,
    history_of,
)
from tests.cli_stores import sealtrail
from tests.conftest import consent, screening

if TYPE_CHECKING:
    from playwright.sync_api import Page


pytestmark = pytest.mark.shares_the_served_store(OWN_SUBJECTS)  # RP-71, RP-72

CODE = "RP-71"
SCREENED_HERE = "RP-72"
FORMS_OF_EVERY_SHAPE = (
    "EligibilityAssessed",  # a yes or no per criterion the protocol lists
    "MscInfusionGiven",  # an instant, quantities with units, vital signs, a text area
    "AdverseEventReported",  # radios, a list of more than six codes, checkboxes
    "AdverseEventFollowedUp",  # the fields a follow-up may change, each optional
)


@pytest.fixture(scope="module")
def consented(served: Served, tmp_path_factory: pytest.TempPathFactory) -> str:
    """RP-71, screened and consented by the demonstration's coordinator over the API (the
    demonstration's own subjects are locked)."""
    coordinator_records(
        served,
        CODE,
        tmp_path_factory.mktemp("consented"),
        ("Screened", screening(screened_on="2013-02-04")),
        ("ConsentObtained", consent() | {"consented_on": "2013-02-04"}),
    )
    return CODE


def check_and_sign(page: Page, key: Path, heading: str) -> None:
    """Check the record typed, then sign it with the key file on the page that offers it."""
    page.get_by_role("button", name="Check the record").click()
    page.get_by_role("heading", name=heading).wait_for()
    page.locator("form[data-signing-ready]").wait_for(state="attached")
    page.locator("[data-key-file]").set_input_files(key)
    page.get_by_role("button", name="Sign and record").click()


def test_the_coordinator_screens_a_subject_and_records_its_consent_in_the_browser(
    page: Page, served: Served
) -> None:
    key = demo_key(served, COORDINATOR)
    sign_in(page, served.person(COORDINATOR))

    page.goto("/subjects")
    page.get_by_role("link", name="Screen a new subject").click()
    page.get_by_label("The new subject's code").fill(SCREENED_HERE)
    page.get_by_role("button", name="Continue to the screening").click()
    page.get_by_role("heading", name=f"Screened for {SCREENED_HERE}").wait_for()
    assert_accessible(page)
    page.get_by_label("Site", exact=True).fill("RP")
    page.get_by_label("F", exact=True).check()
    page.get_by_label("Age (years)").fill("29")
    page.get_by_label("Screened on").fill("2013-03-04")
    check_and_sign(page, key, f"Sign the Screened of {SCREENED_HERE}")
    page.get_by_text(f"Screened of {SCREENED_HERE} recorded at log position").wait_for()

    page.get_by_text("Record for this subject").click()
    page.get_by_role("link", name="ConsentObtained").click()
    page.get_by_label("Tcle version").fill("2.0")
    page.get_by_label("Consented on").fill("2013-03-04")
    check_and_sign(page, key, f"Sign the ConsentObtained of {SCREENED_HERE}")
    page.get_by_text(f"ConsentObtained of {SCREENED_HERE} recorded at log position").wait_for()

    kinds = [type(event).__name__ for event in history_of(served, SCREENED_HERE)]
    assert kinds == ["Screened", "ConsentObtained"]


def test_the_forms_of_groups_choices_and_lists_pass_axe(
    page: Page, served: Served, consented: str
) -> None:
    sign_in(page, served.person(COORDINATOR))
    for kind in FORMS_OF_EVERY_SHAPE:
        page.goto(f"/subjects/{CODE}/record/{kind}")
        page.get_by_role("heading", name=f"{kind} for {CODE}").wait_for()
        assert_accessible(page)


def test_the_coordinator_corrects_a_typing_error_and_signs_a_blood_count_in_the_browser(
    page: Page, served: Served, consented: str, sent_bodies: list[bytes]
) -> None:
    key = demo_key(served, COORDINATOR)
    sign_in(page, served.person(COORDINATOR))

    page.goto(f"/subjects/{CODE}")
    page.get_by_text("Record for this subject").click()
    page.get_by_role("link", name="BloodCountRecorded").click()
    page.get_by_role("heading", name=f"BloodCountRecorded for {CODE}").wait_for()
    assert_accessible(page)
    page.get_by_label("Collected on").fill("2013-02-05")
    page.get_by_label("Haemoglobin (g/dL)").fill("7.x")
    page.get_by_label("Platelets (10^9/L)").fill("18")
    page.get_by_label("automated").check()
    page.get_by_role("button", name="Check the record").click()

    page.get_by_role("heading", name="There is a problem").wait_for()
    haemoglobin = page.get_by_label("Haemoglobin (g/dL)")
    assert haemoglobin.input_value() == "7.x"
    assert haemoglobin.get_attribute("aria-invalid") == "true"
    assert "decimal" in page.locator("#results-haemoglobin-error").inner_text()
    assert page.get_by_label("Platelets (10^9/L)").input_value() == "18"
    assert_accessible(page)
    screenshot(page, "record-form-error")
    page.get_by_role("link", name="a decimal").click()  # the summary leads to the field
    assert page.evaluate("document.activeElement.id") == "results-haemoglobin"
    haemoglobin.fill("7,6")
    page.get_by_role("button", name="Check the record").click()

    page.get_by_role("heading", name=f"Sign the BloodCountRecorded of {CODE}").wait_for()
    page.locator("form[data-signing-ready]").wait_for(state="attached")
    assert "haemoglobin: 7.6 g/dL" in page.locator("#record-to-sign").inner_text()
    assert_accessible(page)
    screenshot(page, "record-sign")
    page.locator("[data-key-file]").set_input_files(key)
    page.get_by_role("button", name="Sign and record").click()

    page.get_by_text(f"BloodCountRecorded of {CODE} recorded at log position").wait_for()
    assert page.url.endswith(f"/subjects/{CODE}#entry-3")
    assert page.locator("#entry-3").get_by_text("BloodCountRecorded").count() > 0
    events = history_of(served, CODE)
    body = json.loads(events[2].authorship.signed_body)
    assert body["kind"] == "BloodCountRecorded"
    assert body["signer"]["user_id"] == served.person(COORDINATOR).user_id
    assert body["data"] == {
        "collected_on": "2013-02-05",
        "results": {
            "haemoglobin": {"value": "7.6", "unit": "g/dL"},
            "platelets": {"value": "18", "unit": "10^9/L"},
        },
        "reticulocyte_method": "automated",
    }
    verified = sealtrail("verify", home=served.home)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert ", 0 findings" in verified.stdout
    assert_no_key_in(sent_bodies, key)
