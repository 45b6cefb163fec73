"""The browser tests' own checks catch what they are there to catch: a request to another
origin, an error a page logged, a serious accessibility violation; screenshots only on demand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PIL import Image

from tests.browser.harness import (
    READERS,
    SCREENSHOTS_VARIABLE,
    Traffic,
    assert_accessible,
    screenshot,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

    from tests.browser.harness import Served

pytestmark = pytest.mark.shares_the_served_store(READERS)  # reads /openapi.json alone

ACCESSIBLE = """<!doctype html><html lang="en"><head><title>A form</title></head>
<body><main><h1>Sign in</h1><form>
<label for="username">Username</label><input id="username" name="username">
<button type="submit">Sign in</button></form></main></body></html>"""


@pytest.fixture
def unguarded(browser: Browser) -> Iterator[BrowserContext]:
    """A context of its own, outside the ``page`` fixture's check (which would fail these
    tests for what they provoke), with the page's Content Security Policy switched off, so that
    a request the policy would refuse reaches the network."""
    context = browser.new_context(bypass_csp=True)
    try:
        yield context
    finally:
        context.close()


def test_a_request_to_another_origin_is_named(unguarded: BrowserContext, served: Served) -> None:
    traffic = Traffic(served.url)
    traffic.watch(unguarded)
    page = unguarded.new_page()
    page.goto(f"{served.url}/openapi.json")
    # localhost is another origin than 127.0.0.1, though the same server answers.
    elsewhere = served.url.replace("127.0.0.1", "localhost")
    # Sent, whatever the page may then read of the answer.
    page.evaluate(
        "url => fetch(url, {mode: 'no-cors'}).then(() => 'read', () => 'withheld')",
        f"{elsewhere}/v1/server-key",
    )
    traffic.tolerate(".")  # tolerates every error; a request sent is still named

    assert traffic.other_origins() == [f"{elsewhere}/v1/server-key"]
    assert traffic.problems() == [
        f"request sent to another origin than {served.url}: {elsewhere}/v1/server-key"
    ]


def test_an_error_a_page_logs_is_named_unless_the_test_expects_it(
    unguarded: BrowserContext,
) -> None:
    traffic = Traffic("http://127.0.0.1:1")
    traffic.watch(unguarded)
    page = unguarded.new_page()
    page.set_content("<title>errors</title>")
    page.evaluate("console.error('the chart found no values'); console.log('fine')")
    page.evaluate("setTimeout(() => { throw new Error('the signing key is missing') })")
    page.wait_for_timeout(100)

    assert traffic.problems() == [
        "console error: the chart found no values",
        "uncaught error: Error: the signing key is missing",
    ]
    traffic.tolerate("chart found no values")
    assert traffic.problems() == ["uncaught error: Error: the signing key is missing"]


@pytest.fixture
def blank(unguarded: BrowserContext) -> Page:
    return unguarded.new_page()


def test_axe_fails_a_page_with_a_serious_violation_naming_rule_and_element(blank: Page) -> None:
    blank.set_content(
        '<!doctype html><html lang="en"><title>t</title><main>'
        '<input id="unlabelled" name="password"><button id="empty"></button></main></html>'
    )

    with pytest.raises(AssertionError) as failure:
        assert_accessible(blank)

    message = str(failure.value)
    assert "serious or critical accessibility violation" in message
    assert "- label (critical): Form elements must have labels" in message
    assert "#unlabelled:" in message
    assert "- button-name (critical)" in message
    assert "#empty:" in message


def test_axe_passes_a_page_without_one(blank: Page) -> None:
    blank.set_content(ACCESSIBLE)

    results = assert_accessible(blank)

    assert results["violations"] == []
    # Run twice on one page, axe is injected once.
    assert assert_accessible(blank)["violations"] == []


def test_a_screenshot_is_taken_only_when_asked_for(
    blank: Page, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blank.set_content(ACCESSIBLE)
    monkeypatch.delenv(SCREENSHOTS_VARIABLE, raising=False)
    assert screenshot(blank, "sign-in", folder=tmp_path) is None
    assert list(tmp_path.iterdir()) == []

    monkeypatch.setenv(SCREENSHOTS_VARIABLE, "1")
    taken = screenshot(blank, "sign-in", folder=tmp_path)

    assert taken == tmp_path / "sign-in.png"
    assert taken.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(taken) as kept:  # a palette: about half the bytes of the browser's PNG
        assert kept.mode == "P" and kept.size == (1280, 720)
    with pytest.raises(ValueError, match="lower-case words"):
        screenshot(blank, "../README", folder=tmp_path)
