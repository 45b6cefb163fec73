"""``/admin`` in Debian's Chromium (issue 19, point 10; docs/pages.md): the administrator sees the
accounts, locks one, opens an account (its bodies signed in the browser, its one-time password
shown) and registers its key from the person's public key file, each change signed in the
browser with their own key file, and the log then verifies; no request carries the key's
bytes, every page passes axe and loads nothing from another origin (the ``page`` fixture fails
a test that does); another role is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from signatures.keys import (
    generate_private_key,
    key_id,
    private_key_from_pem,
    private_key_to_pem,
    public_key_to_pem,
)
from tests.browser.harness import (
    ADMINISTRATOR,
    Served,
    Traffic,
    assert_accessible,
    screenshot,
    sign_in,
)
from tests.browser.test_signing_in_the_browser import assert_no_key_in
from tests.cli_stores import sealtrail

if TYPE_CHECKING:
    from playwright.sync_api import Page

MONITOR = "monitor"
COORDINATOR = "coordinator"


def test_the_administrator_locks_an_account_signed_in_the_browser_and_the_log_verifies(
    page: Page, served: Served, sent_bodies: list[bytes]
) -> None:
    monitor = served.person(MONITOR).user_id
    sign_in(page, served.person(ADMINISTRATOR))
    page.goto("/admin")
    page.get_by_role("heading", name="Administration", level=1).wait_for()
    row = page.locator(f'[id="account-{monitor}"]')
    assert "active" in row.inner_text()
    assert_accessible(page)
    screenshot(page, "admin")

    row.get_by_role("link", name=f"Lock an account ({monitor})").click()
    page.locator("form[data-signing-ready]").wait_for(state="attached")
    assert_accessible(page)
    page.get_by_label("Why").fill("On leave from 2026-12-07: no access meanwhile.")
    screenshot(page, "admin-change")
    page.locator("[data-key-file]").set_input_files(served.home / "admin.pem")
    page.get_by_role("button", name="Sign and lock the account").click()

    page.get_by_text(f"AccountLocked of {monitor} recorded at log position").wait_for()
    assert "account locked" in row.inner_text()
    assert_accessible(page)
    verified = sealtrail("verify", home=served.home)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert ", 0 findings" in verified.stdout
    assert_no_key_in(sent_bodies, served.home / "admin.pem")


def test_the_administrator_opens_an_account_and_registers_its_key_in_the_browser(
    page: Page, served: Served, sent_bodies: list[bytes], tmp_path: Path
) -> None:
    newcomer = "demo.newcomer"
    sign_in(page, served.person(ADMINISTRATOR))
    page.goto("/admin")
    page.get_by_role("link", name="Open an account").click()
    page.get_by_label("User id", exact=True).fill(newcomer)
    page.get_by_label("Printed name", exact=True).fill("Rita Nunes")
    page.get_by_label("Role", exact=True).select_option("monitor")
    page.get_by_label("Sites", exact=True).fill("RP")
    page.get_by_role("button", name="Show the changes to sign").click()
    page.locator("form[data-signing-ready]").wait_for(state="attached")
    assert_accessible(page)
    screenshot(page, "admin-open-account")
    page.locator("[data-key-file]").set_input_files(served.home / "admin.pem")
    page.get_by_role("button", name="Sign and open the account").click()

    password = page.locator("#one-time-password code")
    password.wait_for()
    assert len(password.inner_text()) >= 20
    assert_accessible(page)

    private_key = generate_private_key()
    public_file = tmp_path / "newcomer.pub.pem"
    public_file.write_bytes(public_key_to_pem(private_key.public_key()))
    expected = key_id(private_key.public_key())
    page.goto(f"/admin/accounts/{newcomer}/register-key")
    page.get_by_label("Or open the public key file").set_input_files(public_file)
    page.get_by_role("button", name="Read the key").click()
    page.locator("form[data-signing-ready]").wait_for(state="attached")
    assert expected in page.locator("main").inner_text()
    assert_accessible(page)
    screenshot(page, "admin-register-key")
    page.locator("[data-key-file]").set_input_files(served.home / "admin.pem")
    page.get_by_role("button", name="Sign and register the key").click()

    page.get_by_text(f"KeyRegistered of {newcomer} recorded at log position").wait_for()
    row = page.locator(f'[id="account-{newcomer}"]').inner_text()
    assert "Rita Nunes" in row and "monitor" in row and expected in row
    verified = sealtrail("verify", home=served.home)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert ", 0 findings" in verified.stdout
    assert_no_key_in(sent_bodies, served.home / "admin.pem")


def test_a_person_makes_their_key_pair_in_their_own_browser(
    page: Page, served: Served, sent_bodies: list[bytes], tmp_path: Path
) -> None:
    sign_in(page, served.person(COORDINATOR))
    page.goto("/account")
    page.locator("[data-key-pair-ready]").wait_for(state="attached")
    page.get_by_role("button", name="Make a key pair").click()
    page.locator("[data-made]").wait_for()
    assert_accessible(page)

    with page.expect_download() as private:
        page.get_by_role("link", name="Save your private key (.pem)").click()
    with page.expect_download() as public:
        page.get_by_role("link", name="Save your public key (.pub.pem)").click()

    coordinator = served.person(COORDINATOR).user_id  # the monitor is locked above
    assert (private.value.suggested_filename, public.value.suggested_filename) == (
        f"{coordinator}.pem", f"{coordinator}.pub.pem",
    )  # fmt: skip
    private_file, public_file = tmp_path / "new.pem", tmp_path / "new.pub.pem"
    private.value.save_as(private_file)
    public.value.save_as(public_file)
    # The files sealtrail key generate writes: the same PEM, byte for byte, and the same key id.
    private_key = private_key_from_pem(private_file.read_bytes())
    assert private_key_to_pem(private_key) == private_file.read_bytes()
    assert public_key_to_pem(private_key.public_key()) == public_file.read_bytes()
    assert page.locator("[data-public-pem]").inner_text().strip() == public_file.read_text().strip()
    assert page.locator("[data-new-key-id]").inner_text() == key_id(private_key.public_key())
    assert_no_key_in(sent_bodies, private_file)


def test_a_person_who_may_not_read_accounts_is_refused(
    page: Page, served: Served, traffic: Traffic
) -> None:
    traffic.tolerate("status of 403")
    sign_in(page, served.person("coordinator"))

    refused = page.goto("/admin")

    assert refused is not None and refused.status == 403
    assert_accessible(page)
