"""Browser tests: Debian's Chromium, headless, driven by Playwright, against ``sealtrail serve``.

Fixtures (tests/browser/README.md shows a page test written with them):

- ``served`` (one per test module): ``sealtrail serve`` over a copy of the demonstration store
  on a free loopback port; ``served.url``, ``served.home``, ``served.people`` /
  ``served.person(role)``. A module marked ``shares_the_served_store(name)`` is given instead
  the one server of the modules marked with that name (:func:`shared_store`), and the one
  Chromium of the modules marked with any;
- ``outsider`` (per module, or per process for the modules sharing the store): a site
  coordinator of site SP opened in the served store, who must see nothing of site RP's subjects;
- ``demo_people`` (per module): ``served.people``, who signs in by role (``administrator``,
  ``coordinator``, ``investigator``, ``monitor``, ``data_manager``): user id, printed name,
  password;
- ``browser`` (one per test process): Chromium, launched once with tests/browser/chromium.py's
  flags and a fresh, empty profile;
- ``page`` (per test): a new page in a new browser context (its own cookies and storage) whose
  relative addresses are the server's (``page.goto("/docs")``); when the test ends it FAILS if
  the page sent any request to another origin, or logged an error the test did not expect;
- ``traffic`` (per test): what ``page`` asked for and logged (``traffic.requests``), and
  ``traffic.tolerate(pattern)`` for an error the test provokes on purpose.

Helpers to import from tests.browser.harness: ``sign_in(page, person)`` (through ``/login``'s
form), ``assert_accessible(page)`` (axe-core: no serious or critical violation) and
``screenshot(page, name)`` (docs/pages/<name>.png, only under ``SEALTRAIL_SCREENSHOTS=1``).

Every test under tests/browser is marked ``browser`` (``pytest -m browser``, ``-m 'not
browser'``). Without Chromium or Playwright they skip, saying why; under ``CI=true`` the run
stops before any test (tests/conftest.py), and a test that still finds none fails.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from infrastructure.bootstrap import open_store
from tests.browser.chromium import FLAGS, Chromium, find_chromium
from tests.browser.harness import DemoPerson, Served, ServedStore, Traffic, give_demo_passwords
from tests.conftest import make_settings, open_person

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright, Request

HERE = Path(__file__).parent
VIEWPORT = {"width": 1280, "height": 800}
"""A laptop's screen: what the screenshots in docs/pages/ show."""
TIMEOUT_MS = 10_000
"""How long a page action waits (Playwright's own default, 30 s, only delays a failure)."""


@cache
def chromium() -> Chromium:
    return find_chromium(os.environ)


def require_chromium() -> str:
    """The executable to launch, or skip (fail under CI)."""
    found = chromium()
    if found.executable is not None:
        return found.executable
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true, so the browser tests must run, but they are {found.state}")
    pytest.skip(found.header)


def shared_store(node: pytest.Item | pytest.Collector | None) -> str | None:
    """The served store a test (or module) marked ``shares_the_served_store(name)`` shares
    (tests.browser.harness: :data:`READERS`, :data:`OWN_SUBJECTS`).

    The modules marked with one name run one after another on one xdist worker (one xdist group
    a name) and share one server and its store; the modules marked with any name share one
    Chromium. Each module's own cost ~2.6 s of CPU on a quiet machine (a server started and
    stopped, 1.75 s; Playwright's driver and Chromium, 0.85 s), more under a full run's load. A
    module that changes what another module's tests would see (a person locked, the site's
    database locked, the subjects counted, a correction counted) keeps a server of its own: not
    marked."""
    marker = None if node is None else node.get_closest_marker("shares_the_served_store")
    return None if marker is None else str(marker.args[0])


@pytest.hookimpl(tryfirst=True)  # before tests/conftest.py groups each module's tests
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)
        name = shared_store(item)
        if name is not None:
            item.add_marker(pytest.mark.xdist_group(f"tests/browser: the store of the {name}"))


class SharedChromium:
    """Chromium for the modules that share a served store, launched at the first test of theirs
    and closed after the last of them that runs in a row (:func:`pytest_runtest_teardown`): never
    left running under another test (the ``browser`` fixture says why)."""

    def __init__(self) -> None:
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None

    def launched(self) -> Browser:
        if self._browser is None:
            executable = require_chromium()
            from playwright.sync_api import sync_playwright

            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(
                executable_path=executable, args=list(FLAGS)
            )
        return self._browser

    def close(self) -> None:
        try:
            if self._browser is not None:
                self._browser.close()
        finally:
            self._browser = None
            if self._playwright is not None:
                self._playwright.stop()
                self._playwright = None


SHARED_CHROMIUM = SharedChromium()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield  # the test's own fixtures (its module's, when the module ends) are finalised first
    if shared_store(item) is not None and shared_store(nextitem) is None:
        SHARED_CHROMIUM.close()


@pytest.fixture(scope="session")
def browser_demo_template(
    tmp_path_factory: pytest.TempPathFactory, demo_template: Path
) -> tuple[Path, dict[str, DemoPerson]]:
    """The demonstration store with a password for each of its people, once per test
    process."""
    home = tmp_path_factory.mktemp("browser-demo")
    shutil.copytree(demo_template, home, dirs_exist_ok=True)
    return home, give_demo_passwords(home)


