"""/verify in a real browser against a real server over the demonstration store: a checkpoint kept
from earlier is checked consistent with the latest in the browser, a doctored one is refused
with its reason, and an event is checked from its author's signature up to the checkpoint."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import expect

from domain.subject import subject_stream
from infrastructure.bootstrap import Store, open_store
from signatures.checkpoint import Checkpoint, parse_note, sign_checkpoint
from tests.browser.harness import READERS, assert_accessible, screenshot, sign_in
from tests.conftest import STUDY, make_settings

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from tests.browser.harness import Served


pytestmark = pytest.mark.shares_the_served_store(READERS)  # reads; seals checkpoints none counts


@contextmanager
def store_of(served: Served) -> Iterator[Store]:
    """The served store, opened beside the server (as an operator's console would)."""
    store = open_store(make_settings(served.home))
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(scope="module")
def kept(served: Served) -> str:
    """A checkpoint an auditor kept before this module's people signed in (which the log
    records): by the time the page is opened, the log has grown past it."""
    with store_of(served) as store:
        return store.app.checkpoints.seal().note


def seal_now(served: Served) -> Checkpoint:
    """Seal a checkpoint of the log as it now stands (the latest the page shows)."""
    with store_of(served) as store:
        note = store.app.checkpoints.seal().note
    return parse_note(note)[0]


def check_kept(page: Page, note: str) -> None:
    page.get_by_label("Paste the checkpoint").fill(note)
    page.get_by_role("button", name="Check that the log extends it").click()


def test_a_checkpoint_kept_from_earlier_is_checked_consistent_in_the_browser(
    page: Page, served: Served, kept: str
) -> None:
    then = parse_note(kept)[0]
    sign_in(page, served.person("monitor"))
    now = seal_now(served)
    assert now.size > then.size
    with store_of(served) as store:
        hashes = len(store.app.checkpoints.consistency(then.size, now.size))

    page.get_by_role("link", name="Verify").click()

    latest = page.locator("#latest-result")
    expect(latest).to_contain_text(
        f"Checked in your browser: The latest checkpoint ({now.size} events) is signed by "
        f"{now.origin}"
    )
    check_kept(page, kept)
    result = page.locator("#kept-result")
    expect(result.locator(".verdict")).to_have_text(
        "Checked in your browser: Consistent: the consistency proof "
        f"({hashes} hashes) shows that the log of {now.size} events extends the log "
        f"of {then.size} events you kept: nothing recorded up to then was changed or removed."
    )
    expect(result).to_contain_text(
        f"Your checkpoint ({then.size} events) is signed by the same log with the same key."
    )
    assert_accessible(page)
    screenshot(page, "verify")


def test_a_doctored_checkpoint_is_refused_in_the_browser_with_its_reason(
    page: Page, served: Served, kept: str
) -> None:
    then = parse_note(kept)[0]
    with store_of(served) as store:
        server_key, origin = store.app.server_key.private_key, store.app.checkpoints.origin
    # What a server rewriting history would hand out: its own key over another root.
    rewritten = sign_checkpoint(server_key, origin, Checkpoint(origin, then.size, bytes(32)))
    root_line = kept.split("\n")[2]
    edited = kept.replace(
        root_line, root_line[:10] + ("A" if root_line[10] != "A" else "B") + root_line[11:]
    )
    another_log = sign_checkpoint(
        Ed25519PrivateKey.generate(),
        "other.example/log",
        Checkpoint("other.example/log", 3, bytes(32)),
    )
    sign_in(page, served.person("data_manager"))
    assert seal_now(served).size > then.size  # whichever test of the module runs first
    page.goto("/verify")
    result = page.locator("#kept-result .verdict")

    check_kept(page, rewritten)
    expect(result).to_have_text(
        "Refused by your browser: Not consistent: consistency-proof-invalid: the consistency "
        "proof does not lead to the old root"
    )
    check_kept(page, edited)
    expect(result).to_have_text(
        "Refused by your browser: Not consistent: checkpoint-signature-invalid: a signature by "
        f"{origin} does not verify"
    )
    check_kept(page, another_log)
    expect(result).to_have_text(
        "Refused by your browser: Not consistent: checkpoint-of-another-log: this checkpoint is "
        f"of another log (other.example/log), not of this one ({origin})"
    )
    check_kept(page, "not a checkpoint at all")
    expect(result).to_have_text(
        "Refused by your browser: Not consistent: checkpoint-malformed: no blank line separates "
        "the note text from its signatures"
    )


def test_an_event_is_checked_from_its_author_signature_to_the_checkpoint(
    page: Page, served: Served
) -> None:
    with store_of(served) as store:
        screening = store.reads.history(subject_stream(STUDY, "RP-01"))[0].position
    sign_in(page, served.person("monitor"))
    page.goto("/verify")

    page.get_by_label("Log position").fill(str(screening))
    page.get_by_role("button", name="Check this event").click()

    result = page.locator("#event-result")
    expect(result.locator(".verdict")).to_contain_text(
        f"Checked in your browser: Event {screening} is in the log of"
    )
    for step in (
        "The author's Ed25519 signature over the exact bytes signed verifies",
        "Those bytes, the signature and the previous event's hash give the event hash",
        "The event's leaf of the log",
        "The inclusion proof leads from that leaf to the checked checkpoint's root",
    ):
        expect(result).to_contain_text(step)

    # The log's first event is the server's account: a monitor does not read accounts.
    page.get_by_label("Log position").fill("1")
    page.get_by_role("button", name="Check this event").click()
    expect(result.locator(".verdict")).to_contain_text("Event 1 is in the log of")
    expect(result).to_contain_text("You may not read this event")
    assert_accessible(page)


def test_a_key_the_auditor_kept_is_used_instead_of_the_one_the_server_names(
    page: Page, served: Served
) -> None:
    sign_in(page, served.person("monitor"))
    page.goto("/verify")
    expect(page.locator("#latest-result .verdict")).to_contain_text("Checked in your browser")

    page.get_by_label("The log's public key, if you kept it").fill(
        (served.home / "keys" / "server-ed25519.pub.pem").read_text()
    )
    page.get_by_role("button", name="Check with this key").click()
    expect(page.locator("#latest-result")).to_contain_text("The key is the one you gave.")

    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    page.get_by_label("The log's public key, if you kept it").fill(base64.b64encode(other).decode())
    page.get_by_role("button", name="Check with this key").click()
    expect(page.locator("#latest-result .verdict")).to_contain_text(
        "Refused by your browser: checkpoint-signature-invalid: the note carries no signature by"
    )


def test_without_javascript_the_page_shows_the_servers_claims_marked_unchecked(
    browser: Browser, served: Served, kept: str
) -> None:
    context = browser.new_context(base_url=served.url, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, served.person("investigator"))
        page.goto("/verify")
        expect(page.get_by_text("Not checked in your browser").first).to_be_visible()
        expect(page.get_by_text("Checked in your browser:")).to_have_count(0)

        check_kept(page, kept)
        expect(page.get_by_text("Consistent:", exact=True)).to_be_visible()
        check_kept(page, "not a checkpoint at all")
        summary = page.get_by_role("alert").filter(has_text="There is a problem")
        expect(summary).to_contain_text(
            "This is not a signed checkpoint: no blank line separates the note text from its "
            "signatures"
        )
    finally:
        context.close()


def test_a_kept_checkpoint_is_checked_by_keyboard_alone(
    page: Page, served: Served, kept: str
) -> None:
    sign_in(page, served.person("investigator"))
    seal_now(served)
    page.goto("/verify")
    page.get_by_label("Paste the checkpoint").focus()

    page.keyboard.insert_text(kept)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Or choose its file")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Check that the log extends it")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.locator("#kept-result .verdict")).to_contain_text(
        "Checked in your browser: Consistent"
    )


def test_the_browser_says_its_results_in_portuguese_to_a_portuguese_reader(
    browser: Browser, served: Served
) -> None:
    context = browser.new_context(base_url=served.url, locale="pt-BR")
    context.set_extra_http_headers({"Accept-Language": "pt-BR"})
    page = context.new_page()
    try:
        page.goto("/login")
        page.get_by_label("Identificador de usuário").fill(served.person("monitor").user_id)
        page.get_by_label("Senha", exact=True).fill(served.person("monitor").password)
        page.get_by_role("button", name="Entrar").click()
        page.goto("/verify")

        expect(page.get_by_role("heading", name="Verificar o log", level=1)).to_be_visible()
        expect(page.locator("#latest-result .verdict")).to_contain_text(
            "Verificado no seu navegador: O último checkpoint"
        )
    finally:
        context.close()
