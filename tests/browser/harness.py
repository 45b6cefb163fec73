"""What the browser tests are made of: a served store, its people, and the checks on a page.

- :class:`ServedStore`: ``sealtrail serve`` (gunicorn) over a copy of the demonstration store,
  in a process group of its own, on a free loopback port;
- :func:`give_demo_passwords`: the demonstration's people as they sign in, each with a password
  of the tests' own (the demonstration's are one-time), and :func:`sign_in` through ``/login``;
- :class:`Traffic`: every request a page makes and every error it logs, so that a test fails
  when a page asked another origin for anything or logged an error nobody expected;
- :func:`assert_accessible`: axe-core (vendored, injected by the test, never served) on the page
  as it stands, failing on any violation of impact serious or critical;
- :func:`assert_labelled`, :func:`tab_to`, :func:`send_by_keyboard` and :func:`sign_by_keyboard`:
  a form used as a person without a mouse uses it (every field named, Tab reaches the button,
  Enter sends it);
- :func:`screenshot`: a PNG of the page for docs/pages/, only under ``SEALTRAIL_SCREENSHOTS=1``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from api.console.initialise import FIRST_ADMINISTRATOR, FIRST_ADMINISTRATOR_NAME
from api.demonstration.staff import STAFF
from infrastructure.bootstrap import open_store
from tests.cli_stores import ADMIN_PASSWORD, SEALTRAIL
from tests.homes import database_of
from tests.resilience.harness import REPOSITORY, Server

if TYPE_CHECKING:
    from playwright.sync_api import (
        BrowserContext,
        ConsoleMessage,
        Locator,
        Page,
        Request,
        WebError,
    )

    from infrastructure.bootstrap import Store

READERS = "readers"
"""The browser modules that only read the demonstration, or add what no other module counts (a
checkpoint sealed, a packet built, a sign-in): ``shares_the_served_store(READERS)``, one served
store among them (tests/browser/conftest.py)."""
OWN_SUBJECTS = "writers of their own subjects"
"""The browser modules that write only subjects of their own (each module its own range of
codes) and nothing another module's tests count: ``shares_the_served_store(OWN_SUBJECTS)``. The
oversight module designates the principal investigator anew, from today; the signing module's
investigator signs today either way (they pass in either order)."""

ADMINISTRATOR = "administrator"
"""The role name under which :func:`give_demo_passwords` lists ``admin``, beside the
demonstration's own (``coordinator``, ``investigator``, ``monitor``, ``data_manager``)."""

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")
SCREENSHOTS_VARIABLE = "SEALTRAIL_SCREENSHOTS"
PAGES_FOLDER = REPOSITORY / "docs" / "pages"
REFUSED_BY_POLICY = ("csp", "net::ERR_BLOCKED_BY_CSP")
NOT_NETWORK = ("data", "blob", "about")
"""URL schemes a page may load that ask no server for anything."""


# -- the demonstration's people -------------------------------------------------------------------


@dataclass(frozen=True)
class DemoPerson:
    """A person of the demonstration store, as they sign in."""

    role: str
    """The demonstration's name for their part: ``administrator``, ``coordinator``,
    ``investigator``, ``monitor`` or ``data_manager``."""
    user_id: str
    printed_name: str
    password: str


def give_demo_passwords(home: Path) -> dict[str, DemoPerson]:
    """Give each of the demonstration's staff in the store under ``home`` a password: who
    signs in, by role, ``admin`` included with the password the store's ``init`` left it.

    The demonstration gives each a one-time password, which opens only its own change
    (tests/browser/test_readme_browser.py walks that change as a reader does). Set here as the
    other tests set their people's (tests.conftest.open_person), at the tests' cheap Argon2id
    cost, which the server's check reads from the hash: each person's own change through the
    service costs two production-cost hashings more, and every sign-in a third of a second.
    """
    from tests.conftest import make_settings

    people = {
        ADMINISTRATOR: DemoPerson(
            ADMINISTRATOR, FIRST_ADMINISTRATOR, FIRST_ADMINISTRATOR_NAME, ADMIN_PASSWORD
        )
    }
    store = open_store(make_settings(home))
    try:
        for role, staff in STAFF.items():
            assert store.app.find_account(staff.user_id) is not None, f"no {staff.user_id} here"
            password = f"{role.replace('_', ' ')} walks the pages 2026"
            store.credentials.set_password(staff.user_id, password)
            people[role] = DemoPerson(role, staff.user_id, staff.printed_name, password)
    finally:
        store.close()
    return people


def sign_in(page: Page, person: DemoPerson) -> None:
    """Sign ``person`` in through ``/login``'s form, as a person does, and wait until the page
    it leads to names them (the footer: "Signed in as <printed name> (<user id>)")."""
    page.goto("/login")
    page.get_by_label("User id").fill(person.user_id)
    page.get_by_label("Password", exact=True).fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(signed_in_line(person)).wait_for()