@contextmanager
def served_copy(
    tmp_path_factory: pytest.TempPathFactory,
    browser_demo_template: tuple[Path, dict[str, DemoPerson]],
) -> Iterator[Served]:
    """``sealtrail serve`` over a copy of the demonstration store of its own."""
    require_chromium()  # no server started for tests that will not run
    template, people = browser_demo_template
    home = tmp_path_factory.mktemp("served")
    shutil.copytree(template, home, dirs_exist_ok=True)
    # One worker: a page test drives one browser, one request at a time, and each worker's
    # start (the app built, every template compiled) costs ~2.4 s of CPU. The README's walk
    # (test_readme_browser.py) serves with make run's two, and tests/resilience with several,
    # where requests meeting different workers is what is tested.
    server = ServedStore(home, home / "server.log", workers=1)
    with server:
        yield Served(server.url, home, people, server)


class SharedStores:
    """The served stores of the modules marked ``shares_the_served_store(name)``, one a name,
    each started when a module of its name first asks for it, with its outsider."""

    def __init__(
        self,
        tmp_path_factory: pytest.TempPathFactory,
        browser_demo_template: tuple[Path, dict[str, DemoPerson]],
        stack: ExitStack,
    ) -> None:
        self._tmp_path_factory = tmp_path_factory
        self._template = browser_demo_template
        self._stack = stack
        self._served: dict[str, Served] = {}
        self._outsiders: dict[str, DemoPerson] = {}

    def served(self, name: str) -> Served:
        if name not in self._served:
            self._served[name] = self._stack.enter_context(
                served_copy(self._tmp_path_factory, self._template)
            )
        return self._served[name]

    def outsider(self, name: str) -> DemoPerson:
        if name not in self._outsiders:
            self._outsiders[name] = open_outsider(self.served(name))
        return self._outsiders[name]


@pytest.fixture(scope="session")
def shared_stores(
    tmp_path_factory: pytest.TempPathFactory,
    browser_demo_template: tuple[Path, dict[str, DemoPerson]],
) -> Iterator[SharedStores]:
    with ExitStack() as stack:
        yield SharedStores(tmp_path_factory, browser_demo_template, stack)


@pytest.fixture(scope="module")
def served(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    browser_demo_template: tuple[Path, dict[str, DemoPerson]],
) -> Iterator[Served]:
    """``sealtrail serve`` over this module's own copy of the demonstration store, or the
    shared one of a module marked ``shares_the_served_store(name)``."""
    name = shared_store(request.node)
    if name is not None:
        yield request.getfixturevalue("shared_stores").served(name)
    else:
        with served_copy(tmp_path_factory, browser_demo_template) as own:
            yield own


@pytest.fixture(scope="module")
def demo_people(served: Served) -> dict[str, DemoPerson]:
    return served.people


@pytest.fixture(scope="module")
def outsider(request: pytest.FixtureRequest, served: Served) -> DemoPerson:
    """A site coordinator of site SP, opened in the served store (the demonstration's people are
    all of site RP, or of the sponsor): who must see nothing of RP's subjects."""
    name = shared_store(request.node)
    if name is not None:
        return request.getfixturevalue("shared_stores").outsider(name)
    return open_outsider(served)


def open_outsider(served: Served) -> DemoPerson:
    store = open_store(make_settings(served.home))
    try:
        person = open_person(store, "coord.sp", printed_name="Rui Lima", sites=("SP",))
    finally:
        store.close()
    return DemoPerson("coordinator", person.user_id, person.printed_name, person.password)


@pytest.fixture(scope="module")
def browser(request: pytest.FixtureRequest) -> Iterator[Browser]:
    """Chromium, once per test module (or once for the modules sharing the served store, in a
    row: :class:`SharedChromium`), with a fresh, empty profile.

    Not once per process: Playwright's synchronous API keeps an asyncio loop running in the
    test process while it is started, and a later test of the same xdist worker that calls
    ``asyncio.run`` (pyHanko signing a PDF in-process) would then fail; ending it with the
    module leaves no loop behind."""
    if shared_store(request.node) is not None:
        yield SHARED_CHROMIUM.launched()
        return
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=list(FLAGS))
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def sent_bodies(page: Page) -> list[bytes]:
    """The body of every request the page's browser context sends from now on."""
    bodies: list[bytes] = []

    def keep(request: Request) -> None:
        if request.post_data_buffer:
            bodies.append(request.post_data_buffer)

    page.context.on("request", keep)
    return bodies


@pytest.fixture
def traffic(served: Served) -> Traffic:
    return Traffic(served.url)


@pytest.fixture
def page(browser: Browser, served: Served, traffic: Traffic) -> Iterator[Page]:
    """A page of a new browser context over the server; fails the test, when it ends, on any
    request to another origin or any error the test did not expect (:class:`Traffic`)."""
    context = browser.new_context(
        base_url=served.url, viewport=VIEWPORT, locale="en-GB", timezone_id="UTC"
    )
    context.set_default_timeout(TIMEOUT_MS)
    traffic.watch(context)
    try:
        yield context.new_page()
    finally:
        context.close()
    problems = traffic.problems()
    if problems:
        pytest.fail("the page did what no page may:\n" + "\n".join(problems), pytrace=False)
