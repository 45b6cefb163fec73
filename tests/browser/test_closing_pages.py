"""Closing a subject's records and the database in Debian's Chromium (issue 19; docs/pages.md, "A
subject's lock steps"): the sponsor's data manager freezes a subject, its investigator signs the
casebook, the data manager locks it and asks to unlock it, the investigator approves the unlock;
then the data manager locks site RP's database and reopens it. Each step is signed in the
browser with the person's own key file and sent by keyboard alone (every field named, Tab
reaches the button, Enter sends it); the log then holds each step as the page said, and
verifies; no request carries a key's bytes; every page passes axe and loads nothing from
another origin (the ``page`` fixture fails a test that does).

The database lock comes last: after it, each of RP's subjects stays locked in this module's store.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from domain.account import SPONSOR_ACCOUNT
from domain.subject.locks import LockState
from tests.browser.harness import (
    Served,
    assert_accessible,
    assert_labelled,
    screenshot,
    send_by_keyboard,
    served_store,
    sign_by_keyboard,
    sign_in,
    sign_out,
)
from tests.browser.test_signing_in_the_browser import (
    INVESTIGATOR,
    SIGNING_MS,
    assert_no_key_in,
    coordinator_records,
    demo_key,
    history_of,
    sign_with,
)
from tests.cli_stores import sealtrail
from tests.conftest import STUDY, consent, screening

if TYPE_CHECKING:
    from playwright.sync_api import Page

DATA_MANAGER = "data_manager"
TO_CLOSE, IN_THE_DATABASE = "RP-82", "RP-83"
SCREEN_FAILURE = {"failed_on": "2013-05-03", "reason": "Refused the bone marrow biopsy"}


def ended(served: Served, code: str, folder: Path) -> str:
    """Subject ``code`` screened, consented and failed screening (its end of study: a casebook
    to sign), recorded by the demonstration's coordinator over the API."""
    coordinator_records(
        served,
        code,
        folder,
        ("Screened", screening(screened_on="2013-05-02")),
        ("ConsentObtained", consent() | {"consented_on": "2013-05-02"}),
        ("ScreenFailed", SCREEN_FAILURE),
    )
    return code


@pytest.fixture(scope="module")
def to_close(served: Served, tmp_path_factory: pytest.TempPathFactory) -> str:
    return ended(served, TO_CLOSE, tmp_path_factory.mktemp("to-close"))


@pytest.fixture(scope="module")
def casebook_signed(served: Served, tmp_path_factory: pytest.TempPathFactory) -> str:
    """RP-83, ended, its casebook signed by the investigator at the console
    (``sealtrail sign-casebook``): what a subject needs before its site's database is locked."""
    code = ended(served, IN_THE_DATABASE, tmp_path_factory.mktemp("casebook-signed"))
    investigator = served.person(INVESTIGATOR)
    signed = sealtrail(
        "sign-casebook", "--url", served.url, "--user", investigator.user_id,
        "--key", str(demo_key(served, INVESTIGATOR)), "--subject", code,
        "--milestone", "end_of_study", "--meaning", "responsibility",
        home=served.home, extra_env={"SEALTRAIL_PASSWORD": investigator.password},
    )  # fmt: skip
    assert signed.returncode == 0, signed.stdout + signed.stderr
    return code


def take_step(
    page: Page, code: str, link: str, button: str, key: Path, photographed: str | None = None
) -> None:
    """From the subject's page, the step its link names, its form checked (and photographed
    as ``photographed``), signed with ``key`` and sent by keyboard."""
    page.goto(f"/subjects/{code}")
    page.get_by_role("link", name=link, exact=True).click()
    page.get_by_role("heading", name=f"{link}: {code}").wait_for()
    assert_accessible(page)
    reason = page.get_by_label("Why")
    if reason.count():
        reason.fill(f"{link}: the data manager's reason, as the sponsor's plan says.")
    if photographed is not None:
        screenshot(page, photographed)
    sign_by_keyboard(page, key, button)


def recorded(page: Page, kind: str, code: str) -> None:
    page.get_by_text(f"{kind} of {code} recorded at log position").wait_for()


