"""``/packets`` in Chromium: the data manager asks for the study's packet, looks at its build's
page until it is built, and downloads it; uploads it and reads "Verified"; the same packet with
one byte of a file changed reads "Not verified", the finding naming the file; no serious
accessibility finding and nothing from another origin.
The packet is built once for the module (a build of the demonstration study takes seconds)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.harness import READERS, Served, assert_accessible, screenshot, sign_in
from tests.packets.zips import one_byte_changed

pytestmark = pytest.mark.shares_the_served_store(READERS)  # builds packets of the store as it is

SLOW_MS = 180_000
"""How long a build or a verification may take here: seconds on an idle machine, more on a
loaded one."""

TAMPERED = "datasets/LB.csv"


@pytest.fixture(scope="module")
def built() -> dict[str, bytes]:
    """The packet the module's first build downloaded."""
    return {}


def build_and_download(page: Page, served: Served, tmp_path: Path) -> bytes:
    """Sign in as the data manager, build the study's packet on /packets, and download it."""
    sign_in(page, served.person("data_manager"))
    page.get_by_role("link", name="Packets").click()
    expect(page.get_by_role("heading", name="Submission packets", level=1)).to_be_visible()
    page.get_by_label("The whole study's packet").check()
    page.get_by_role("button", name="Build the packet").click()
    page.wait_for_url("**/packets/builds/*")
    # The build's page: looked at again with its link until the packet is built.
    deadline = time.monotonic() + SLOW_MS / 1000
    while "being built" in page.get_by_role("heading", level=1).inner_text():
        assert time.monotonic() < deadline, "the packet was not built in time"
        assert_accessible(page)
        page.wait_for_timeout(1000)
        with page.expect_navigation():
            page.get_by_role("link", name="Look again").click()
    expect(page.get_by_role("heading", name="Ready Your packet is built", level=1)).to_be_visible()
    assert_accessible(page)
    with page.expect_download(timeout=SLOW_MS) as downloaded:
        page.get_by_role("link", name="Download the packet").click()
    packet = downloaded.value
    assert packet.suggested_filename == "sealtrail-packet.zip"
    saved = tmp_path / packet.suggested_filename
    packet.save_as(saved)
    page.get_by_role("link", name="Back to the submission packets").click()
    return saved.read_bytes()


def upload(page: Page, path: Path) -> None:
    page.get_by_label("The packet").set_input_files(path)
    page.get_by_role("button", name="Verify the packet").click()
    expect(page.locator("#result")).to_be_visible(timeout=SLOW_MS)


def test_the_data_manager_builds_downloads_and_verifies_the_study_packet(
    page: Page, served: Served, tmp_path: Path, built: dict[str, bytes]
) -> None:
    data = build_and_download(page, served, tmp_path)
    built["study"] = data
    assert data.startswith(b"PK\x03\x04")
    assert_accessible(page)

    path = tmp_path / "packet.zip"
    path.write_bytes(data)
    upload(page, path)

    verdict = page.get_by_role("heading", level=2, name="Verified nothing in the packet fails")
    expect(verdict).to_be_visible()
    expect(page.locator("#result table")).to_have_count(0)
    assert_accessible(page)
    screenshot(page, "packets")


def test_a_packet_with_one_byte_changed_shows_the_finding_naming_the_file(
    page: Page, served: Served, tmp_path: Path, built: dict[str, bytes]
) -> None:
    if "study" in built:
        data = built["study"]
        sign_in(page, served.person("monitor"))  # anyone signed in may verify
    else:  # run alone, or on another worker than the build above
        data = build_and_download(page, served, tmp_path)
    path = tmp_path / "tampered.zip"
    path.write_bytes(one_byte_changed(data, TAMPERED))
    page.goto("/packets")

    upload(page, path)

    expect(page.get_by_role("heading", level=2, name="Not verified 2 findings")).to_be_visible()
    rows = page.locator("#result tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("td").nth(0)).to_have_text(TAMPERED)
    expect(rows.nth(0).locator("td").nth(2)).to_have_text("file-altered")
    expect(rows.nth(1).locator("td").nth(2)).to_have_text("derived-mismatch")
    assert_accessible(page)
    screenshot(page, "packets-not-verified")
