"""The subject pages in a real browser: a monitor walks /subjects, opens a subject, sees its
charts drawn, and steps through its history event by event; every page loads from the server
alone, with no serious accessibility finding."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from tests.browser.harness import (
    READERS,
    DemoPerson,
    Served,
    Traffic,
    assert_accessible,
    screenshot,
    sign_in,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.shares_the_served_store(READERS)  # reads the demonstration's subjects

SUBJECT = "RP-02"
"""A subject whose week-6 count was corrected (76 -> 7.6 g/dL), with troughs and infusions."""


def drawn(page: Page, alt_starts: str) -> int:
    """The width the browser drew the chart image at (0 if it could not draw it)."""
    image = page.locator(f'img[alt^="{alt_starts}"]')
    image.scroll_into_view_if_needed()
    page.wait_for_function("image => image.complete", arg=image.element_handle())
    return int(image.evaluate("image => image.naturalWidth"))


def test_a_monitor_walks_from_the_list_to_a_subject_and_through_its_history(
    page: Page, served: Served
) -> None:
    sign_in(page, served.person("monitor"))
    page.goto("/subjects")
    page.get_by_role("heading", name="Subjects", exact=True).wait_for()
    assert page.locator("tbody tr").count() == 9
    assert_accessible(page)
    screenshot(page, "subjects")

    page.get_by_role("link", name=SUBJECT, exact=True).click()
    page.get_by_role("heading", name=f"Subject {SUBJECT}").wait_for()
    # The charts are the server's SVG, drawn by the browser under the page's policy.
    assert drawn(page, "Haemoglobin, neutrophils and platelets") > 0
    assert drawn(page, "Cyclosporine trough levels") > 0
    correction = page.locator(".timeline__change", has_text="Corrected").first
    assert "76" in correction.locator("del").first.inner_text()
    assert_accessible(page)
    screenshot(page, "subject", full_page=False)

    page.get_by_role("link", name="Step through its history, event by event").click()
    page.wait_for_url(re.compile(r"/as-of\?position=\d+$"))
    latest = position_of(page.url)
    page.get_by_role("link", name="Previous event").click()
    page.wait_for_url(re.compile(r"/as-of\?position=\d+$"))
    previous = position_of(page.url)
    assert previous < latest
    assert page.get_by_role("link", name="Next event").is_visible()
    assert_accessible(page)
    screenshot(page, "subject-as-of", full_page=False)

    page.get_by_role("link", name="Next event").click()
    page.wait_for_url(re.compile(rf"/as-of\?position={latest}$"))
    page.get_by_role("button", name="Show what changed").click()
    page.get_by_role("heading", name=f"What changed in {SUBJECT}").wait_for()
    assert page.locator(".changes__row").count() > 0
    assert_accessible(page)


def test_a_bad_position_is_a_page_saying_so(page: Page, served: Served, traffic: Traffic) -> None:
    sign_in(page, served.person("monitor"))
    traffic.tolerate(r"400 \(BAD REQUEST\) .*/as-of\?position=zero")  # the answer it asks for

    answer = page.goto(f"/subjects/{SUBJECT}/as-of?position=zero")

    assert answer is not None and answer.status == 400
    page.get_by_text("A log position is a whole number from 1").wait_for()
    assert_accessible(page)


def position_of(url: str) -> int:
    found = re.search(r"position=(\d+)$", url)
    assert found is not None, url
    return int(found.group(1))


def test_a_person_of_another_site_sees_nothing_of_rps_subjects(
    page: Page, served: Served, outsider: DemoPerson, traffic: Traffic
) -> None:
    sign_in(page, outsider)
    page.goto("/subjects")
    page.get_by_text("No subject of your sites has been screened.").wait_for()
    assert page.locator("tbody tr").count() == 0
    assert_accessible(page)

    traffic.tolerate(r"404 \(NOT FOUND\) .*/subjects/RP-02")  # the answer it asks for
    answer = page.goto(f"/subjects/{SUBJECT}")
    assert answer is not None and answer.status == 404
    assert "7.6" not in page.content() and "Timeline" not in page.content()
    page.get_by_text(f"NCT01297972/{SUBJECT} has not been screened").wait_for()
