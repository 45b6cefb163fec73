"""``/sign`` through Flask's test client: what awaits the investigator, what a choice signs, and
the signing form's handler (api/web/sign.py, api/web/signing.py), its refusals above all.

The browser's part (the key, WebCrypto, the canonical bytes) is tests/browser's
(test_signing_in_the_browser.py); here the body the page offers is signed in Python with the
person's real Ed25519 key, exactly as sign-form.js signs it, and posted as the form posts it.
Real stores (SQLite and PostgreSQL), real keys, Argon2id passwords; only the access control's
clock is the test's.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from werkzeug.test import TestResponse

from api.http.app import MAX_BODY
from api.web.sign import MAX_FORM
from domain.account import Role
from domain.disclosure import HISTORY, UNSIGNED
from domain.wire import instant_to_wire
from infrastructure.bootstrap import Store
from signatures.authorship import sign_body
from tests.access.conftest import make_person
from tests.access.test_casebook_signing_api import SCREEN_FAILURE
from tests.access.test_record_signing_api import Trial
from tests.conftest import ON_BOTH_BACKENDS, STUDY, Person, haemoglobin
from tests.e2e.conftest import SUBJECT
from tests.web.conftest import CSRF_FIELD, Browser, text

SIGN = "/sign"
BODY_BLOCK = re.compile(
    r'<script type="application/json" id="signing-body">(.*?)</script>', re.DOTALL
)


@pytest.fixture
def trial(timed: Store) -> Trial:
    """RP-101 at RP with entries 1-3 (screening, consent, a blood count), its coordinator
    ``coord1`` and investigator ``inv1``."""
    return Trial(timed)


@pytest.fixture
def investigator(browser: Browser, trial: Trial) -> Person:
    """The investigator, signed in on the browser."""
    answer = browser.sign_in(trial.investigator.user_id, trial.investigator.password)
    assert answer.status_code == 302, text(answer)
    return trial.investigator


class Confirmation:
    """The confirmation step of a choice, as the browser read it: its body to sign, its CSRF
    token and the choice its form carries back."""

    def __init__(self, answer: TestResponse) -> None:
        assert answer.status_code == 200, text(answer)
        page = text(answer)
        found = BODY_BLOCK.search(page)
        assert found is not None, page
        self.page = page
        self.body: dict[str, Any] = json.loads(html.unescape(found.group(1)))
        token = CSRF_FIELD.search(page)
        assert token is not None
        self.csrf_token = token.group(1)
        self.asks_user_id = 'name="user_id"' in page

    def signed_by(self, person: Person, **changes: Any) -> tuple[dict[str, Any], str]:
        """The body as the browser completes it (the key id and the signer's time), ``changes``
        made, and the person's signature over it."""
        body = {
            **self.body,
            "key_id": person.key_id,
            "signed_at": instant_to_wire(datetime.now(UTC)),
            **changes,
        }
        return body, sign_body(person.private_key, body)[1]


def choose(browser: Browser, query: str) -> Confirmation:
    return Confirmation(browser.get(f"{SIGN}?{query}"))


def post(
    browser: Browser,
    confirmation: Confirmation,
    choice: dict[str, Any],
    body: dict[str, Any] | str | None,
    signature: str,
    password: str,
    user_id: str | None = None,
) -> TestResponse:
    """Send the signing form as sign-form.js sends it: the choice, the body as signed (its
    canonical text), the signature, the ceremony's fields, the page's CSRF token."""
    form: dict[str, Any] = {
        **choice,
        "csrf_token": confirmation.csrf_token,
        "body": body if isinstance(body, str) or body is None else json.dumps(body),
        "signature": signature,
        "password": password,
    }
    if user_id is not None:
        form["user_id"] = user_id
    return browser.client.post(SIGN, data={k: v for k, v in form.items() if v is not None})


RECORDS = {"subject": SUBJECT, "entry": ["1", "3"], "meaning": "review"}
QUERY = f"subject={SUBJECT}&entry=1&entry=3&meaning=review"


def events_of(trial: Trial) -> int:
    return trial.versions()


def test_the_investigator_sees_the_records_awaiting_signature(
    browser: Browser, investigator: Person
) -> None:
    answer = browser.get(SIGN)

    page = text(answer)
    assert answer.status_code == 200, page
    assert SUBJECT in page
    for entry, kind in ((1, "Screened"), (2, "ConsentObtained"), (3, "BloodCountRecorded")):
        assert f'name="entry" value="{entry}"' in page
        assert f"Entry {entry}: {kind}" in page


def test_the_confirmation_shows_what_is_signed_and_offers_the_exact_body(
    browser: Browser, trial: Trial, investigator: Person
) -> None:
    confirmation = choose(browser, QUERY)

    hashes = trial.record_hashes()
    assert confirmation.body == {
        "study": STUDY,
        "subject": SUBJECT,
        "version": 4,
        "kind": "RecordsSigned",
        "data": {"entries": [{"entry": n, "record_hash": hashes[n]} for n in (1, 3)]},
        "signer": {"user_id": "inv1", "printed_name": "Rita Lima"},
        "meaning": "review",
    }
    page = confirmation.page
    assert "Sign 2 records of RP-101" in page
    assert "Review: I have reviewed these records" in page
    assert "You sign as Rita Lima (inv1)" in page
    # The first signing of the session asks for the user id too (21 CFR 11.200(a)(1)(i)).
    assert confirmation.asks_user_id
    assert f'data-signer-keys="{investigator.key_id}"' in page
    # Signing needs the page's script: its button is enabled by it, never sent unsigned.
    assert '<button type="submit" class="button" disabled>Sign</button>' in page
    # The key file is no field of the form: a browser never sends it.
    key_input = re.search(r"<input[^>]*data-key-file[^>]*>", page)
    assert key_input is not None and "name=" not in key_input.group(0)


@ON_BOTH_BACKENDS
def test_a_body_signed_with_the_persons_key_is_recorded_through_the_ceremony(
    browser: Browser, trial: Trial, investigator: Person
) -> None:
    confirmation = choose(browser, QUERY)
    body, signature = confirmation.signed_by(investigator)

    answer = post(browser, confirmation, RECORDS, body, signature, investigator.password, "inv1")

    assert answer.status_code == 302, text(answer)
    assert answer.headers["Location"] == SIGN
    signed = trial.history()[-1]
    assert signed["kind"] == "RecordsSigned"
    assert json.loads(signed["signed_body"]) == body
    assert signed["signature"] == signature
    done = text(browser.get(SIGN))
    assert "Signed: RecordsSigned of RP-101, entry 4" in done
    assert 'name="entry" value="1"' not in done
    assert 'name="entry" value="2"' in done
    # A later signing of the same session asks for the password only.
    assert not choose(browser, f"subject={SUBJECT}&entry=2&meaning=approval").asks_user_id


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("wrong password", "The user id or the password is wrong"),
        ("no user id", "Enter your user id: this signing needs it too"),
        ("another user id", "The user id or the password is wrong"),
        ("nothing signed", "Nothing was signed"),
        ("not JSON", "The signed body is not a JSON object"),
        ("tampered body", "the signature does not verify with the signer's key"),
        ("another person's key", "is not registered for inv1"),
        ("signed as another person", "authenticated as 'inv1' but the body is signed by 'inv2'"),
        ("meaning authorship", "a RecordsSigned means one of review, approval, responsibility"),
    ],
)
def test_a_refused_signing_shows_the_page_again_and_records_nothing(
    browser: Browser,
    trial: Trial,
    investigator: Person,
    timed: Store,
    case: str,
    expected: str,
) -> None:
    someone = make_person(timed, "inv2", role=Role.INVESTIGATOR, sites=("RP",))
    confirmation = choose(browser, QUERY)
    body, signature = confirmation.signed_by(investigator)
    password, user_id = investigator.password, "inv1"
    sent: dict[str, Any] | str | None = body
    if case == "wrong password":
        password = "not the password"
    elif case == "no user id":
        user_id = None
    elif case == "another user id":
        user_id = "inv2"
    elif case == "nothing signed":
        sent, signature = None, ""
    elif case == "not JSON":
        sent = "[1, 2"
    elif case == "tampered body":
        # Signed over entries 1 and 3; entry 3 is left out of what is sent.
        sent = {**body, "data": {"entries": body["data"]["entries"][:1]}}
    elif case == "another person's key":
        body, signature = confirmation.signed_by(someone)
        sent = {**body}
    elif case == "signed as another person":
        signer = {"user_id": "inv2", "printed_name": someone.printed_name}
        sent, signature = confirmation.signed_by(someone, signer=signer)
    elif case == "meaning authorship":
        sent, signature = confirmation.signed_by(investigator, meaning="authorship")
    before = events_of(trial)

    answer = post(browser, confirmation, RECORDS, sent, signature, password, user_id)

    page = text(answer)
    assert answer.status_code == 200, page
    assert expected in html.unescape(page), page
    assert 'class="error-summary"' in page
    assert events_of(trial) == before
    # The page is the confirmation again, for the same choice, with a fresh body to sign; the
    # user id typed is kept, the password never is.
    again = Confirmation(browser.get(f"{SIGN}?{QUERY}"))
    assert again.body["version"] == 4
    assert password not in page
    # The user id is asked again unless the password was accepted (the signature refused after).
    typed = re.search(r'<input[^>]*name="user_id"[^>]*>', page)
    if typed is not None and user_id is not None:
        assert f'value="{user_id}"' in typed.group(0)


