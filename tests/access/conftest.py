"""Fixtures for accounts, roles, keys and authentication: real stores, real keys, a clock.

The clock is the one thing the tests move by hand: inactivity timeouts and password ageing
are about time passing, and a test cannot wait ninety days. Everything else is real: SQLite
and PostgreSQL (every store test runs on each), Argon2 hashes, Ed25519 keys, the Flask app.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from werkzeug.test import TestResponse

from domain.account import Role
from infrastructure.application.account_changes import account_body
from infrastructure.application.commands import OpenAccount, Signatory, Training
from infrastructure.application.policy import AccessPolicy
from infrastructure.bootstrap import Store, bootstrap
from signatures.authorship import sign_body
from signatures.keys import generate_private_key, key_id, public_key_to_text
from tests.conftest import Person
from tests.e2e.conftest import Site

PROBLEM = "application/problem+json"
TRAINING = Training("GCP and sealtrail, role module", date(2011, 1, 10))


class Clock:
    """A clock the test moves: starts at the real now, so the log's own times agree."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **span: float) -> None:
        self.now += timedelta(**span)


@pytest.fixture
def clock() -> Clock:
    return Clock()


POLICY = AccessPolicy(
    lockout_after=3, idle_timeout=timedelta(minutes=10), password_max_age=timedelta(days=90)
)


def with_access(store: Store, clock: Clock, policy: AccessPolicy = POLICY) -> Store:
    """The store with its services on the test's clock and policy."""
    store.services = bootstrap(store.app, store.credentials, policy, clock)
    return store


@pytest.fixture
def timed(store: Store, clock: Clock) -> Store:
    """A store whose access control runs on the test's clock (lockout after 3), once on SQLite
    and once on PostgreSQL."""
    return with_access(store, clock)


@pytest.fixture
def timed_any(timed: Store) -> Store:
    """The same as ``timed``, which now runs on both backends (for tests written before)."""
    return timed


@dataclass
class Admin(Person):
    """An administrator in force, with a real key and a password."""

    @property
    def signatory(self) -> Signatory:
        return Signatory(self.user_id, self.printed_name, self.private_key)

    def signed(
        self,
        account: str,
        kind: str,
        data: dict[str, Any],
        overrides: dict[str, Any] | None = None,
        *,
        after: int = 0,
    ) -> Any:
        """One signed account event, as the API takes it (``overrides`` replace body fields).

        It takes the next version of the account's stream in the admin's store, or, for the
        later events of one request, the version ``after`` more (``after=1`` for the second).
        """
        body = {
            **account_body(
                user_id=account,
                kind=kind,
                data=data,
                signer_id=self.user_id,
                printed_name=self.printed_name,
                signer_key_id=self.key_id,
                version=self.next_account_version(account) + after,
            ),
            **(overrides or {}),
        }
        return {"event": body, "signature": sign_body(self.private_key, body)[1]}

    def next_account_version(self, account: str) -> int:
        """The version the next event of ``account`` takes (1 for an account not yet opened)."""
        if self.store is None:
            raise ValueError(f"{self.user_id} knows no store to read the version from")
        current = self.store.app.find_account(account)
        return 1 if current is None else current.version + 1


def make_person(
    store: Store,
    user_id: str,
    *,
    role: Role | None,
    sites: tuple[str, ...] = (),
    trained: bool = True,
    printed_name: str | None = None,
) -> Person:
    """An account opened at the console, with a key and a (non one-time) password."""
    private_key = generate_private_key()
    password = f"pw-{uuid.uuid4().hex}"
    name = printed_name or f"Person {user_id}"
    store.administration.open_account(
        OpenAccount(
            user_id=user_id,
            printed_name=name,
            role=role,
            sites=sites,
            training=TRAINING if (trained and role is not None) else None,
            public_key=public_key_to_text(private_key.public_key()),
        )
    )
    # On the store's access clock (the test's, in ``timed``), not the wall clock, which runs
    # ahead of it by however long the store took to make: on PostgreSQL under load, over the
    # one second by which the 90-day expiry test steps past the password's age.
    store.credentials.set_password(user_id, password, at=store.access.clock())
    return Person(user_id, name, private_key, password, store)


def make_admin(store: Store, user_id: str = "admin1") -> Admin:
    """An administrator in force."""
    person = make_person(store, user_id, role=Role.ADMINISTRATOR, printed_name="Davi Rocha")
    return Admin(person.user_id, person.printed_name, person.private_key, person.password, store)


@pytest.fixture
def admin(timed: Store) -> Admin:
    return make_admin(timed)


@pytest.fixture
def site_client(timed: Store) -> Site:
    return Site(timed)


def new_key() -> tuple[Any, str, str]:
    """A new private key, its public key as text and its key id."""
    private_key = generate_private_key()
    return (
        private_key,
        public_key_to_text(private_key.public_key()),
        key_id(private_key.public_key()),
    )


def assert_problem(
    response: TestResponse, status: int, *, title: str | None = None, detail: str | None = None
) -> dict[str, Any]:
    """An RFC 9457 problem with this status; ``detail`` is a substring of its detail."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    problem: dict[str, Any] = json.loads(response.get_data(as_text=True))
    assert problem["status"] == status
    assert re.fullmatch(r"urn:sealtrail:problem:[a-z0-9-]+", problem["type"]), problem["type"]
    if title is not None:
        assert problem["title"] == title
    if detail is not None:
        assert detail in problem["detail"], problem["detail"]
    return problem


def token_for(site: Site, user_id: str, password: str) -> TestResponse:
    return site.client.post("/v1/auth/token", json={"username": user_id, "password": password})


def bearer(site: Site, person: Person) -> dict[str, str]:
    response = token_for(site, person.user_id, person.password)
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def administer(site: Site, admin: Admin, *events: Any) -> TestResponse:
    """``POST /v1/accounts`` of ``events`` (each signed by ``admin``), as ``admin``."""
    return site.client.post(
        "/v1/accounts", json={"events": list(events)}, headers=bearer(site, admin)
    )
