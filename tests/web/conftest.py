"""A browser's view of the pages, through Flask's test client: cookies kept, forms sent with
the CSRF token of the page they were read from, as a browser sends them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from werkzeug.test import TestResponse

from infrastructure.bootstrap import Store
from tests.access.conftest import Clock, with_access
from tests.conftest import Person
from tests.e2e.conftest import Site

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Browser:
    """One browser (its own cookies) on the pages of the store under test."""

    def __init__(self, store: Store) -> None:
        self.site = Site(store)
        self.client = self.site.client

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(path, **kwargs)

    def csrf_token(self, page: str) -> str:
        """The CSRF token of the form on ``page`` (read as the browser reads the page)."""
        answer = self.get(page)
        found = CSRF_FIELD.search(answer.get_data(as_text=True))
        assert found is not None, f"no form on {page}: {answer.status_code}"
        return found.group(1)

    def submit(self, page: str, action: str, data: dict[str, str]) -> TestResponse:
        """Send the form read on ``page`` to ``action``, as typed into it."""
        return self.client.post(action, data={**data, "csrf_token": self.csrf_token(page)})

    def sign_in(self, user_id: str, password: str, *, next_page: str = "") -> TestResponse:
        return self.submit(
            "/login", "/login", {"username": user_id, "password": password, "next": next_page}
        )

    def cookie(self) -> str | None:
        found = self.client.get_cookie("sealtrail_session")
        return None if found is None else found.value


def signed_in(store: Store, person: Person) -> Browser:
    """A browser of ``store``, signed in as ``person``."""
    browser = Browser(store)
    answer = browser.sign_in(person.user_id, person.password)
    assert answer.status_code == 302, text(answer)
    return browser


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """The pages' tests run on SQLite, and those marked ``ON_BOTH_BACKENDS`` on PostgreSQL too.

    A page is a way in over the same application services as the API and the console, whose
    own tests (tests/integration, tests/e2e, tests/access) run every one on both backends; what a
    page adds (forms, templates, wording, redirections) does not touch the database. The tests
    where a page's own path does (sessions, each kind of signed write, a copy recorded, proofs
    read) are marked to run on both, so that the suite keeps inside its ten minutes.
    """
    return str(request.param)


def text(answer: TestResponse) -> str:
    return answer.get_data(as_text=True)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(store: Store, clock: Clock) -> Store:
    """A store whose access control runs on the test's clock (lockout after 3), once on SQLite
    and once on PostgreSQL."""
    return with_access(store, clock)


@pytest.fixture
def browser(timed: Store) -> Browser:
    """A browser on a store whose access control runs on the test's clock (lockout after 3),
    once on SQLite and once on PostgreSQL."""
    return Browser(timed)