@ON_BOTH_BACKENDS
def test_a_wrong_password_counts_toward_the_lockout(
    browser: Browser, trial: Trial, investigator: Person, timed: Store
) -> None:
    confirmation = choose(browser, QUERY)
    body, signature = confirmation.signed_by(investigator)

    post(browser, confirmation, RECORDS, body, signature, "wrong", "inv1")

    attempt = timed.access.attempts("inv1")[0]
    assert (attempt.channel, attempt.outcome) == ("signing", "failed")


@ON_BOTH_BACKENDS
def test_records_changed_since_the_page_was_read_are_refused(
    browser: Browser, trial: Trial, investigator: Person
) -> None:
    confirmation = choose(browser, QUERY)
    body, signature = confirmation.signed_by(investigator)
    trial.site.submit(trial.coordinator, "BloodCountRecorded", haemoglobin("8.1"))

    answer = post(browser, confirmation, RECORDS, body, signature, investigator.password, "inv1")

    assert answer.status_code == 200, text(answer)
    assert "the author signed version 4; the event would be version 5" in text(answer)
    assert events_of(trial) == 4
    # Shown again with the body as it now stands, at the next version.
    assert '"version": 5' in text(answer)


def test_a_form_without_its_csrf_token_is_refused(
    browser: Browser, trial: Trial, investigator: Person
) -> None:
    confirmation = choose(browser, QUERY)
    body, signature = confirmation.signed_by(investigator)
    confirmation.csrf_token = ""

    answer = post(browser, confirmation, RECORDS, body, signature, investigator.password, "inv1")

    assert answer.status_code == 400, text(answer)
    assert events_of(trial) == 3


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (f"subject={SUBJECT}&meaning=review", "choose the records to sign"),
        (f"subject={SUBJECT}&entry=9&meaning=review", "has no live record 9"),
        (f"subject={SUBJECT}&entry=x&meaning=review", "entry number"),
        (f"subject={SUBJECT}&entry=1&meaning=authorship", "Choose what your signature means"),
        (f"subject={SUBJECT}&milestone=month_6&meaning=review", "approval, responsibility"),
        (f"subject={SUBJECT}&milestone=month_7&meaning=approval", "is not a milestone"),
    ],
)
def test_a_choice_that_cannot_be_signed_shows_the_list_with_why(
    browser: Browser, investigator: Person, query: str, expected: str
) -> None:
    answer = browser.get(f"{SIGN}?{query}")

    assert answer.status_code == 200, text(answer)
    assert expected in html.unescape(text(answer))
    assert 'class="error-summary"' in text(answer)


