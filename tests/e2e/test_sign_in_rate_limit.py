"""Failed sign-ins from one address are limited (``SEALTRAIL_SIGN_IN_RATE_LIMIT``), across every
account and both ways in: lockout stops guessing one account's password, the limit stops one
address spraying a few passwords over all of them. Signing in right is never counted."""

from __future__ import annotations

import pytest

from api import rate_limits
from api.http.app import create_app
from infrastructure.bootstrap import Store
from infrastructure.errors import ConfigurationError
from tests.conftest import PersonFactory
from tests.e2e.conftest import Site
from tests.web.conftest import Browser, text

PROBLEM = "application/problem+json"
LIMIT = "3 per 7 minutes"
"""Low, and a limit no other test uses: its counts are its own."""


@pytest.fixture
def limited(sqlite_store: Store) -> Site:
    site = Site(sqlite_store)
    site.config["SIGN_IN_RATE_LIMIT"] = LIMIT
    rate_limits.limiter.reset()
    yield site
    rate_limits.limiter.reset()


def token(site: Site, username: str, password: str) -> int:
    answer = site.client.post("/v1/auth/token", json={"username": username, "password": password})
    return answer.status_code


@pytest.mark.requirement("P11-11.300d-1")
def test_sprayed_passwords_are_refused_429_as_a_problem_once_the_address_s_budget_is_spent(
    limited: Site, person_in: PersonFactory
) -> None:
    people = [person_in(limited.store, f"coord{n}") for n in range(1, 5)]

    # Right passwords are never counted, however many.
    assert [token(limited, p.user_id, p.password) for p in people] == [200] * 4
    sprayed = [token(limited, p.user_id, "Summer2026!") for p in people[:3]]
    refused = limited.client.post(
        "/v1/auth/token", json={"username": people[3].user_id, "password": people[3].password}
    )

    assert sprayed == [401] * 3  # one failure per account: lockout alone never sees it
    assert refused.status_code == 429
    assert refused.mimetype == PROBLEM
    problem = refused.get_json()
    assert problem["status"] == 429
    assert "SEALTRAIL_SIGN_IN_RATE_LIMIT" in problem["detail"]
    assert int(refused.headers["Retry-After"]) > 0
    # The refused attempt never reached the account: only its first sign-in is recorded.
    assert len(limited.store.access.attempts(people[3].user_id)) == 1
    # Changing a password proves one too: refused as well. Other requests from the address go on.
    change = {"username": people[3].user_id, "password": "guess", "new_password": "x" * 16}
    assert limited.client.post("/v1/auth/password", json=change).status_code == 429
    assert limited.client.get("/v1/server-key").status_code == 200


@pytest.mark.requirement("P11-11.300d-1")
def test_the_sign_in_page_shares_the_budget_and_answers_429_keeping_the_user_id(
    limited: Site, person_in: PersonFactory
) -> None:
    person = person_in(limited.store)
    browser = Browser(limited.store)
    browser.site.config["SIGN_IN_RATE_LIMIT"] = LIMIT  # the same app, so the same counts

    assert token(limited, person.user_id, "wrong once") == 401
    assert token(limited, person.user_id, "wrong twice") == 401
    failed = browser.sign_in(person.user_id, "wrong thrice")
    assert failed.status_code == 200 and "The user id or the password is wrong" in text(failed)
    assert browser.get("/login").status_code == 200  # reading the form is not limited

    refused = browser.sign_in(person.user_id, person.password)

    assert refused.status_code == 429
    assert refused.mimetype == "text/html"
    page = text(refused)
    assert "Too many failed sign-ins from this address" in page
    assert f'value="{person.user_id}"' in page
    assert person.password not in page
    assert int(refused.headers["Retry-After"]) > 0


def test_a_sign_in_limit_not_in_flask_limiter_s_notation_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SEALTRAIL_SIGN_IN_RATE_LIMIT", "ten a minute")

    with pytest.raises(ConfigurationError, match="SEALTRAIL_SIGN_IN_RATE_LIMIT is a rate limit"):
        create_app()