def sign_out(page: Page) -> None:
    """Sign out with the navigation's button, as a person does before another signs in on the
    same browser."""
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in").wait_for()


def signed_in_line(person: DemoPerson) -> str:
    """The pages' footer line for a person signed in (in English)."""
    return f"Signed in as {person.printed_name} ({person.user_id})"


# -- the server -----------------------------------------------------------------------------------


class ServedStore(Server):
    """``sealtrail serve`` over the store under ``home``, as ``make run`` serves it."""

    def __init__(self, home: Path, log: Path, *, workers: int = 2) -> None:
        environment = {
            key: value for key, value in os.environ.items() if not key.startswith("SEALTRAIL_")
        }
        environment["SEALTRAIL_HOME"] = str(home)
        environment["SEALTRAIL_DATABASE_URL"] = database_of(home)
        super().__init__(environment, log, workers=workers)
        self.home = home

    def command(self) -> list[str]:
        return [
            SEALTRAIL,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--log-level",
            "warning",
        ]


@dataclass(frozen=True)
class Served:
    """What a page test is given: the server's address, its store's home and its people."""

    url: str
    home: Path
    people: dict[str, DemoPerson]
    server: ServedStore = field(repr=False)

    def person(self, role: str) -> DemoPerson:
        """The demonstration's person of ``role`` (``monitor``, ``administrator``, ...)."""
        return self.people[role]


@contextmanager
def served_store(served: Served) -> Iterator[Store]:
    """The store the server serves, opened beside it: what the server recorded, read back."""
    from tests.conftest import make_settings

    store = open_store(make_settings(served.home))
    try:
        yield store
    finally:
        store.close()


# -- what a page does -----------------------------------------------------------------------------


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class Traffic:
    """What the pages of one browser context asked for and logged, for the whole of a test.

    Every request is kept, so a test may look at them. :meth:`problems` names each request to
    another origin than ``origin`` (nothing a page shows may come from elsewhere, nor tell
    elsewhere that it was shown), each error a page logged on its console (a Content Security
    Policy violation among them) and each error a page's script left uncaught. A test that
    provokes one on purpose says so (:meth:`tolerate`); that covers a request to another origin
    only if the browser refused it under the page's policy, never one that was sent.
    """

    origin: str
    requests: list[str] = field(default_factory=list)
    refused_by_policy: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    tolerated: list[re.Pattern[str]] = field(default_factory=list)

    def watch(self, context: BrowserContext) -> None:
        """Record what every page of ``context`` asks for and logs from now on."""
        context.on("request", lambda request: self.requests.append(request.url))
        context.on("requestfailed", self._failed)
        context.on("console", self._console)
        context.on("weberror", self._web_error)
        context.on(
            "page", lambda page: page.on("websocket", lambda ws: self.requests.append(ws.url))
        )

    def tolerate(self, pattern: str) -> None:
        """Expect errors logged, and requests refused by the page's policy, matching
        ``pattern`` (a regular expression)."""
        self.tolerated.append(re.compile(pattern))

    def other_origins(self) -> list[str]:
        """The requests to another origin than the server's, sent or refused."""
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme not in NOT_NETWORK and origin_of(url) != self.origin
        ]

    def problems(self) -> list[str]:
        """One line for each request to another origin and each unexpected error."""
        lines = []
        for url in self.other_origins():
            if url not in self.refused_by_policy:
                lines.append(f"request sent to another origin than {self.origin}: {url}")
            elif not self._expected(url):
                lines.append(f"request to another origin (refused by the page's policy): {url}")
        lines += [
            f"console error: {text}" for text in self.console_errors if not self._expected(text)
        ]
        lines += [
            f"uncaught error: {text}" for text in self.page_errors if not self._expected(text)
        ]
        return lines

    def _expected(self, text: str) -> bool:
        return any(pattern.search(text) for pattern in self.tolerated)

    def _failed(self, request: Request) -> None:
        # Chromium checks a script's or a frame's source against the policy after the request
        # is made, so the request is seen; it fails so (Playwright's word for
        # net::ERR_BLOCKED_BY_CSP) and never leaves the browser.
        if request.failure in REFUSED_BY_POLICY:
            self.refused_by_policy.append(request.url)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url") or ""
            self.console_errors.append(f"{message.text} ({where})" if where else message.text)

    def _web_error(self, error: WebError) -> None:
        self.page_errors.append(f"{error.error.name}: {error.error.message}")


# -- accessibility --------------------------------------------------------------------------------


