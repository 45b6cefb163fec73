"""Every read that hands out trial data is recorded (issue 18, point 6): the inventory.

Every GET route of the API and every command of the console is listed below, either as a
recorded read (with a request that succeeds, what the disclosure log calls it and its scope) or
as an exemption saying why it hands out no subject or personnel data. A new route or command
on neither list fails :func:`test_every_get_route_of_the_api_is_a_recorded_read_or_exempt` or
:func:`test_every_console_command_is_a_recorded_read_or_exempt`, so none can forget.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass

import pytest

from domain.account import Role
from domain.disclosure import (
    ACCESS_REVIEW,
    ACCOUNT_HISTORY,
    ACCOUNTS,
    AUDIT_INDEX,
    AUDIT_REVIEW,
    AUTHENTICATION_LOG,
    DASHBOARD,
    DELEGATION_LOG,
    DISCLOSURE_LOG,
    HISTORY,
    OUTCOMES,
    SOURCE_VERIFICATION,
    SUMMARY,
    UNSIGNED,
    WEEKLY,
    Disclosure,
)
from infrastructure.bootstrap import Store
from tests.conftest import STUDY, Person, PersonFactory, screening
from tests.e2e.conftest import Site, app_of_this_process
from tests.web.conftest import Browser

SUBJECT_URL = f"/v1/studies/{STUDY}/subjects/RP-101"

RECORDED_GETS: dict[str, tuple[str, str, str]] = {
    # rule: (a request that succeeds, what the disclosure log calls the copy, its scope)
    "/v1/studies/<study>/subjects/<subject>": (SUBJECT_URL, SUMMARY, f"{STUDY}/RP-101"),
    "/v1/studies/<study>/subjects/<subject>/history": (
        f"{SUBJECT_URL}/history", HISTORY, f"{STUDY}/RP-101",
    ),
    "/v1/studies/<study>/subjects/<subject>/weekly": (
        f"{SUBJECT_URL}/weekly", WEEKLY, f"{STUDY}/RP-101",
    ),
    "/v1/studies/<study>/subjects/<subject>/audit": (
        f"{SUBJECT_URL}/audit", AUDIT_INDEX, f"{STUDY}/RP-101",
    ),
    "/v1/studies/<study>/subjects/<subject>/source-verification": (
        f"{SUBJECT_URL}/source-verification", SOURCE_VERIFICATION, f"{STUDY}/RP-101",
    ),
    "/v1/study/dashboard": ("/v1/study/dashboard", DASHBOARD, STUDY),
    "/v1/study/weekly": ("/v1/study/weekly", WEEKLY, STUDY),
    "/v1/study/outcomes": ("/v1/study/outcomes", OUTCOMES, STUDY),
    "/v1/study/unsigned-records": (
        "/v1/study/unsigned-records?site=RP", UNSIGNED, f"{STUDY} site RP",
    ),
    "/v1/study/audit-review": ("/v1/study/audit-review", AUDIT_REVIEW, STUDY),
    "/v1/study/source-verification": (
        "/v1/study/source-verification?site=SP", SOURCE_VERIFICATION, f"{STUDY} site SP",
    ),
    "/v1/sites/<site>/delegation-log": (
        "/v1/sites/RP/delegation-log?format=csv", DELEGATION_LOG, f"{STUDY} site RP",
    ),
    "/v1/accounts": ("/v1/accounts", ACCOUNTS, STUDY),
    "/v1/accounts/<user_id>": ("/v1/accounts/coord1", ACCOUNTS, STUDY),
    "/v1/accounts/<user_id>/history": ("/v1/accounts/coord1/history", ACCOUNT_HISTORY, STUDY),
    "/v1/authentication-attempts": ("/v1/authentication-attempts", AUTHENTICATION_LOG, STUDY),
    "/v1/access-review": ("/v1/access-review", ACCESS_REVIEW, STUDY),
    "/v1/disclosures": ("/v1/disclosures", DISCLOSURE_LOG, STUDY),
}  # fmt: skip

EXEMPT_GETS: dict[str, str] = {
    # rule: a request that succeeds (None: the route answers nothing in this app)
    # The API's own description and its viewer: no data of the study.
    "/openapi.json": "/openapi.json",
    "/docs": "/docs",
    "/docs/assets/<path:filename>": "/docs/assets/swagger-ui.css",
    # Flask's static folder: this app serves no file from it.
    "/static/<path:filename>": "",
    # The server's public key: public by design, needed to check every signature.
    "/v1/server-key": "/v1/server-key",
    # The person's own account: nothing they do not already hold.
    "/v1/me": "/v1/me",
    # Checkpoints and proofs: sizes and hashes of the log, no record's content.
    "/v1/checkpoints/latest": "/v1/checkpoints/latest",
    "/v1/checkpoints/consistency": "/v1/checkpoints/consistency?from=1&to=2",
    # A checkpoint's time-stamp: this trial's store has no authority, so nothing to answer
    # (tests/e2e/test_timestamps_api.py serves one).
    "/v1/checkpoints/<int:tree_size>/timestamp": "",
    "/v1/events/<int:position>/proof": "/v1/events/1/proof",
    # The pages' sign-in and their own stylesheet: no data at all.
    "/login": "/login",
    "/assets/<path:filename>": "/assets/sealtrail.css",
    # Pages that only redirect, or show the person their own account (as /v1/me): asked here
    # without a signed-in browser they answer a redirect to /login (tests/web hold them).
    "/": "",
    "/logout": "",
    "/account": "",
    # /verify and what its script reads: checkpoints and proofs, as /v1/checkpoints/... and
    # /v1/events/<n>/proof. An event's content, shown only to whom may read it, is recorded as
    # a copy handed out (channel web): tests/web/test_verify.py holds that.
    "/verify": "",
    "/verify/evidence/latest": "",
    "/verify/evidence/consistency": "",
    "/verify/evidence/event": "",
    # /packets shows forms only: a packet verified is the person's own upload, nothing of the
    # store's. The packet built (POST /packets/build) is recorded as POST /v1/packets's is:
    # tests/web/test_packet_pages.py holds that.
    "/packets": "",
    # A packet build's page: its state, what was asked and the zip's SHA-256, none of the
    # packet's content (its download is recorded: RECORDED_PAGES).
    "/packets/builds/<uuid:build_id>": "",
    # The question a new subject's screening begins with: its code, and whether the person
    # already reads a subject of that code (as /subjects lists them); no subject's data.
    "/subjects/screen": "",
    # The form of an account to open: what the administrator types, nothing of the store's (a
    # change of an existing account shows it, and is recorded: RECORDED_PAGES).
    "/admin/accounts/new": "",
    # The choice of a locked database to reopen: the study's locked sites (as /study shows
    # them) and the sponsor's body to sign; no subject's or person's data.
    "/study/database-lock/reopen": "",
}

RECORDED_PAGES: dict[str, str] = {
    # rule: the test that holds the page to recording its copies (channel ``web``), signed in
    # in a browser as a person who may open it
    "/packets/builds/<uuid:build_id>/packet.zip": (
        "tests/web/test_packet_pages.py, test_the_data_manager_downloads_the_study_packet_..."
    ),
    # A packet built in the background (the API's, channel api): a build's URL is its own.
    "/v1/packets/<uuid:build_id>": (
        "tests/packets/test_packet_builds.py, test_a_packet_asked_async_is_202_then_the_zip_..."
    ),
    "/sign": "tests/web/test_sign_page.py, test_each_page_shown_is_a_copy_recorded...",
    "/audit": "tests/web/test_audit_pages.py, test_each_page_and_download_is_recorded_...",
    "/subjects/<code>/audit": "tests/web/test_audit_pages.py, the same test",
    "/subjects": "tests/web/test_subject_pages.py, test_each_subject_page_is_a_copy_recorded...",
    "/subjects/<code>": "tests/web/test_subject_pages.py, the same test",
    "/subjects/<code>/blood-counts.svg": "tests/web/test_subject_pages.py, the same test",
    "/subjects/<code>/troughs.svg": "tests/web/test_subject_pages.py, the same test",
    "/subjects/<code>/as-of": "tests/web/test_subject_pages.py, the same test",
    "/queries": "tests/web/test_query_pages.py, test_the_list_is_recorded_as_a_copy_handed_out",
    "/study": "tests/web/test_study.py, test_the_page_is_recorded_as_a_copy_of_the_persons...",
    "/queries/raise": "tests/web/test_query_pages.py, test_each_query_page_shown_is_a_copy_...",
    "/queries/<code>/<int:number>": "tests/web/test_query_pages.py, the same test",
    "/admin": "tests/web/test_admin_page.py, test_each_page_shown_is_a_copy_of_the_accounts_...",
    "/admin/accounts/<user_id>/<change>": "tests/web/test_admin_changes.py, test_each_form_is_...",
    "/subjects/<code>/record/<kind>": "tests/web/test_record_forms.py, test_each_form_and_sig...",
    "/delegation": "tests/web/test_delegation_pages.py, test_the_log_and_each_form_are_copies...",
    "/delegation/<site>/<user_id>/<change>": "tests/web/test_delegation_pages.py, the same test",
    "/access-review": "tests/web/test_access_review_page.py, test_each_page_is_a_copy_of_the_a...",
    "/audit/review": "tests/web/test_audit_review_page.py, test_an_auditor_records_their_revi...",
    "/subjects/<code>/source-verification": "tests/web/test_source_verification_pages.py, "
    "test_the_page_lists_each_record_as_not_verified_yet_and_is_a_copy_handed_out",
    "/subjects/<code>/lock-steps/<step>": "tests/web/test_lock_step_pages.py, "
    "test_the_subject_page_offers_each_person_the_steps_that_apply_and_the_page_is_a_copy",
    "/study/database-lock": "tests/web/test_database_lock_page.py, "
    "test_the_offer_naming_the_subjects_is_a_copy_recorded_and_the_empty_form_is_not",
}


@dataclass
class Trial:
    """RP-101 at site RP and SP-101 at site SP, their coordinators, an auditor, a checkpoint."""

    store: Store
    site: Site
    auditor: Person
    coordinator: Person
    outsider: Person

    def copies(self) -> list[Disclosure]:
        return self.store.disclosures.of(self.auditor.user_id)


@pytest.fixture
def trial(sqlite_store: Store, person_in: PersonFactory) -> Trial:
    coordinator = person_in(sqlite_store)
    coordinator.record(sqlite_store, "RP-101", "Screened", screening())
    outsider = person_in(sqlite_store, "coord2", printed_name="Rui Lima", sites=("SP",))
    outsider.record(sqlite_store, "SP-101", "Screened", screening(site="SP"))
    auditor = person_in(
        sqlite_store, "audit1", printed_name="Lia Prado", role=Role.AUDITOR, sites=()
    )
    sqlite_store.app.checkpoints.seal()
    return Trial(sqlite_store, Site(sqlite_store), auditor, coordinator, outsider)


def get_rules() -> set[str]:
    app, _ = app_of_this_process()
    return {rule.rule for rule in app.url_map.iter_rules() if "GET" in (rule.methods or ())}


def test_every_get_route_of_the_api_is_a_recorded_read_or_exempt() -> None:
    rules = get_rules()

    listed = [set(RECORDED_GETS), set(EXEMPT_GETS), set(RECORDED_PAGES)]
    assert all(a & b == set() for a, b in itertools.combinations(listed, 2))
    assert rules - set.union(*listed) == set(), (
        "a GET route neither recorded as a copy handed out nor exempt: add it to RECORDED_GETS "
        "(and call api.http.handing_out.handing_out in its view), a page to RECORDED_PAGES "
        "(api.web.handing_out.handed_out) or, if it hands out no subject or personnel data, to "
        "EXEMPT_GETS with the reason"
    )
    assert set.union(*listed) <= rules, "a route listed that is gone"


@pytest.mark.parametrize("rule", sorted(RECORDED_GETS))
def test_each_read_of_the_api_is_recorded_with_its_scope_its_hash_and_its_checkpoint(
    trial: Trial, rule: str
) -> None:
    url, what, scope = RECORDED_GETS[rule]
    headers = trial.site.auth(trial.auditor)  # signed in first: the log then holds still
    before = trial.store.app.checkpoints.head()

    answer = trial.site.client.get(url, headers=headers)

    assert answer.status_code == 200, answer.get_data(as_text=True)
    (copy,) = trial.copies()
    assert (copy.user_id, copy.what, str(copy.scope), copy.channel) == (
        "audit1",
        what,
        scope,
        "api",
    )
    assert copy.sha256 == hashlib.sha256(answer.get_data()).hexdigest()
    assert (copy.log_size, copy.log_root) == (before.size, before.root.hex())


REFUSED_PAGES: list[tuple[str, str, int]] = [
    # (who, page, status): each refused, nothing handed out, nothing recorded
    ("outsider", "/subjects/RP-101/audit", 404),  # another site's subject reads as none at all
    ("outsider", "/audit?site=RP", 400),
    ("outsider", "/audit?subject=RP-101&format=csv", 400),
    ("auditor", "/subjects/RP-999/audit", 404),
    ("auditor", "/audit?page=0", 400),
    ("outsider", "/subjects/RP-101", 404),
    ("outsider", "/subjects/RP-101/blood-counts.svg", 404),
    ("outsider", "/subjects/RP-101/troughs.svg", 404),
    ("outsider", "/subjects/RP-101/as-of?position=1", 404),
    ("auditor", "/subjects/RP-999", 404),
    ("auditor", "/subjects/RP-101/as-of?position=0", 400),
    ("auditor", "/subjects/RP-101/as-of", 400),
    ("auditor", "/subjects/RP-101/as-of?time=yesterday", 400),
    ("auditor", "/subjects/RP-101/as-of?time=2999-01-01", 400),  # later than now
    ("auditor", "/subjects/RP-101/as-of?from=1", 400),
    ("auditor", "/subjects/RP-101/as-of?position=1", 404),  # before its first event
]


@pytest.mark.parametrize(("who", "url", "status"), REFUSED_PAGES)
def test_a_refused_page_records_nothing_and_changes_nothing(
    trial: Trial, who: str, url: str, status: int
) -> None:
    person = trial.outsider if who == "outsider" else trial.auditor
    browser = Browser(trial.store)
    browser.sign_in(person.user_id, person.password)
    before = trial.store.app.checkpoints.head()

    answer = browser.get(url)

    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.mimetype == "text/html"
    assert trial.store.disclosures.of(person.user_id) == []
    assert trial.store.app.checkpoints.head() == before


@pytest.mark.parametrize("rule", sorted(EXEMPT_GETS))
def test_an_exempt_route_records_no_copy(trial: Trial, rule: str) -> None:
    url = EXEMPT_GETS[rule]
    headers = trial.site.auth(trial.auditor)
    before = trial.store.app.checkpoints.head()

    if url:
        answer = trial.site.client.get(url, headers=headers)
        assert answer.status_code == 200, answer.get_data(as_text=True)

    assert trial.copies() == []
    assert trial.store.app.checkpoints.head() == before


REFUSED_READS: list[tuple[str, str, int]] = [
    # (who, request, status): each refused, nothing handed out, nothing recorded
    ("outsider", SUBJECT_URL, 404),  # another site's subject reads as none at all
    ("outsider", f"{SUBJECT_URL}/history", 404),
    ("outsider", f"{SUBJECT_URL}/weekly", 404),
    ("outsider", f"{SUBJECT_URL}/audit", 404),
    ("outsider", f"{SUBJECT_URL}/source-verification", 404),
    ("auditor", f"/v1/studies/{STUDY}/subjects/RP-999", 404),
    ("auditor", f"{SUBJECT_URL}?position=0", 422),
    ("outsider", "/v1/study/dashboard", 403),
    ("outsider", "/v1/study/weekly", 403),
    ("outsider", "/v1/study/outcomes", 403),
    ("outsider", "/v1/study/unsigned-records?site=RP", 403),
    ("outsider", "/v1/study/audit-review", 403),
    ("outsider", "/v1/study/source-verification?site=RP", 403),
    ("outsider", "/v1/sites/RP/delegation-log?format=csv", 403),
    ("auditor", "/v1/sites/RP/delegation-log?format=csv&study=NOT-A-STUDY", 422),
    ("auditor", "/v1/study/outcomes?study=NOT-A-STUDY", 422),
    ("auditor", "/v1/study/audit-review?from=2011-02-02&to=2011-02-01", 422),
    ("outsider", "/v1/accounts", 403),
    ("auditor", "/v1/accounts/nobody", 404),
    ("auditor", "/v1/accounts/nobody/history", 404),
    ("outsider", "/v1/authentication-attempts", 403),
    ("outsider", "/v1/access-review", 403),
    ("outsider", "/v1/disclosures", 403),
    ("auditor", "/v1/disclosures?subject=RP-999", 404),
]


@pytest.mark.parametrize(("who", "url", "status"), REFUSED_READS)
def test_a_refused_read_records_nothing_and_changes_nothing(
    trial: Trial, who: str, url: str, status: int
) -> None:
    person = trial.outsider if who == "outsider" else trial.auditor
    headers = trial.site.auth(person)
    before = trial.store.app.checkpoints.head()

    answer = trial.site.client.get(url, headers=headers)

    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.mimetype == "application/problem+json"
    assert trial.store.disclosures.of(person.user_id) == []
    assert trial.store.app.checkpoints.head() == before
