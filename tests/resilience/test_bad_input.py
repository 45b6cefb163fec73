"""Bad input through the real server (gunicorn, several workers) on both databases.

Each request is refused with ``application/problem+json`` and the status the contract names,
and changes nothing: the log's head and the subject's version are as they were. Free text that
looks like SQL or markup is stored verbatim (it is what the author signed) and answered escaped.
tests/e2e/test_api.py checks the same families through Flask's test client on SQLite; these go
through gunicorn's HTTP parsing and the PostgreSQL store as well.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.conftest import consent, screening
from tests.resilience.conftest import Live, fresh_subject
from tests.resilience.harness import Author, HttpSite

PROBLEM = "application/problem+json"


@pytest.fixture
def subject(live: Live) -> str:
    """A screened subject of this test's own."""
    code = fresh_subject()
    response = live.site().record(code, "Screened", screening())
    assert response.status_code == 201, response.text
    return code


@pytest.fixture
def unchanged(live: Live, subject: str) -> Iterator[None]:
    """After the test: nothing appended, the subject still at version 1."""
    head = live.store.app.recorder.max_notification_id() or 0
    yield
    appended = live.store.app.recorder.select_notifications(head + 1, 1000)
    # A request's login is recorded in the authentication log; nothing else may be.
    assert all(n.topic.startswith("domain.authentication:") for n in appended), (
        "a refused request wrote"
    )
    stored = live.store.app.find_subject(f"NCT01297972/{subject}")
    assert stored is not None and stored.version == 1


def assert_problem(response: requests.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == PROBLEM
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["type"].startswith("urn:sealtrail:problem:")
    assert problem["title"] and problem["detail"]
    return problem


def swapped(author: Author, subject: str, placeholder: str, literal: str, **data: Any) -> bytes:
    """A correctly signed consent as JSON text, one value swapped for a literal afterwards."""
    signed = author.signed(subject, "ConsentObtained", {**consent(), **data}, version=2)
    text = json.dumps(signed)
    assert placeholder in text
    return text.replace(placeholder, literal).encode("utf-8")


def test_a_body_over_the_limit_is_413(live: Live, subject: str, unchanged: None) -> None:
    signed = live.authors[0].signed(subject, "ConsentObtained", consent(), version=2)
    signed["padding"] = "x" * (300 * 1024)

    assert_problem(live.site().post("/v1/events", signed), 413)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_a_body_that_is_not_declared_json_is_415(
    live: Live, subject: str, unchanged: None, content_type: str
) -> None:
    body = json.dumps(
        live.authors[0].signed(subject, "ConsentObtained", consent(), version=2)
    ).encode()

    response = live.site().post("/v1/events", data=body, headers={"Content-Type": content_type})

    assert_problem(response, 415)


def test_json_nested_a_hundred_thousand_deep_is_400(
    live: Live, subject: str, unchanged: None
) -> None:
    depth = 100_000
    body = ('{"event": ' + "[" * depth + "]" * depth + "}").encode()

    assert_problem(live.site().post("/v1/events", data=body), 400)


@pytest.mark.parametrize("raw", [b'{"event": "\xff\xfe"}', b'{"signature": "\xc3\x28"}'])
def test_a_body_that_is_not_utf8_is_400(
    live: Live, subject: str, unchanged: None, raw: bytes
) -> None:
    assert_problem(live.site().post("/v1/events", data=raw), 400)


def test_an_integer_of_five_thousand_digits_is_400(
    live: Live, subject: str, unchanged: None
) -> None:
    body = swapped(live.authors[0], subject, '"2.0"', "1" + "0" * 5000)

    assert_problem(live.site().post("/v1/events", data=body), 400)


def test_an_integer_beyond_what_json_holds_exactly_is_422(live: Live, unchanged: None) -> None:
    # Signed with a small age, then swapped: no signer can canonicalise 2**53 (RFC 8785).
    signed = live.authors[0].signed(fresh_subject(), "Screened", screening(age=7), version=1)
    body = json.dumps(signed).replace('"age": 7', f'"age": {2**53}').encode()

    problem = assert_problem(live.site().post("/v1/events", data=body), 422)

    assert set(problem["errors"]["event"]["data"]) == {"age"}


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(
    live: Live, subject: str, unchanged: None, literal: str
) -> None:
    body = swapped(live.authors[0], subject, '"2.0"', literal)

    problem = assert_problem(live.site().post("/v1/events", data=body), 422)

    assert set(problem["errors"]["event"]["data"]) == {"tcle_version"}


@pytest.mark.parametrize(
    "instant", ["2011-02-14T10:00:00", "2011-02-14T10:00:00+00:00", "2011-02-14T07:00:00-03:00"]
)
def test_a_signing_time_without_z_is_422(
    live: Live, subject: str, unchanged: None, instant: str
) -> None:
    author = live.authors[0]
    signed = author.signed(subject, "ConsentObtained", consent(), version=2)
    signed["event"]["signed_at"] = instant

    problem = assert_problem(live.site().post("/v1/events", signed), 422)

    assert set(problem["errors"]["event"]) == {"signed_at"}


@pytest.mark.parametrize("where", ["request", "event", "data", "signer"])
def test_an_unknown_field_is_422_and_named(
    live: Live, subject: str, unchanged: None, where: str
) -> None:
    signed = live.authors[0].signed(subject, "ConsentObtained", consent(), version=2)
    target = {
        "request": signed,
        "event": signed["event"],
        "data": signed["event"]["data"],
        "signer": signed["event"]["signer"],
    }[where]
    target["surprise"] = 1

    problem = assert_problem(live.site().post("/v1/events", signed), 422)

    assert "surprise" in json.dumps(problem["errors"])


HOSTILE_TEXT = [
    "'); DROP TABLE stored_events;--",
    '" OR 1=1 --',
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>&amp;",
    "Robert\\'); DELETE FROM merkle_leaves; --",
]


def test_sql_and_script_text_is_stored_verbatim_and_answered_escaped(
    live: Live, subject: str
) -> None:
    site: HttpSite = live.site()
    for text in HOSTILE_TEXT:
        response = site.record(subject, "ConsentObtained", {**consent(), "tcle_version": text})
        assert response.status_code == 201, response.text

    answered = site.get(f"/v1/studies/NCT01297972/subjects/{subject}/history")

    assert answered.status_code == 200, answered.text
    assert answered.headers["Content-Type"] == "application/json"
    assert answered.headers["X-Content-Type-Options"] == "nosniff"
    for markup in "<>&":
        assert markup not in answered.text, "markup characters went out unescaped"
    consents = answered.json()[1:]
    assert [entry["data"]["tcle_version"] for entry in consents] == HOSTILE_TEXT
    signed = [json.loads(entry["signed_body"])["data"]["tcle_version"] for entry in consents]
    assert signed == HOSTILE_TEXT
    summary = site.get(f"/v1/studies/NCT01297972/subjects/{subject}")
    assert summary.status_code == 200, summary.text
    assert live.store.verifier(workers=1).verify().findings == []
