"""``/queries`` and the query forms through Flask's test client (api/web/queries.py,
api/web/query_forms.py): the list by status, site, subject and age; who sees which site's
queries; bad filters answered as the page with its errors and nothing recorded.

Queries are raised, answered and closed over the real API here (signed with real Ed25519 keys)
where a test is about the list; the forms' own tests sign the body the page offers in Python,
exactly as sign-form.js signs it. Real stores (SQLite and PostgreSQL), real keys, Argon2id
passwords; only the access control's clock is the test's.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.account import Role
from domain.disclosure import QUERY_LIST, Disclosure
from infrastructure.bootstrap import Store
from projections.query_list import query_lines
from tests.access.conftest import make_person
from tests.conftest import STUDY, Person, consent, haemoglobin, screening
from tests.e2e.conftest import SUBJECT, Site
from tests.web.conftest import Browser, text

QUERIES = "/queries"
OTHER_SUBJECT = "SP-201"
LINE = (
    r'<th scope="row"><a href="/subjects/([^"]+)">[^<]+</a></th>\s*<td>[^<]*</td>'
    r'\s*<td><a href="[^"]*">Query (\d+)</a>'
)
"""A line of the list: its subject and its query's number."""


class Trial:
    """RP-101 at RP (entries 1-3: screening, consent, a blood count) and SP-201 at SP (the
    same), each site's coordinator and monitor, and an auditor."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.site = Site(store)
        self.coordinator = make_person(store, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
        self.monitor = make_person(
            store, "mon1", role=Role.MONITOR, sites=("RP",), printed_name="Caio Reis"
        )
        self.sp_coordinator = make_person(
            store, "coord2", role=Role.SITE_COORDINATOR, sites=("SP",)
        )
        self.sp_monitor = make_person(store, "mon2", role=Role.MONITOR, sites=("SP",))
        self.auditor = make_person(store, "aud1", role=Role.AUDITOR)
        for subject, coordinator in (
            (SUBJECT, self.coordinator),
            (OTHER_SUBJECT, self.sp_coordinator),
        ):
            site = subject.split("-")[0]
            for kind, data in (
                ("Screened", screening(site=site)),
                ("ConsentObtained", consent()),
                ("BloodCountRecorded", haemoglobin("76")),
            ):
                answer = self.site.submit(coordinator, kind, data, subject=subject)
                assert answer.status_code == 201, answer.get_data(as_text=True)

    def submit(self, person: Person, kind: str, data: dict[str, Any], subject: str) -> int:
        """Record one signed event over the API; its entry."""
        answer = self.site.submit(person, kind, data, subject=subject)
        assert answer.status_code == 201, answer.get_data(as_text=True)
        return int(answer.get_json()["version"])

    def raise_query(self, subject: str = SUBJECT, question: str = "76 g/dL: 7.6?") -> int:
        monitor = self.monitor if subject == SUBJECT else self.sp_monitor
        data = {
            "entry": 3,
            "entry_kind": "BloodCountRecorded",
            "item": "results",
            "question": question,
        }
        return self.submit(monitor, "QueryRaised", data, subject)


@pytest.fixture
def trial(timed: Store) -> Trial:
    return Trial(timed)


def signed_in(timed: Store, person: Person) -> Browser:
    browser = Browser(timed)
    answer = browser.sign_in(person.user_id, person.password)
    assert answer.status_code == 302, text(answer)
    return browser


def listed(page: str) -> list[tuple[str, str]]:
    """(subject, query number) of each line of the list, in order."""
    return re.findall(LINE, page)


def test_the_list_shows_each_query_of_the_sites_the_person_reads_with_status_and_age(
    timed: Store, trial: Trial
) -> None:
    first = trial.raise_query()
    second = trial.raise_query(question="Which laboratory?")
    trial.submit(
        trial.coordinator, "QueryAnswered", {"query": first, "answer": "7.6, corrected."}, SUBJECT
    )
    trial.submit(
        trial.monitor,
        "QueryClosed",
        {"query": second, "resolution": "Asked at the visit."},
        SUBJECT,
    )
    trial.raise_query(OTHER_SUBJECT)

    page = text(signed_in(timed, trial.monitor).get(QUERIES))

    assert listed(page) == [(SUBJECT, str(first)), (SUBJECT, str(second))]
    assert "answered" in page and "closed" in page
    assert "76 g/dL: 7.6?" in page and "Which laboratory?" in page
    assert f'href="/subjects/{SUBJECT}#entry-3"' in page
    assert OTHER_SUBJECT not in page
    assert "2 queries" in page


def test_an_auditor_sees_every_sites_queries(timed: Store, trial: Trial) -> None:
    trial.raise_query()
    trial.raise_query(OTHER_SUBJECT)

    page = text(signed_in(timed, trial.auditor).get(QUERIES))

    assert listed(page) == [(SUBJECT, "4"), (OTHER_SUBJECT, "4")]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=open", [(SUBJECT, "5"), (OTHER_SUBJECT, "4")]),
        ("status=answered", [(SUBJECT, "4")]),
        ("status=closed", []),
        ("site=SP", [(OTHER_SUBJECT, "4")]),
        (f"subject={OTHER_SUBJECT}", [(OTHER_SUBJECT, "4")]),
        ("days=0", [(SUBJECT, "4"), (SUBJECT, "5"), (OTHER_SUBJECT, "4")]),
        ("days=1", []),
        ("status=open&site=RP&days=0", [(SUBJECT, "5")]),
    ],
)
def test_the_filters_are_the_pages_url(
    timed: Store, trial: Trial, query: str, expected: list[tuple[str, str]]
) -> None:
    trial.raise_query()
    trial.raise_query(question="Which laboratory?")
    trial.submit(trial.coordinator, "QueryAnswered", {"query": 4, "answer": "7.6."}, SUBJECT)
    trial.raise_query(OTHER_SUBJECT)

    answer = signed_in(timed, trial.auditor).get(f"{QUERIES}?{query}")

    assert answer.status_code == 200, text(answer)
    assert listed(text(answer)) == expected


def test_days_open_count_from_the_day_raised_to_today_or_to_the_closing(trial: Trial) -> None:
    first = trial.raise_query()
    trial.raise_query(question="Which laboratory?")
    trial.submit(trial.monitor, "QueryClosed", {"query": first, "resolution": "Seen."}, SUBJECT)
    subject = trial.store.app.find_subject(f"{STUDY}/{SUBJECT}")
    assert subject is not None
    zone = ZoneInfo("America/Sao_Paulo")
    today = datetime.now(zone).date()

    lines = query_lines([subject], today + timedelta(days=9), zone)

    assert [(line.query, line.status, line.days_open) for line in lines] == [
        (first, "closed", 0),
        (first + 1, "open", 9),
    ]
    assert lines[0].raised_at.tzinfo is not None and lines[0].closed_at is not None
    assert lines[0].raised_at <= lines[0].closed_at <= datetime.now(UTC)


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("status=pending", "status", "Choose one of the statuses listed"),
        ("site=XX", "site", "Choose one of the sites listed"),
        ("site=SP", "site", "Choose one of the sites listed"),
        ("subject=RP%2001", "subject", "Enter a subject code such as RP-01"),
        (f"subject={OTHER_SUBJECT}", "subject", "No subject of that code among those you read"),
        ("days=-1", "days", "Enter a number of days, such as 7"),
        ("days=9999999999999999999", "days", "Enter a number of days, such as 7"),
        ("days=%00", "days", "Enter a number of days, such as 7"),
        ("subject=RP-101%00", "subject", "Enter a subject code such as RP-01"),
    ],
)
def test_a_bad_filter_answers_the_page_with_its_error_and_lists_and_records_nothing(
    timed: Store, trial: Trial, query: str, field: str, message: str
) -> None:
    trial.raise_query()
    browser = signed_in(timed, trial.monitor)
    before = copies_of(timed, trial.monitor)

    answer = browser.get(f"{QUERIES}?{query}")

    page = text(answer)
    assert answer.status_code == 400, page
    assert f'<a href="#{field}">{message}</a>' in page
    assert listed(page) == []
    assert "\x00" not in page
    assert copies_of(timed, trial.monitor) == before


def test_the_list_is_recorded_as_a_copy_handed_out(timed: Store, trial: Trial) -> None:
    trial.raise_query()
    browser = signed_in(timed, trial.monitor)

    answer = browser.get(f"{QUERIES}?subject={SUBJECT}")

    assert answer.status_code == 200
    copies = copies_of(timed, trial.monitor)
    assert (copies[-1].what, str(copies[-1].scope), copies[-1].channel) == (
        QUERY_LIST,
        f"{STUDY}/{SUBJECT}",
        "web",
    )


def test_a_role_that_reads_no_clinical_data_is_refused(timed: Store, trial: Trial) -> None:
    admin = make_person(timed, "admin2", role=Role.ADMINISTRATOR)

    answer = signed_in(timed, admin).get(QUERIES)

    assert answer.status_code == 403


def copies_of(store: Store, person: Person) -> list[Disclosure]:
    """The person's disclosure log, as the store holds it."""
    return store.disclosures.of(person.user_id)
