"""``/audit/review`` through Flask's test client (api/web/audit_review.py): an auditor records
their review of the audit trail's findings for a period, an ``AuditTrailReviewed`` on their own
account signed as the browser signs it (sign-form.js's steps, in Python, with the auditor's real
key) and recorded by the API's service; each refusal (another role, a body of another kind or
account, nothing signed, no conclusion, no CSRF token) records nothing.

Real stores (SQLite and PostgreSQL), real keys, Argon2id passwords; only the access control's
clock is the test's.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from domain.account import Role
from domain.protocol import protocol_for
from infrastructure.bootstrap import Store
from tests.access.conftest import make_person
from tests.conftest import ON_BOTH_BACKENDS, STUDY, Person
from tests.web.conftest import Browser, signed_in, text
from tests.web.signed_forms import SigningPage


def today() -> str:
    """Today at the study, as the review judges it (from 00:00 to 03:00 UTC still yesterday in
    Ribeirão Preto), as the test asks it: not as it was collected, a run may cross midnight."""
    return datetime.now(protocol_for(STUDY).time_zone).date().isoformat()


def review_url() -> str:
    """The review of the findings from the start of the year to today."""
    return f"/audit/review?from=2026-01-01&to={today()}"


class Reviewers:
    """An auditor, a sponsor data manager and a monitor at RP."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.auditor = make_person(store, "aud1", role=Role.AUDITOR)
        self.sponsor = make_person(store, "dm1", role=Role.SPONSOR_DATA_MANAGER)
        self.monitor = make_person(store, "mon1", role=Role.MONITOR, sites=("RP",))

    def browser_of(self, person: Person) -> Browser:
        return signed_in(self.store, person)

    def version(self, user_id: str = "aud1") -> int:
        return int(self.store.app.account(user_id).version)


@pytest.fixture
def reviewers(timed: Store) -> Reviewers:
    return Reviewers(timed)


@ON_BOTH_BACKENDS
def test_an_auditor_records_their_review_of_the_findings_signed_in_the_browser(
    reviewers: Reviewers,
) -> None:
    browser = reviewers.browser_of(reviewers.auditor)
    page = SigningPage(browser.get(review_url()))
    data = page.body["data"]
    assert (data["reviewed_from"], data["reviewed_to"]) == ("2026-01-01", today())
    assert page.body["account"] == "aud1" and len(data["findings_sha256"]) == 64

    reviewed = browser.client.post(
        review_url(), data=page.signed(reviewers.auditor, {"conclusion": "Nothing to raise."})
    )

    assert reviewed.status_code == 302, text(reviewed)
    record = reviewers.store.reads.account_history("aud1")[-1]
    assert record.event.kind() == "AuditTrailReviewed"
    assert record.event.signed_data()["conclusion"] == "Nothing to raise."
    (copy, *_rest) = reviewers.store.disclosures.of("aud1")
    assert (copy.what, copy.channel) == ("audit-trail review report", "web")


def test_after_a_review_up_to_today_the_next_review_says_nothing_is_left_to_review(
    reviewers: Reviewers,
) -> None:
    browser = reviewers.browser_of(reviewers.auditor)
    page = SigningPage(browser.get(review_url()))

    reviewed = browser.client.post(
        review_url(), data=page.signed(reviewers.auditor, {"conclusion": "Nothing to raise."})
    )

    assert reviewed.headers["Location"] == "/audit/review"
    after = browser.get("/audit/review")
    shown = text(after)
    assert after.status_code == 200, shown
    assert "AuditTrailReviewed of aud1 recorded at log position" in shown
    assert "Nothing to review now" in shown and "nothing recorded since to review" in shown
    assert "data-signing-form" not in shown
    assert browser.get(f"/audit/review?to={today()}").status_code == 200
    assert browser.get("/audit/review?from=2026-12-31&to=2026-01-01").status_code == 422


def test_a_sponsor_data_manager_reviews_and_a_monitor_may_not(reviewers: Reviewers) -> None:
    assert reviewers.browser_of(reviewers.sponsor).get(review_url()).status_code == 200
    assert reviewers.browser_of(reviewers.monitor).get(review_url()).status_code == 403


def test_refusals_record_nothing(reviewers: Reviewers) -> None:
    browser = reviewers.browser_of(reviewers.auditor)
    page = SigningPage(browser.get(review_url()))
    signed = page.signed(reviewers.auditor, {"conclusion": "Fine."})
    before = reviewers.version()

    no_conclusion = browser.client.post(review_url(), data=page.signed(reviewers.auditor, {}))
    other_kind = browser.client.post(
        review_url(),
        data=page.signed(reviewers.auditor, {"conclusion": "x"}, kind="AccessReviewed"),
    )
    other_account = browser.client.post(
        review_url(), data=page.signed(reviewers.auditor, {"conclusion": "x"}, account="dm1")
    )
    unsigned = browser.client.post(review_url(), data={**signed, "body": ""})
    no_token = browser.client.post(
        review_url(), data={k: v for k, v in signed.items() if k != "csrf_token"}
    )

    assert no_conclusion.status_code == 200 and "error-summary" in text(no_conclusion)
    assert "error-summary" in text(other_kind)
    assert "The signed body is not a AuditTrailReviewed of aud1" in text(other_account)
    assert "Nothing was signed" in text(unsigned)
    assert no_token.status_code == 400
    assert browser.get("/audit/review?to=2026-02-30").status_code == 400
    assert browser.get("/audit/review?site=RP%0A").status_code == 404
    assert reviewers.version() == before
