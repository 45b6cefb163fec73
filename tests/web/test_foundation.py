"""What every page shares: found by the HTTP app through an entry point, its own strict
Content-Security-Policy, errors as HTML pages, the permission decorator and the navigation."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest
from flask import Blueprint, Flask, g
from flask.testing import FlaskClient

from api.http.app import WAYS_IN, create_app
from api.store import EXTENSION
from api.web import errors, headers
from api.web.headers import PAGE_POLICY
from api.web.sessions import page_for, protect_forms
from domain.account import Role
from domain.actions import Action
from domain.errors import NotPermitted
from infrastructure.bootstrap import Store
from tests.access.conftest import make_person
from tests.conftest import Person
from tests.web.conftest import CSRF_FIELD, Browser, text


def test_the_http_app_finds_the_pages_through_their_entry_point() -> None:
    (way_in,) = entry_points(group=WAYS_IN)
    app = create_app({"TESTING": True})

    assert way_in.value == "api.web:register"
    assert "web" in app.blueprints
    assert {rule.endpoint for rule in app.url_map.iter_rules()} >= {
        "web.login",
        "web.logout",
        "web.account",
        "web.landing",
        "web.static",
    }


def test_a_page_carries_its_own_policy_allowing_nothing_but_this_origin(
    browser: Browser,
) -> None:
    answer = browser.get("/login")

    assert answer.headers["Content-Security-Policy"] == PAGE_POLICY
    assert "unsafe-inline" not in PAGE_POLICY and "http" not in PAGE_POLICY
    assert answer.headers["X-Frame-Options"] == "DENY"
    # Flask-WTF refuses a form over TLS without a Referer of this origin; others get none.
    assert answer.headers["Referrer-Policy"] == "same-origin"
    assert answer.headers["Cache-Control"] == "no-store"
    stylesheet = browser.get("/assets/sealtrail.css")
    assert stylesheet.status_code == 200 and stylesheet.mimetype == "text/css"
    assert "@import" not in text(stylesheet) and "url(" not in text(stylesheet)


def test_the_api_still_refuses_a_form_encoded_body_and_answers_json(browser: Browser) -> None:
    answer = browser.client.post("/v1/auth/token", data={"username": "a", "password": "b"})

    assert answer.status_code == 415
    assert answer.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    "address", ["/v1/no-such-route", "/queries/RP-01/" + "9" * 5000 + "/answer", "/subjects"]
)
def test_a_form_sent_where_no_route_takes_it_is_not_found_not_an_unsupported_body(
    browser: Browser, address: str
) -> None:
    # A form-encoded body used to be answered 415 "send the body as application/json" before
    # routing could say that nothing is there (a query number too long for a route, a page
    # that takes no form).
    answer = browser.client.post(address, data={"csrf_token": "x"})

    assert answer.status_code in (404, 405), address


def test_the_landing_page_sends_a_stranger_to_sign_in_and_a_person_to_their_first_page(
    browser: Browser, timed: Store
) -> None:
    auditor = make_person(timed, "aud1", role=Role.AUDITOR)
    administrator = make_person(timed, "adm1", role=Role.ADMINISTRATOR)

    assert browser.get("/").headers["Location"] == "/login"
    browser.sign_in(auditor.user_id, auditor.password)
    assert browser.get("/").headers["Location"] == "/study"
    other = Browser(timed)
    other.sign_in(administrator.user_id, administrator.password)
    landing = other.get("/").headers["Location"]
    assert landing != "/study"  # administrators read no clinical data: a page they may open
    assert other.get(landing).status_code == 200


# -- the decorator and the error pages, on pages of a test app of its own ------------------------


@pytest.fixture
def decorated(timed: Store) -> Flask:
    """An app with the pages and a blueprint of test pages dressed as the pages' own are (their
    error pages, headers and CSRF check): one for auditors, one refusing, one failing."""
    app = create_app(
        {"TESTING": True, "PROPAGATE_EXCEPTIONS": False, "SEALTRAIL_SETTINGS": timed.settings}
    )
    app.extensions[EXTENSION] = timed
    pages = Blueprint("test_pages", __name__)
    pages.before_request(protect_forms)
    errors.install(pages)
    headers.install(pages)

    @pages.get("/reviewers-only")
    @page_for(Action.REVIEW_AUDIT_TRAIL)
    def reviewers_only() -> str:
        return f"for {g.account.user_id}"

    @pages.get("/refusing")
    @page_for(None)
    def refusing() -> str:
        raise NotPermitted("nobody reads this page")

    @pages.get("/failing")
    @page_for(None)
    def failing() -> str:
        raise RuntimeError("a fault of the page")

    app.register_blueprint(pages)
    return app


def signed_in_client(app: Flask, person: Person) -> FlaskClient:
    client = app.test_client()
    found = CSRF_FIELD.search(client.get("/login").get_data(as_text=True))
    assert found is not None
    client.post(
        "/login",
        data={"username": person.user_id, "password": person.password, "csrf_token": found[1]},
    )
    return client


def test_errors_on_pages_are_html_pages_at_the_apis_status(
    decorated: Flask, timed: Store, caplog: pytest.LogCaptureFixture
) -> None:
    client = signed_in_client(decorated, make_person(timed, "aud1", role=Role.AUDITOR))

    refused = client.get("/refusing")
    failed = client.get("/failing")

    assert refused.status_code == 403 and refused.mimetype == "text/html"
    assert "nobody reads this page" in text(refused)
    assert refused.headers["Content-Security-Policy"] == PAGE_POLICY
    assert failed.status_code == 500 and failed.mimetype == "text/html"
    assert "a fault of the page" not in text(failed)  # logged, not shown
    assert "a fault of the page" in caplog.text


def test_the_decorator_sends_a_stranger_to_sign_in_and_back(decorated: Flask) -> None:
    answer = decorated.test_client().get("/reviewers-only?subject=RP-101")

    assert answer.status_code == 302
    assert answer.headers["Location"] == "/login?next=/reviewers-only?subject%3DRP-101"


def test_the_decorator_refuses_a_role_without_the_action_with_a_page_saying_why(
    decorated: Flask, timed: Store
) -> None:
    monitor = make_person(timed, "mon1", role=Role.MONITOR, sites=("RP",))
    auditor = make_person(timed, "aud1", role=Role.AUDITOR)

    refused = signed_in_client(decorated, monitor).get("/reviewers-only")

    assert refused.status_code == 403
    assert refused.mimetype == "text/html"
    assert "a monitor does not review the audit trail" in text(refused)
    assert text(signed_in_client(decorated, auditor).get("/reviewers-only")) == "for aud1"


def test_the_navigation_lists_only_pages_the_persons_role_opens(
    browser: Browser, timed: Store
) -> None:
    person = make_person(timed, "mon1", role=Role.MONITOR, sites=("RP",))
    browser.sign_in(person.user_id, person.password)

    page = text(browser.get("/account"))

    assert '<nav class="navigation"' in page
    assert 'href="/account" aria-current="page"' in page


@pytest.mark.parametrize(
    ("method", "address", "status"),
    [
        ("GET", "/subjects/..%2f", 404),
        ("GET", "/subjects/RP-101/", 404),
        ("GET", "/audit/", 404),
        ("GET", "/no-such-page", 404),
        ("DELETE", "/login", 405),
        ("POST", "/subjects", 405),
    ],
)
def test_an_address_no_route_takes_outside_the_api_is_answered_with_a_page(
    browser: Browser, method: str, address: str, status: int
) -> None:
    answer = browser.client.open(address, method=method)

    assert answer.status_code == status
    assert answer.mimetype == "text/html"
    assert "<h1" in answer.get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "address", "status"),
    [
        ("GET", "/v1/no-such-route", 404),
        ("GET", "/v1", 404),
        ("DELETE", "/v1/auth/token", 405),
        ("GET", "/docs/no-such-page", 404),
        ("POST", "/openapi.json", 405),
    ],
)
def test_an_address_no_route_takes_inside_the_api_is_still_answered_as_a_problem(
    browser: Browser, method: str, address: str, status: int
) -> None:
    answer = browser.client.open(address, method=method)

    assert answer.status_code == status
    assert answer.mimetype == "application/problem+json"
