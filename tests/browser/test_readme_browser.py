"""README.md's "In the browser", walked as a reader walks it, in Chromium: the one-time passwords
as ``make run`` printed them, each demonstration person's first sign-in and password change
through the forms the README names, and the pages its table says each person finds.

Nothing expected is copied here: the printed block, the steps' labels and the table are read
out of README.md, and the one-time passwords out of what ``sealtrail demo`` printed when it made
the store (tests.cli_stores.demo_output), so a README that drifts from the pages fails this test.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from api.console.initialise import FIRST_ADMINISTRATOR, FIRST_ADMINISTRATOR_NAME
from tests.browser.harness import (
    ADMINISTRATOR,
    DemoPerson,
    Served,
    ServedStore,
    Traffic,
    assert_accessible,
    screenshot,
    sign_in,
)
from tests.cli_stores import (
    ADMIN_PASSWORD,
    demo_output,
    init_output,
    printed_one_time_passwords,
)
from tests.e2e.test_readme_tour import README, find_lines

if TYPE_CHECKING:
    from playwright.sync_api import Page

SECTION = "## In the browser"
CHOSEN = "a passphrase the reader chose"


def section() -> str:
    """The README's browser section, up to the next section."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n{SECTION}\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def printed_block() -> list[str]:
    """The indented block that shows what ``make run`` ends with."""
    block = re.search(r"\n\n((?:    .*\n|\n)+)", section())
    assert block is not None, "the browser section shows no output of make run"
    return [line[4:] for line in block[1].rstrip("\n").split("\n")]


@dataclass(frozen=True)
class Row:
    """A row of the section's table: who, and the pages they find."""

    user_id: str
    pages: list[str]


def table() -> list[Row]:
    rows = []
    for line in section().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            rows.append(Row(cells[0].strip("`"), re.findall(r"`(/[^`]*)`", cells[2])))
    assert rows, "the browser section has no table of people and pages"
    return rows


def examples() -> list[str]:
    """The addresses the section's list of pages gives as examples (``/subjects/RP-02``, ...),
    beyond the pages of the table."""
    listed = "\n".join(line for line in section().splitlines() if line.startswith(("- ", "  ")))
    return sorted(set(re.findall(r"`(/[a-z][^`\s]*)`", listed)))


def page_of(example: str) -> str:
    """The page of the table an example address belongs to: ``/subjects/RP-02`` -> ``/subjects``."""
    return "/" + example.split("?")[0].split("/")[1]


def labels_in_steps() -> set[str]:
    """The names the steps give the fields and buttons (in *italics*)."""
    return set(re.findall(r"\*([A-Z][^*]+)\*", section()))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, demo_template: Path) -> Iterator[Served]:
    """``sealtrail serve`` over a copy of the store ``sealtrail init`` and ``sealtrail demo``
    made, the staff's one-time passwords as the demo issued them (not the harness's)."""
    home = tmp_path_factory.mktemp("readme-browser")
    shutil.copytree(demo_template, home, dirs_exist_ok=True)
    server = ServedStore(home, home / "server.log")
    with server:
        yield Served(server.url, home, {}, server)


def test_the_section_shows_what_make_run_ends_with(served: Served) -> None:
    # make run prints init's output, then demo's (Makefile).
    printed = (init_output(served.home) + demo_output(served.home)).splitlines()

    find_lines(printed_block(), printed, 0)


def test_each_person_signs_in_changes_the_one_time_password_and_finds_their_pages(
    page: Page, served: Served, traffic: Traffic
) -> None:
    printed = printed_one_time_passwords(demo_output(served.home))
    one_time = {row.user_id: row.password for row in printed}
    rows = table()
    named_pages = {url for row in rows for url in row.pages}
    labels = labels_in_steps()
    assert {"User id", "Password", "Sign in", "Current password", "New password"} <= labels
    assert {"New password again", "Change password", "Choose your password"} <= labels
    assert set(one_time) <= {row.user_id for row in rows}, "someone printed is not in the table"
    assert {page_of(url) for url in examples()} <= named_pages, examples()
    traffic.tolerate("status of 403")  # Chromium logs each page that answers 403

    for n, row in enumerate(rows):
        if row.user_id in one_time:
            first_sign_in(page, row.user_id, one_time[row.user_id], screenshots=n == 1)
        else:
            # The administrator of the tests' stores has changed init's one-time password
            # already (tests.cli_stores.initialised): the same change, made at the console.
            assert row.user_id == FIRST_ADMINISTRATOR
            sign_in(page, administrator())
        navigation = page.get_by_role("navigation", name="Pages")
        offered = [str(link.get_attribute("href")) for link in navigation.get_by_role("link").all()]
        for url in row.pages:
            assert url in offered, f"{row.user_id}'s navigation lacks {url}: {offered}"
        expect(navigation.get_by_role("listitem").last).to_have_text("Sign out")
        for url in sorted(named_pages):
            answer = page.goto(url)
            assert answer is not None
            expected = 200 if url in row.pages else 403
            assert answer.status == expected, f"{row.user_id} on {url}: {answer.status}"
            if expected == 200:
                assert_accessible(page)
        for url in examples():
            if url not in row.pages and page_of(url) in row.pages:
                answer = page.goto(url)
                assert answer is not None and answer.status == 200, f"{row.user_id} on {url}"
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def first_sign_in(page: Page, user_id: str, password: str, *, screenshots: bool) -> None:
    """Steps 1 and 2, as the README says them."""
    page.goto("/login")
    page.get_by_label("User id").fill(user_id)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Choose your password", level=1)).to_be_visible()
    assert_accessible(page)
    if screenshots:
        screenshot(page, "choose-your-password")
    page.get_by_label("Current password").fill(password)
    page.get_by_label("New password", exact=True).fill(CHOSEN)
    page.get_by_label("New password again").fill(CHOSEN)
    page.get_by_role("button", name="Change password").click()
    signed_in = re.compile(rf"^Signed in as .+ \({re.escape(user_id)}\)$")
    expect(page.get_by_text(signed_in)).to_be_visible()


def administrator() -> DemoPerson:
    return DemoPerson(ADMINISTRATOR, FIRST_ADMINISTRATOR, FIRST_ADMINISTRATOR_NAME, ADMIN_PASSWORD)