def test_another_role_is_refused_the_page_and_the_form(
    browser: Browser, trial: Trial, timed: Store
) -> None:
    browser.sign_in(trial.coordinator.user_id, trial.coordinator.password)

    assert browser.get(SIGN).status_code == 403
    assert browser.get(f"{SIGN}?{QUERY}").status_code == 403
    token = CSRF_FIELD.search(text(browser.get("/account")))
    assert token is not None
    answer = browser.client.post(SIGN, data={**RECORDS, "csrf_token": token.group(1)})
    assert answer.status_code == 403
    assert events_of(trial) == 3


def test_another_sites_investigator_sees_nothing_of_the_subject(
    browser: Browser, trial: Trial, timed: Store
) -> None:
    elsewhere = make_person(timed, "inv9", role=Role.INVESTIGATOR, sites=("SP",))
    browser.sign_in(elsewhere.user_id, elsewhere.password)

    assert SUBJECT not in text(browser.get(SIGN))
    assert browser.get(f"{SIGN}?{QUERY}").status_code == 404


def test_someone_not_signed_in_is_sent_to_sign_in(browser: Browser, trial: Trial) -> None:
    answer = browser.get(f"{SIGN}?{QUERY}")

    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login?next=")


@ON_BOTH_BACKENDS
def test_a_casebook_at_a_milestone_is_offered_and_signed_whole(
    browser: Browser, trial: Trial, investigator: Person
) -> None:
    assert "end_of_study" not in text(browser.get(SIGN))
    response = trial.site.submit(trial.coordinator, "ScreenFailed", SCREEN_FAILURE)
    assert response.status_code == 201, text(response)

    listed = text(browser.get(SIGN))
    assert 'name="milestone" value="end_of_study"' in listed
    assert "Review and sign the casebook at end of study" in listed
    confirmation = choose(browser, f"subject={SUBJECT}&milestone=end_of_study&meaning=approval")
    subject = trial.store.app.find_subject(f"{STUDY}/{SUBJECT}")
    assert subject is not None
    hashes = trial.record_hashes()
    assert confirmation.body["kind"] == "CasebookSigned"
    assert confirmation.body["data"] == {
        "milestone": "end_of_study",
        "state_hash": subject.chain_head,
        "entries": [{"entry": n, "record_hash": hashes[n]} for n in (1, 2, 3, 4)],
    }
    assert "Sign the casebook of RP-101 at end of study" in confirmation.page
    body, signature = confirmation.signed_by(investigator)
    choice = {"subject": SUBJECT, "milestone": "end_of_study", "meaning": "approval"}

    answer = post(browser, confirmation, choice, body, signature, investigator.password, "inv1")

    assert answer.status_code == 302, text(answer)
    assert trial.history()[-1]["kind"] == "CasebookSigned"
    after = text(browser.get(SIGN))
    assert 'name="milestone" value="end_of_study"' not in after
    assert "Nothing awaits your signature" in after


