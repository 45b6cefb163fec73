"""``/subjects/<code>/source-verification`` through Flask's test client
(api/web/source_verification.py): a monitor lists a subject's records with what is verified of
them, chooses some, signs one ``SourceVerified`` a record in Python exactly as sign-form.js signs
a list of bodies with their real Ed25519 key, and the same service as ``POST /v1/events/batch``
records them together; a correction since makes a verification stale; every refusal shows the
page again and records nothing.

Real stores (SQLite; one PostgreSQL case), real keys, Argon2id passwords; only the access
control's clock is the test's.
"""

from __future__ import annotations

import html
import re
from typing import Any, NamedTuple

import pytest
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from domain.disclosure import SOURCE_VERIFICATION
from domain.subject.source_verification import verifications_of
from infrastructure.bootstrap import Store
from tests.conftest import ON_BOTH_BACKENDS, STUDY, Person, haemoglobin_correction
from tests.e2e.conftest import SUBJECT
from tests.web.conftest import Browser, text
from tests.web.signed_forms import SigningPage
from tests.web.test_query_pages import OTHER_SUBJECT, Trial, copies_of, signed_in

PAGE = f"/subjects/{SUBJECT}/source-verification"


@pytest.fixture
def trial(timed: Store) -> Trial:
    """RP-101 at RP (entries 1-3: screening, consent, a blood count) and SP-201 at SP, each
    site's coordinator and monitor, and an auditor."""
    return Trial(timed)


class Offered(NamedTuple):
    """The page offering the bodies of the records chosen, in the browser that chose them."""

    browser: Browser
    answer: TestResponse


def chosen(trial: Trial, person: Person, entries: list[str]) -> Offered:
    """The records ``entries`` chosen on the page and sent: the page offering their bodies."""
    browser = signed_in(trial.store, person)
    token = browser.csrf_token(PAGE)
    data = MultiDict([("csrf_token", token), ("stage", "choose")] + [("entry", e) for e in entries])
    return Offered(browser, browser.client.post(PAGE, data=data))


def signed(offered: Offered, person: Person, **changes: Any) -> TestResponse:
    """The bodies ``offered`` signed as sign-form.js signs a list, sent with the records the
    form carries (the stage, each entry chosen)."""
    page = SigningPage(offered.answer)
    form = page.signed_each(person, **changes)
    carried = re.findall(
        r'<input type="hidden" name="(stage|entry)" value="([^"]*)">',
        page.page[page.page.index("data-signing-form") :],
    )
    data = MultiDict([(k, v) for k, v in form.items() if k not in ("stage", "entry")])
    for name, value in carried:
        data.add(name, html.unescape(value))
    return offered.browser.client.post(PAGE, data=data)


def verified(trial: Trial, code: str = SUBJECT) -> dict[int, Any]:
    subject = trial.store.app.find_subject(f"{STUDY}/{code}")
    assert subject is not None
    return verifications_of(subject)


def test_the_page_lists_each_record_as_not_verified_yet_and_is_a_copy_handed_out(
    timed: Store, trial: Trial
) -> None:
    answer = signed_in(timed, trial.monitor).get(PAGE)

    page = text(answer)
    assert answer.status_code == 200, page
    for entry in ("1", "2", "3"):
        assert f'name="entry" value="{entry}"' in page
    assert page.count("Not verified") == 3
    last = copies_of(timed, trial.monitor)[-1]
    assert (last.what, last.scope.subject, last.channel) == (SOURCE_VERIFICATION, SUBJECT, "web")


def test_the_subject_page_leads_its_sites_monitor_there_and_no_one_else(
    timed: Store, trial: Trial
) -> None:
    link = f'href="{PAGE}"'

    assert link in text(signed_in(timed, trial.monitor).get(f"/subjects/{SUBJECT}"))
    assert link not in text(signed_in(timed, trial.coordinator).get(f"/subjects/{SUBJECT}"))
    assert link not in text(signed_in(timed, trial.auditor).get(f"/subjects/{SUBJECT}"))


