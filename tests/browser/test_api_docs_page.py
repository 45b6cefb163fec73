"""The API's docs page (``/docs``, Swagger UI served from the package, no CDN) in a real browser:
everything it loads comes from the server, and its Content Security Policy refuses the rest."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.harness import READERS, Traffic, assert_accessible, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.browser.harness import Served

pytestmark = pytest.mark.shares_the_served_store(READERS)  # reads /docs alone

FAVICON_MISSING = r"404 .*/favicon\.ico"
"""flask-smorest's Swagger page names no icon, so Chromium asks for /favicon.ico, which the API
does not serve. Our own pages name theirs; only this page's test expects the 404."""

OTHER_ORIGIN = "https://cdn.jsdelivr.net"


def open_docs(page: Page, traffic: Traffic) -> None:
    traffic.tolerate(FAVICON_MISSING)
    page.goto("/docs")
    page.get_by_role("heading", name="sealtrail").wait_for()


def test_the_docs_load_from_the_server_alone_and_log_no_error(
    page: Page, traffic: Traffic, served: Served
) -> None:
    open_docs(page, traffic)
    # Rendered by the vendored Swagger UI from the served OpenAPI document.
    page.locator(".opblock").first.wait_for()
    screenshot(page, "api-docs")

    assert f"{served.url}/openapi.json" in traffic.requests
    assert any(url.startswith(f"{served.url}/docs/assets/") for url in traffic.requests)
    assert traffic.problems() == []


def test_the_docs_policy_refuses_a_script_a_fetch_and_inline_code(
    page: Page, traffic: Traffic
) -> None:
    open_docs(page, traffic)
    traffic.tolerate("Content Security Policy")
    traffic.tolerate(f"^{OTHER_ORIGIN}/npm/injected.js$")

    violations = page.evaluate(
        """async other => {
            const seen = [];
            document.addEventListener('securitypolicyviolation',
                event => seen.push([event.effectiveDirective, event.blockedURI]));
            const script = document.createElement('script');
            script.src = other + '/npm/injected.js';
            const loaded = new Promise(done => { script.onload = () => done('loaded');
                                                 script.onerror = () => done('refused'); });
            document.head.append(script);
            const inline = document.createElement('script');
            inline.textContent = 'window.inlineRan = true';
            document.head.append(inline);
            let fetched;
            try { await fetch(other + '/beacon'); fetched = 'fetched'; }
            catch { fetched = 'refused'; }
            const script_result = await loaded;
            // Chromium queues each violation report as a task of its own: on a busy machine
            // they arrive after the refusals themselves, so wait for all three (or 10 s).
            for (let waited = 0; seen.length < 3 && waited < 10000; waited += 50) {
                await new Promise(tick => setTimeout(tick, 50));
            }
            return {script: script_result, fetched, inlineRan: window.inlineRan === true, seen};
        }""",
        OTHER_ORIGIN,
    )

    assert violations["script"] == "refused"
    assert violations["fetched"] == "refused"
    assert violations["inlineRan"] is False
    assert sorted(violations["seen"]) == [
        ["connect-src", f"{OTHER_ORIGIN}/beacon"],
        ["script-src-elem", f"{OTHER_ORIGIN}/npm/injected.js"],
        ["script-src-elem", "inline"],
    ]
    # Chromium saw the script's request and refused it under the policy: nothing was sent
    # (the page fixture checks it again).
    assert traffic.other_origins() == [f"{OTHER_ORIGIN}/npm/injected.js"]
    assert traffic.refused_by_policy == [f"{OTHER_ORIGIN}/npm/injected.js"]


def test_the_docs_have_no_serious_accessibility_finding_with_every_rule_on(
    page: Page, traffic: Traffic
) -> None:
    """Swagger UI's own page failed three of axe's rules (colour contrast, the page's language,
    its operation buttons' names); api/http/templates/swagger_ui.html meets them, none is
    turned off here. An operation opened shows its parameters and responses: checked too."""
    open_docs(page, traffic)
    page.locator(".opblock").first.wait_for()
    assert_accessible(page)
    page.locator(".opblock-summary-control").first.click()
    page.locator(".opblock-body").first.wait_for()

    results = assert_accessible(page)

    assert results["url"].endswith("/docs")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator(".opblock-summary-control[aria-label]").count() == 0