def test_the_data_manager_freezes_and_locks_a_subject_and_the_investigator_approves_its_unlock(
    page: Page, served: Served, to_close: str, sent_bodies: list[bytes]
) -> None:
    manager, investigator = served.person(DATA_MANAGER), served.person(INVESTIGATOR)
    manager_key, investigator_key = demo_key(served, DATA_MANAGER), demo_key(served, INVESTIGATOR)
    sign_in(page, manager)
    take_step(
        page, to_close, "Freeze the subject's records", "Sign and freeze", manager_key,
        photographed="lock-step",
    )  # fmt: skip
    recorded(page, "SubjectFrozen", to_close)
    assert_accessible(page)
    sign_out(page)

    sign_in(page, investigator)  # frozen: no new record, but the casebook is signed
    page.goto("/sign")
    section = page.locator("section", has=page.get_by_role("heading", name=to_close))
    casebook = section.get_by_role("group", name="The casebook has reached end of study")
    casebook.get_by_label("Responsibility: I take responsibility for these records").check()
    section.get_by_role("button", name="Review and sign the casebook at end of study").click()
    sign_with(page, investigator, key_file=investigator_key)
    page.get_by_text(f"Signed: CasebookSigned of {to_close}").wait_for(timeout=SIGNING_MS)
    sign_out(page)

    sign_in(page, manager)
    take_step(page, to_close, "Lock the subject's records", "Sign and lock", manager_key)
    recorded(page, "SubjectLocked", to_close)
    take_step(
        page, to_close, "Ask to unlock the subject's records", "Sign and ask to unlock",
        manager_key,
    )  # fmt: skip
    recorded(page, "SubjectUnlockRequested", to_close)
    sign_out(page)

    sign_in(page, investigator)
    page.goto(f"/subjects/{to_close}/lock-steps/approve-unlock")
    asked = page.locator(".summary-list").inner_text()
    assert "Unlock asked for" in asked and "the data manager's reason" in asked
    take_step(
        page, to_close, "Approve the unlock asked for", "Sign and unlock", investigator_key,
        photographed="lock-step-approve-unlock",
    )  # fmt: skip
    recorded(page, "SubjectUnlocked", to_close)
    assert_accessible(page)

    steps = [
        (event.kind(), json.loads(event.authorship.signed_body)["signer"]["user_id"])
        for event in history_of(served, to_close)[3:]
    ]
    assert steps == [
        ("SubjectFrozen", manager.user_id),
        ("CasebookSigned", investigator.user_id),
        ("SubjectLocked", manager.user_id),
        ("SubjectUnlockRequested", manager.user_id),
        ("SubjectUnlocked", investigator.user_id),
    ]
    with served_store(served) as store:
        subject = store.app.find_subject(f"{STUDY}/{to_close}")
        assert subject is not None and subject.lock_state is LockState.OPEN
    assert_no_key_in(sent_bodies, manager_key)
    assert_no_key_in(sent_bodies, investigator_key)


def test_the_data_manager_locks_site_rps_database_and_reopens_it_signed_in_the_browser(
    page: Page, served: Served, casebook_signed: str, sent_bodies: list[bytes]
) -> None:
    key = demo_key(served, DATA_MANAGER)
    sign_in(page, served.person(DATA_MANAGER))
    page.goto("/study")
    page.get_by_role("link", name="Lock the database of a site or of the study").click()
    page.get_by_role("heading", name=f"Lock the database: {STUDY}").wait_for()
    assert_accessible(page)
    screenshot(page, "database-lock")

    assert_labelled(page.locator("form", has=page.get_by_label("What is locked")))
    page.get_by_label("What is locked").select_option("RP")
    page.get_by_label("Why").fill("Database lock of site RP before the final analysis.")
    send_by_keyboard(page, page.get_by_role("button", name="See what you sign"))

    offered = page.locator(".summary-list")
    offered.get_by_text("Database lock of site RP before the final analysis.").wait_for()
    assert casebook_signed in offered.inner_text()
    assert_accessible(page)
    screenshot(page, "database-lock-sign")
    sign_by_keyboard(page, key, "Sign and lock the database")

    page.get_by_text(f"{STUDY}/RP locked:").wait_for()
    with served_store(served) as store:
        assert f"{STUDY}/RP" in store.app.account(SPONSOR_ACCOUNT).database_locks
        subjects = [s for s in store.reads.subjects_of(STUDY) if s.site == "RP"]
        assert {s.subject_code for s in subjects} >= {casebook_signed}
        assert {s.lock_state for s in subjects} == {LockState.LOCKED}
    assert_accessible(page)

    # Reopened as the console's `sealtrail reopen site` does: only a locked scope is offered.
    page.goto("/study/database-lock")
    page.get_by_role("link", name="Reopen a locked database").click()
    page.get_by_role("heading", name=f"Reopen a locked database: {STUDY}").wait_for()
    assert_accessible(page)
    screenshot(page, "database-reopen")
    assert_labelled(page.locator("form", has=page.get_by_label("What is reopened")))
    assert page.get_by_label("What is reopened").locator("option").all_inner_texts() == ["RP"]
    page.get_by_label("Why").fill("A late query on site RP, answered before the analysis.")
    send_by_keyboard(page, page.get_by_role("button", name="See what you sign"))
    page.locator(".summary-list").get_by_text("A late query on site RP").wait_for()
    assert_accessible(page)
    sign_by_keyboard(page, key, "Sign and reopen the database")

    page.get_by_text(f"{STUDY}/RP reopened:").wait_for()
    with served_store(served) as store:
        assert f"{STUDY}/RP" not in store.app.account(SPONSOR_ACCOUNT).database_locks
        subjects = [s for s in store.reads.subjects_of(STUDY) if s.site == "RP"]
        assert {s.lock_state for s in subjects} == {LockState.LOCKED}  # each stays locked
    assert_accessible(page)
    verified = sealtrail("verify", home=served.home)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert ", 0 findings" in verified.stdout
    assert_no_key_in(sent_bodies, key)
