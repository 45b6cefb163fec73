"""The HTTP API's test client over a store the test holds open."""

from __future__ import annotations

from functools import cache
from typing import Any, cast

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from api.http.app import create_app
from api.store import EXTENSION
from infrastructure.bootstrap import Store
from tests.conftest import Person, PersonFactory, consent, screening

SUBJECT = "RP-101"


class SiteClient(FlaskClient):
    """A test client that puts its site's store and configuration in the app before each
    request (one app serves every site of a test process)."""

    site: Site

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        self.site.bind()
        return super().open(*args, **kwargs)


TESTS_SIGN_IN_LIMIT = "100000 per minute"


@cache
def app_of_this_process() -> tuple[Flask, dict[str, Any]]:
    """One app per test process, and its configuration as made.

    Building the app (every blueprint's routes and the OpenAPI document) took a seventh of a
    second, in every test that talks HTTP; a test's store and configuration are what differ,
    so each :class:`Site` puts them in the one app before each request.
    """
    # One app, so one count of failed sign-ins from 127.0.0.1, serves every test of the process:
    # the lockout tests alone fail dozens of times a minute. The limit is tested with its own
    # (tests/e2e/test_sign_in_rate_limit.py); servers started as processes keep the default.
    app = create_app({"TESTING": True, "SIGN_IN_RATE_LIMIT": TESTS_SIGN_IN_LIMIT})
    app.test_client_class = SiteClient
    return app, dict(app.config)


class Site:
    """A test client of the process's app, over the test's open store.

    ``config`` is the app's configuration for this site's requests (a test may change it).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.app, made = app_of_this_process()
        self.config: dict[str, Any] = {**made, "SEALTRAIL_SETTINGS": store.settings}
        self.client = cast(SiteClient, self.app.test_client())
        self.client.site = self
        self.bind()
        self._tokens: dict[tuple[str, str], str] = {}

    def bind(self) -> None:
        """Make the app this site's: its configuration and its store."""
        self.app.config.clear()
        self.app.config.update(self.config)
        self.app.extensions[EXTENSION] = self.store

    def token(self, person: Person) -> str:
        """A bearer token for the person, asked for once per password (a token opens a
        session; checking an Argon2id password per request would dominate the tests' time)."""
        key = (person.user_id, person.password)
        if key not in self._tokens:
            response = self.client.post(
                "/v1/auth/token", json={"username": person.user_id, "password": person.password}
            )
            assert response.status_code == 200, response.get_data(as_text=True)
            self._tokens[key] = str(response.get_json()["access_token"])
        return self._tokens[key]

    def auth(self, person: Person) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(person)}"}

    def submit(
        self,
        person: Person,
        kind: str,
        data: dict[str, Any],
        *,
        subject: str = SUBJECT,
        signed_by: Person | None = None,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> TestResponse:
        """Sign (as ``signed_by``, the person by default) and POST one event as ``person``."""
        signer = signed_by or person
        event = body if body is not None else signer.body(subject, kind, data)
        return self.client.post(
            "/v1/events",
            json={"event": event, "signature": signer.sign(event)},
            headers={**self.auth(person), **(headers or {})},
        )

    def post_raw(
        self,
        person: Person,
        data: bytes | str,
        *,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> TestResponse:
        return self.client.post(
            "/v1/events",
            data=data,
            content_type=content_type,
            headers={**self.auth(person), **(headers or {})},
        )


@pytest.fixture
def site(store: Store) -> Site:
    """A client of the API over the test's store, once on SQLite and once on PostgreSQL."""
    return Site(store)


@pytest.fixture
def any_site(site: Site) -> Site:
    """The same as ``site``, which now runs on both backends (for tests written before)."""
    return site


@pytest.fixture
def coordinator(site: Site, person_in: PersonFactory) -> Person:
    """RP's coordinator, who has screened and consented a subject through the API."""
    person = person_in(site.store)
    for kind, data in [("Screened", screening()), ("ConsentObtained", consent())]:
        assert site.submit(person, kind, data).status_code == 201
    return person