def test_each_page_shown_is_a_copy_recorded_in_the_disclosure_log(
    browser: Browser, trial: Trial, investigator: Person, timed: Store
) -> None:
    listed = browser.get(SIGN)
    confirmation = browser.get(f"{SIGN}?{QUERY}")

    copies = timed.disclosures.of("inv1")
    assert [(c.what, str(c.scope), c.channel) for c in copies] == [
        (UNSIGNED, f"{STUDY} site RP", "web"),
        (HISTORY, f"{STUDY}/{SUBJECT}", "web"),
    ]
    assert [c.sha256 for c in copies] == [
        hashlib.sha256(answer.get_data()).hexdigest() for answer in (listed, confirmation)
    ]


def test_a_casebook_signature_may_send_a_form_larger_than_any_other(
    browser: Browser, trial: Trial, investigator: Person
) -> None:
    confirmation = choose(browser, QUERY)
    large = "x" * (MAX_BODY + 1024)  # over the app's limit for every other form
    too_large = "x" * MAX_FORM

    accepted = post(browser, confirmation, RECORDS, large, "c2ln", investigator.password, "inv1")
    refused = post(browser, confirmation, RECORDS, too_large, "c2ln", investigator.password)

    assert accepted.status_code == 200, text(accepted)
    assert "The signed body is not a JSON object" in text(accepted)
    assert refused.status_code == 413
    assert events_of(trial) == 3
