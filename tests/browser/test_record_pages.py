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

from tests.browser.harness import Served, assert_accessible, screenshot, sign_in
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

CODE = "RP-71"


def test_the_coordinator_corrects_a_typing_error_and_signs_a_blood_count_in_the_browser(
    page: Page, served: Served, tmp_path: Path, sent_bodies: list[bytes]
) -> None:
    coordinator_records(
        served,
        CODE,
        tmp_path,
        ("Screened", screening(screened_on="2013-02-04")),
        ("ConsentObtained", consent() | {"consented_on": "2013-02-04"}),
    )
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
