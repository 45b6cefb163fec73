"""The pages attacked as an outsider would (the API's own attack tests are tests/access/ and
tests/api/): stored free text carrying markup, and ``next=`` addresses leading to another origin.
Each held when it was tried; these tests keep it so."""

from __future__ import annotations

import html

import pytest

from infrastructure.bootstrap import Store
from tests.conftest import ON_BOTH_BACKENDS, haemoglobin_correction
from tests.e2e.conftest import SUBJECT
from tests.web.conftest import Browser, text
from tests.web.test_query_pages import Trial, signed_in

PAYLOAD = '"><img src=x onerror=alert(1)><script>alert(2)</script><a href="javascript:alert(3)">'
"""Markup a person could type into any free text the API takes (a question, a reason)."""


@pytest.fixture
def trial(timed: Store) -> Trial:
    return Trial(timed)


@pytest.mark.requirement("P11-11.30-2")
def test_markup_in_stored_free_text_is_shown_as_text_on_every_page_that_shows_it(
    timed: Store, trial: Trial
) -> None:
    query = trial.raise_query(question=PAYLOAD)
    correction = {**haemoglobin_correction(entry=3, old="76", new="7.6"), "reason": PAYLOAD}
    corrected = trial.site.submit(trial.coordinator, "EntryCorrected", correction, subject=SUBJECT)
    assert corrected.status_code == 201, corrected.get_data(as_text=True)
    monitor = signed_in(timed, trial.monitor)

    for page in (
        f"/subjects/{SUBJECT}",
        f"/subjects/{SUBJECT}/as-of?position={corrected.get_json()['position']}",
        f"/subjects/{SUBJECT}/audit",
        "/audit",
        "/queries",
        f"/queries/{SUBJECT}/{query}",
    ):
        answer = monitor.get(page)
        shown = text(answer)
        assert answer.status_code == 200, page
        assert "<script>alert" not in shown and "<img src=x" not in shown, page
        assert 'href="javascript:' not in shown, page
        assert PAYLOAD in html.unescape(shown), page  # shown, as text


@pytest.mark.parametrize(
    "elsewhere",
    [
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        " //evil.example",
        "/\x00/evil.example",
        "/\t/evil.example",
    ],
)
def test_the_language_switch_goes_back_to_a_page_of_this_site_only(
    browser: Browser, elsewhere: str
) -> None:
    answer = browser.submit("/login", "/language", {"language": "en", "next": elsewhere})

    assert answer.status_code == 302
    assert answer.headers["Location"] == "/"


@pytest.mark.requirement("P11-11.10h-1")
@ON_BOTH_BACKENDS
def test_a_form_sent_with_another_sessions_csrf_token_is_refused_and_does_nothing(
    timed: Store, trial: Trial
) -> None:
    victim = signed_in(timed, trial.monitor)
    attacker = signed_in(timed, trial.coordinator)
    attackers_token = attacker.csrf_token("/account")

    for action, data in (
        ("/logout", {}),
        ("/language", {"language": "pt-BR", "next": "/account"}),
    ):
        answer = victim.client.post(action, data={**data, "csrf_token": attackers_token})
        assert answer.status_code == 400, action
        assert answer.mimetype == "text/html"

    assert victim.get("/account").status_code == 200  # still signed in
    assert timed.credentials.language(trial.monitor.user_id) is None  # nothing chosen