def test_choosing_records_offers_one_verification_each_naming_its_hash_now(
    timed: Store, trial: Trial
) -> None:
    subject = timed.app.find_subject(f"{STUDY}/{SUBJECT}")
    assert subject is not None

    bodies = SigningPage(chosen(trial, trial.monitor, ["1", "3"]).answer).body

    assert [(b["version"], b["kind"]) for b in bodies] == [
        (subject.version + 1, "SourceVerified"),
        (subject.version + 2, "SourceVerified"),
    ]
    assert [b["data"] for b in bodies] == [
        {
            "entry": n,
            "entry_kind": subject.entries[n].kind,
            "record_hash": subject.entries[n].record_hash,
        }
        for n in (1, 3)
    ]
    assert {b["signer"]["user_id"] for b in bodies} == {"mon1"}


@ON_BOTH_BACKENDS
def test_a_monitor_verifies_records_signed_with_their_key_all_together(
    timed: Store, trial: Trial
) -> None:
    offered = chosen(trial, trial.monitor, ["1", "3"])

    answer = signed(offered, trial.monitor)

    assert answer.status_code == 302, text(answer)
    assert sorted(verified(trial)) == [1, 3]
    shown = text(offered.browser.get(PAGE))
    assert "2 records of RP-101 verified against source" in shown
    assert shown.count("Verified as it stands") == 2
    assert 'name="entry" value="2"' in shown and 'name="entry" value="3"' not in shown


def test_a_correction_since_makes_the_verification_stale_on_the_page(
    timed: Store, trial: Trial
) -> None:
    assert signed(chosen(trial, trial.monitor, ["3"]), trial.monitor).status_code == 302
    trial.submit(
        trial.coordinator, "EntryCorrected", haemoglobin_correction(3, "76", "7.6"), SUBJECT
    )

    shown = text(signed_in(timed, trial.monitor).get(PAGE))

    assert verified(trial) == {}
    assert "Changed since it was verified: verify it again" in shown
    assert 'name="entry" value="3"' in shown


def test_roles_that_do_not_verify_source_are_refused_and_another_sites_subject_is_not_found(
    timed: Store, trial: Trial
) -> None:
    assert signed_in(timed, trial.coordinator).get(PAGE).status_code == 403
    assert signed_in(timed, trial.auditor).get(PAGE).status_code == 403
    assert signed_in(timed, trial.sp_monitor).get(PAGE).status_code == 404
    other = f"/subjects/{OTHER_SUBJECT}/source-verification"
    assert signed_in(timed, trial.monitor).get(other).status_code == 404


def test_a_record_changed_between_the_offer_and_the_signature_is_refused_whole(
    timed: Store, trial: Trial
) -> None:
    offered = chosen(trial, trial.monitor, ["1", "3"])
    trial.submit(
        trial.coordinator, "EntryCorrected", haemoglobin_correction(3, "76", "7.6"), SUBJECT
    )

    answer = signed(offered, trial.monitor)

    assert answer.status_code == 200
    assert "error-summary" in text(answer)
    assert verified(trial) == {}


def test_a_body_of_another_kind_or_subject_is_refused(timed: Store, trial: Trial) -> None:
    # A QueryRaised's data has a question: the API's schema refuses the body first.
    for change, said in (
        ({"kind": "QueryRaised"}, "event.data.question"),
        ({"subject": OTHER_SUBJECT}, "The signed body is not a SourceVerified of RP-101"),
    ):
        answer = signed(chosen(trial, trial.monitor, ["1"]), trial.monitor, **change)

        assert said in text(answer)
        assert verified(trial) == {}


def test_nothing_signed_nothing_chosen_or_no_csrf_token_records_nothing(
    timed: Store, trial: Trial
) -> None:
    browser = signed_in(timed, trial.monitor)
    token = browser.csrf_token(PAGE)

    unsigned = browser.client.post(
        PAGE, data=MultiDict([("csrf_token", token), ("stage", "sign"), ("entry", "1")])
    )
    none_chosen = browser.client.post(PAGE, data={"csrf_token": token, "stage": "choose"})
    no_token = browser.client.post(PAGE, data={"stage": "choose", "entry": "1"})

    assert "Nothing was signed" in text(unsigned)
    assert none_chosen.status_code == 400
    assert "Choose the records you verified against source" in text(none_chosen)
    assert no_token.status_code == 400
    assert verified(trial) == {}
