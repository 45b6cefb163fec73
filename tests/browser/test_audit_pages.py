"""The audit trail's pages in a real browser: filtered by person and kind of record, paged
through, its CSV downloaded, with no serious accessibility finding and nothing loaded from
another origin; a person of another site sees none of site RP's rows."""

from __future__ import annotations

import csv
import io
import re
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from tests.browser.harness import READERS, DemoPerson, assert_accessible, screenshot, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.browser.harness import Served, Traffic

pytestmark = pytest.mark.shares_the_served_store(READERS)  # reads; the outsider is shared

NOT_FOUND = r"status of 404"
BAD_REQUEST = r"status of 400"
"""Chromium logs a page answered 404 or 400 as a console error: a test asking for one expects it."""


def listed(page: Page) -> list[str]:
    """The rows the table lists, as position:entry:field."""
    return [str(row) for row in page.locator("tbody tr").evaluate_all(
        "rows => rows.map(row => row.dataset.row)"
    )]  # fmt: skip


def test_a_data_manager_filters_by_person_and_kind_pages_through_and_downloads_the_csv(
    page: Page, served: Served
) -> None:
    manager = served.person("data_manager")
    investigator = served.person("investigator")
    sign_in(page, manager)
    page.get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", name="Audit trail", level=1)).to_be_visible()

    page.get_by_label("Person").fill(investigator.user_id)
    page.get_by_label("Kind of record").select_option("BloodCountRecorded")
    page.get_by_label("Rows per page").select_option("25")
    page.get_by_role("button", name="Show rows").click()

    expect(page).to_have_url(re.compile(r"/audit\?.*user=demo\.investigator.*kind=BloodCount"))
    heading = page.get_by_role("heading", name=re.compile(r"^Rows 1 to 25 of \d+$"))
    expect(heading).to_be_visible()
    total = int(str(heading.text_content()).split()[-1])
    assert total > 50
    first = listed(page)
    assert len(first) == 25
    rows = page.locator("tbody tr")
    expect(rows.first).to_contain_text("demo.investigator")
    expect(rows.first).to_contain_text("BloodCountRecorded")
    assert_accessible(page)

    page.get_by_role("link", name="Next page").click()
    expect(page.get_by_role("heading", name=f"Rows 26 to 50 of {total}")).to_be_visible()
    second = listed(page)
    assert len(second) == 25 and not set(first) & set(second)
    expect(page.get_by_label("Person")).to_have_value(investigator.user_id)

    with page.expect_download() as downloaded:
        page.get_by_role("link", name="These rows as CSV").click()
    table = downloaded.value
    assert table.suggested_filename == "audit-trail-NCT01297972-page-2.csv"
    content = table.path().read_bytes().decode("utf-8-sig")
    in_file = [
        f"{row['position']}:{row['entry']}:{row['field']}"
        for row in csv.DictReader(io.StringIO(content))
    ]
    assert in_file == second

    page.get_by_role("link", name="Previous page").click()
    expect(page.get_by_role("heading", name=f"Rows 1 to 25 of {total}")).to_be_visible()
    assert listed(page) == first

    page.goto("/audit?action=corrected")  # the demonstration's correction, old -> new and why
    expect(page.get_by_role("heading", name="Rows 1 to 1 of 1")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "audit")


def test_bad_filters_put_the_error_summary_first_linked_to_the_fields(
    page: Page, served: Served, traffic: Traffic
) -> None:
    monitor = served.person("monitor")
    sign_in(page, monitor)
    traffic.tolerate(BAD_REQUEST)
    page.goto("/audit?from=2011-02-30&page=0")

    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_be_visible()
    summary.get_by_role("link", name="Enter a real date as YYYY-MM-DD, such as 2011-03-14").click()
    expect(page.get_by_label("Recorded from")).to_be_focused()
    expect(page.get_by_label("Recorded from")).to_have_value("2011-02-30")
    summary.get_by_role("link", name="Enter a page number from 1").click()
    expect(page.get_by_label("Page", exact=True)).to_be_focused()
    assert_accessible(page)


def test_a_person_of_another_site_sees_no_row_of_site_rp(
    page: Page, served: Served, outsider: DemoPerson, traffic: Traffic
) -> None:
    sign_in(page, outsider)
    page.goto("/audit")

    expect(page.get_by_role("heading", name="No row matches these filters")).to_be_visible()
    assert page.locator("tbody tr").count() == 0
    assert page.get_by_label("Site").locator("option").all_text_contents() == ["Any site"]
    assert_accessible(page)

    traffic.tolerate(NOT_FOUND)
    answer = page.goto("/subjects/RP-01/audit")
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")


def test_the_subject_page_lists_its_own_rows(page: Page, served: Served) -> None:
    investigator = served.person("investigator")
    sign_in(page, investigator)
    page.goto("/subjects/RP-05/audit?action=voided")

    expect(page.get_by_role("heading", name="Audit trail of RP-05", level=1)).to_be_visible()
    expect(page.locator("tbody tr").first).to_contain_text("voided")
    assert page.get_by_label("Subject").count() == 0
    assert_accessible(page)
    screenshot(page, "subject-audit")


def test_the_filters_and_the_pages_work_by_keyboard_alone(page: Page, served: Served) -> None:
    monitor = served.person("monitor")
    sign_in(page, monitor)
    page.goto("/audit")

    page.get_by_label("Person").focus()
    page.keyboard.type("demo.monitor")
    page.keyboard.press("Enter")  # a text field's Enter sends its form

    expect(page).to_have_url(re.compile(r"/audit\?.*user=demo\.monitor"))
    heading = page.get_by_role("heading", name=re.compile(r"^Rows 1 to 50 of \d+$"))
    expect(heading).to_be_visible()
    page.get_by_label("Page", exact=True).focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("2")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile(r"^Rows 51 to "))).to_be_visible()
    expect(page.get_by_label("Person")).to_have_value("demo.monitor")