def assert_accessible(page: Page, *, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run axe-core on ``page`` as it stands; fail on any serious or critical violation,
    naming each rule, the elements and what to fix. Returns axe's results.

    axe is evaluated through the browser's debugging protocol, which the page's Content
    Security Policy does not govern: the page is checked as served, its policy untouched, and
    axe is never one of its scripts.
    """
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    results: dict[str, Any] = page.evaluate(
        "options => axe.run(document, options)", {"resultTypes": ["violations"], **(options or {})}
    )
    blocking = [v for v in results["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    if blocking:
        raise AssertionError(describe_violations(page.url, blocking))
    return results


def describe_violations(url: str, violations: list[dict[str, Any]], shown: int = 5) -> str:
    """axe's violations as a reader takes them in: the rule, its impact, what it asks and
    where, at most ``shown`` elements each."""
    lines = [f"axe-core: {len(violations)} serious or critical accessibility violation(s) on {url}"]
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']} "
            f"[{violation['helpUrl']}]"
        )
        nodes = violation["nodes"]
        for node in nodes[:shown]:
            summary = " ".join(str(node.get("failureSummary", "")).split())
            lines.append(f"    {' '.join(map(str, node['target']))}: {summary}")
        if len(nodes) > shown:
            lines.append(f"    ... and {len(nodes) - shown} more")
    return "\n".join(lines)


# -- the keyboard ---------------------------------------------------------------------------------

MOST_TABS = 100
"""Presses of Tab after which a control never reached counts as out of the keyboard's reach."""


def assert_labelled(form: Locator) -> None:
    """Fail naming each field of ``form`` a person fills in or chooses that has no accessible
    name (a ``<label>``, ``aria-label`` or ``aria-labelledby``): what a screen reader announces
    on reaching it by Tab."""
    unnamed = form.evaluate(
        """form => Array.from(form.elements)
            .filter(e => !['hidden', 'submit', 'button', 'reset'].includes(e.type))
            .filter(e => !['FIELDSET', 'OUTPUT', 'OBJECT', 'BUTTON'].includes(e.tagName))
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                && !e.getAttribute('aria-labelledby'))
            .map(e => e.outerHTML.slice(0, 120))"""
    )
    assert not unnamed, f"fields with no label: {unnamed}"


def tab_to(page: Page, target: Locator, *, most: int = MOST_TABS) -> None:
    """Press Tab from wherever the focus is until ``target`` has it, as a person without a
    mouse moves through a page; fail, naming the last places the focus went, if ``most``
    presses never reach it."""
    went = []
    for _ in range(most):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
        went.append(page.evaluate("() => document.activeElement.outerHTML.slice(0, 80)"))
    raise AssertionError(f"Tab never reached {target} in {most} presses; last: {went[-5:]}")


def send_by_keyboard(page: Page, button: Locator) -> None:
    """Tab from where the focus is to ``button`` (a form's), then Enter: the form is sent."""
    tab_to(page, button)
    page.keyboard.press("Enter")


def sign_by_keyboard(page: Page, key_file: Path, button: str) -> None:
    """Sign the page's signing form with ``key_file`` and send it by keyboard: once its script
    can sign, the key file opened (the file chooser is the browser's: Playwright gives it the
    file) and focused, then Tab to the button named ``button`` and Enter."""
    page.locator("form[data-signing-ready]").wait_for(state="attached")
    assert_labelled(page.locator("form[data-signing-form]"))
    chooser = page.locator("[data-key-file]")
    chooser.set_input_files(key_file)
    chooser.focus()
    send_by_keyboard(page, page.get_by_role("button", name=button, exact=True))


# -- screenshots ----------------------------------------------------------------------------------

_SCREENSHOT_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def screenshot(
    page: Page, name: str, *, folder: Path = PAGES_FOLDER, full_page: bool = True
) -> Path | None:
    """The whole of ``page`` (its first screen only, without ``full_page``: a page as long as a
    subject's timeline of hundreds of records) as ``folder/<name>.png`` (docs/pages/ for the
    README), only when ``SEALTRAIL_SCREENSHOTS=1``: an ordinary run leaves the tree as it was.
    Returns the file, or None when none was taken."""
    if not _SCREENSHOT_NAME.fullmatch(name):
        raise ValueError(f"a screenshot's name is lower-case words joined by '-', not {name!r}")
    if os.environ.get(SCREENSHOTS_VARIABLE) != "1":
        return None
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=path, full_page=full_page, animations="disabled", caret="hide")
    with_a_palette(path)
    return path


PALETTE_COLOURS = 256


def with_a_palette(path: Path) -> None:
    """Save the PNG at ``path`` again with a palette of 256 colours, undithered: a page's flat
    colours and anti-aliased text look the same, in about half the bytes (the README and
    docs/pages.md show these, and the repository keeps every one)."""
    from PIL import Image

    with Image.open(path) as taken:
        paletted = taken.convert("RGB").quantize(
            colors=PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
    paletted.save(path, optimize=True)
