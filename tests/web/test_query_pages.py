"""``/queries`` and the query forms through Flask's test client (api/web/queries.py,
api/web/query_forms.py): the list by status, site, subject and age; who sees which site's
queries; bad filters answered as the page with its errors and nothing recorded.

Queries are raised, answered and closed over the real API here (signed with real Ed25519 keys)
where a test is about the list; the forms' own tests sign the body the page offers in Python,
exactly as sign-form.js signs it. Real stores (SQLite and PostgreSQL), real keys, Argon2id
passwords; only the access control's clock is the test's.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from werkzeug.test import TestResponse

from api.web.queries import ordered
from domain.account import Role
from domain.disclosure import QUERY_LIST, QUERY_PAGE, Disclosure
from infrastructure.bootstrap import Store
from projections.query_list import QueryLine, query_lines
from tests.access.conftest import make_person
from tests.conftest import ON_BOTH_BACKENDS, STUDY, Person, consent, haemoglobin, screening
from tests.e2e.conftest import SUBJECT, Site
from tests.web.conftest import Browser, text
from tests.web.signed_forms import SigningPage

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


@ON_BOTH_BACKENDS
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


# -- raising, answering and closing, signed as the browser signs ----------------------------------


def raise_page(browser: Browser, entry: str = "3", subject: str = SUBJECT) -> TestResponse:
    return browser.get(f"/queries/raise?subject={subject}&entry={entry}")


def raise_in_page(
    browser: Browser, person: Person, question: str, item: str = "results"
) -> TestResponse:
    form = SigningPage(raise_page(browser)).signed(person, {"item": item, "question": question})
    return browser.client.post(f"/queries/raise?subject={SUBJECT}&entry=3", data=form)


def versions(trial: Trial, subject: str = SUBJECT) -> int:
    found = trial.store.app.find_subject(f"{STUDY}/{subject}")
    assert found is not None
    return int(found.version)


@ON_BOTH_BACKENDS
def test_a_monitor_raises_a_query_signed_with_their_key_and_the_site_sees_it(
    timed: Store, trial: Trial
) -> None:
    monitor = signed_in(timed, trial.monitor)
    page = SigningPage(raise_page(monitor))

    answer = monitor.client.post(
        f"/queries/raise?subject={SUBJECT}&entry=3",
        data=page.signed(trial.monitor, {"item": "results", "question": "76 g/dL:\nis it 7.6?"}),
    )

    assert answer.status_code == 302, text(answer)
    assert answer.headers["Location"] == f"/queries/{SUBJECT}/4"
    assert page.body == {
        "study": STUDY,
        "subject": SUBJECT,
        "version": 4,
        "kind": "QueryRaised",
        "data": {"entry": 3, "entry_kind": "BloodCountRecorded"},
        "signer": {"user_id": "mon1", "printed_name": "Caio Reis"},
        "meaning": "authorship",
    }
    assert 'data-signed-item="question"' in page.page and 'name="password"' not in page.page
    (asked,) = trial.store.app.find_subject(f"{STUDY}/{SUBJECT}").queries  # type: ignore[union-attr]
    assert (asked.query, asked.item, asked.question) == (4, "results", "76 g/dL:\nis it 7.6?")
    shown = text(signed_in(timed, trial.coordinator).get(f"/queries/{SUBJECT}/4"))
    assert "76 g/dL:\nis it 7.6?" in shown and 'action="/queries/RP-101/4/answer"' in shown


@ON_BOTH_BACKENDS
def test_the_site_answers_and_the_monitor_closes_each_signed_with_their_own_key(
    timed: Store, trial: Trial
) -> None:
    number = trial.raise_query()
    coordinator = signed_in(timed, trial.coordinator)
    monitor = signed_in(timed, trial.monitor)
    page = f"/queries/{SUBJECT}/{number}"

    answered = coordinator.client.post(
        f"{page}/answer",
        data=SigningPage(coordinator.get(page)).signed(trial.coordinator, {"answer": "7.6."}),
    )
    closing = SigningPage(monitor.get(page))
    closed = monitor.client.post(
        f"{page}/close", data=closing.signed(trial.monitor, {"resolution": "Corrected."})
    )

    assert (answered.status_code, closed.status_code) == (302, 302), text(closed)
    assert closing.body["kind"] == "QueryClosed" and closing.body["data"] == {"query": number}
    (asked,) = trial.store.app.find_subject(f"{STUDY}/{SUBJECT}").queries  # type: ignore[union-attr]
    assert asked.status == "closed"
    assert asked.answers[0]["answer"] == "7.6." and asked.closed_by is not None
    final = text(monitor.get(page))
    assert 'action="/queries/' not in final  # closed: nothing more to send
    assert "Query 4 closed. Recorded at log position" in final


def test_the_subject_page_offers_a_monitor_to_raise_a_query_about_each_record(
    timed: Store, trial: Trial
) -> None:
    trial.raise_query()

    as_monitor = text(signed_in(timed, trial.monitor).get(f"/subjects/{SUBJECT}"))
    as_coordinator = text(signed_in(timed, trial.coordinator).get(f"/subjects/{SUBJECT}"))

    for entry in (1, 2, 3):
        assert f"/queries/raise?subject={SUBJECT}&amp;entry={entry}" in as_monitor
    assert "/queries/raise?subject=RP-101&amp;entry=4" not in as_monitor  # the query itself
    assert (
        f'href="/queries/{SUBJECT}/4"' in as_monitor
        and f'href="/queries/{SUBJECT}/4"' in as_coordinator
    )
    assert "/queries/raise" not in as_coordinator


@pytest.mark.parametrize(
    ("question", "field", "message"),
    [
        ("", "question", "Fill this in: it is part of what you sign"),
        ("  \n ", "question", "a query asks a question: the text is empty"),
        ("76\x00 g/dL?", "question", "control character"),
        ("76\x1b[31m g/dL?", "question", "control character"),
    ],
)
def test_a_question_refused_shows_the_form_again_with_what_was_typed_and_records_nothing(
    timed: Store, trial: Trial, question: str, field: str, message: str
) -> None:
    monitor = signed_in(timed, trial.monitor)
    before = versions(trial)

    answer = raise_in_page(monitor, trial.monitor, question)

    page = text(answer)
    assert answer.status_code == 200, page
    assert 'class="error-summary"' in page and message in page
    assert "\x00" not in page and "\x1b" not in page
    if question.strip():
        assert html.escape(question.replace("\x00", "\ufffd").replace("\x1b", "\ufffd")) in page
    assert versions(trial) == before


def test_a_form_sent_without_a_signature_is_refused_and_records_nothing(
    timed: Store, trial: Trial
) -> None:
    monitor = signed_in(timed, trial.monitor)
    page = SigningPage(raise_page(monitor))
    before = versions(trial)

    answer = monitor.client.post(
        f"/queries/raise?subject={SUBJECT}&entry=3",
        data={"csrf_token": page.csrf_token, "question": "Typed, never signed?"},
    )

    assert answer.status_code == 200
    assert "Nothing was signed" in text(answer) and "Typed, never signed?" in text(answer)
    assert versions(trial) == before


def test_a_form_without_its_csrf_token_is_refused_and_records_nothing(
    timed: Store, trial: Trial
) -> None:
    monitor = signed_in(timed, trial.monitor)
    form = SigningPage(raise_page(monitor)).signed(trial.monitor, {"question": "Why?"})
    del form["csrf_token"]
    before = versions(trial)

    answer = monitor.client.post(f"/queries/raise?subject={SUBJECT}&entry=3", data=form)

    assert answer.status_code == 400
    assert versions(trial) == before


def test_a_body_of_another_kind_is_not_recorded_through_the_query_form(
    timed: Store, trial: Trial
) -> None:
    coordinator = signed_in(timed, trial.coordinator)
    number = trial.raise_query()
    page = SigningPage(coordinator.get(f"/queries/{SUBJECT}/{number}"))
    form = page.signed(trial.coordinator, {}, kind="BloodCountRecorded", data=haemoglobin("7.7"))
    before = versions(trial)

    answer = coordinator.client.post(f"/queries/{SUBJECT}/{number}/answer", data=form)

    assert answer.status_code == 200
    assert "The signed body is not a QueryAnswered of RP-101" in text(answer)
    assert versions(trial) == before


def test_an_answer_to_another_query_is_not_recorded_through_this_querys_form(
    timed: Store, trial: Trial
) -> None:
    first = trial.raise_query()
    other = trial.raise_query(question="Which laboratory?")
    coordinator = signed_in(timed, trial.coordinator)
    page = SigningPage(coordinator.get(f"/queries/{SUBJECT}/{first}"))
    form = page.signed(trial.coordinator, {"answer": "7.6"}, data={"query": other, "answer": "7.6"})
    before = versions(trial)

    answer = coordinator.client.post(f"/queries/{SUBJECT}/{first}/answer", data=form)

    assert answer.status_code == 200
    assert "The signed body is not a QueryAnswered of RP-101" in text(answer)
    assert versions(trial) == before


def test_a_closed_query_answered_again_is_refused_and_records_nothing(
    timed: Store, trial: Trial
) -> None:
    number = trial.raise_query()
    coordinator = signed_in(timed, trial.coordinator)
    page = SigningPage(coordinator.get(f"/queries/{SUBJECT}/{number}"))  # read while open
    trial.submit(trial.monitor, "QueryClosed", {"query": number, "resolution": "Seen."}, SUBJECT)
    before = versions(trial)

    answer = coordinator.client.post(
        f"/queries/{SUBJECT}/{number}/answer",
        data=page.signed(trial.coordinator, {"answer": "Late answer"}, version=before + 1),
    )

    shown = text(answer)
    assert answer.status_code == 200, shown
    assert f"query {number} was closed by entry {number + 1}, so is not answered" in shown
    assert "Late answer" in shown
    assert versions(trial) == before


@ON_BOTH_BACKENDS
def test_an_answer_signed_before_another_write_is_refused_as_stale(
    timed: Store, trial: Trial
) -> None:
    number = trial.raise_query()
    coordinator = signed_in(timed, trial.coordinator)
    page = SigningPage(coordinator.get(f"/queries/{SUBJECT}/{number}"))
    trial.submit(trial.coordinator, "BloodCountRecorded", haemoglobin("8.1"), SUBJECT)
    before = versions(trial)

    answer = coordinator.client.post(
        f"/queries/{SUBJECT}/{number}/answer",
        data=page.signed(trial.coordinator, {"answer": "7.6"}),
    )

    assert answer.status_code == 200 and 'class="error-summary"' in text(answer)
    assert versions(trial) == before


@pytest.mark.parametrize(
    ("url", "status"),
    [
        (f"/queries/raise?subject={SUBJECT}&entry=99", 404),
        (f"/queries/raise?subject={SUBJECT}&entry=x", 404),
        (f"/queries/raise?subject={SUBJECT}&entry=%00", 404),
        (f"/queries/raise?subject={SUBJECT}", 404),
        ("/queries/raise?subject=RP-999&entry=1", 404),
        (f"/queries/raise?subject={OTHER_SUBJECT}&entry=3", 404),
        (f"/queries/{SUBJECT}/3", 404),
        (f"/queries/{SUBJECT}/99", 404),
        (f"/queries/{OTHER_SUBJECT}/4", 404),
    ],
)
def test_an_unknown_record_query_or_another_sites_subject_is_not_found(
    timed: Store, trial: Trial, url: str, status: int
) -> None:
    trial.raise_query(OTHER_SUBJECT)

    answer = signed_in(timed, trial.monitor).get(url)

    assert answer.status_code == status, text(answer)
    assert answer.mimetype == "text/html"
    assert "signing-body" not in text(answer)


def test_a_query_about_a_query_is_not_offered(timed: Store, trial: Trial) -> None:
    number = trial.raise_query()

    answer = raise_page(signed_in(timed, trial.monitor), entry=str(number))

    assert answer.status_code == 404
    assert "is part of a query: ask about its record" in text(answer)


@pytest.mark.parametrize(
    ("who", "method", "url"),
    [
        ("coordinator", "get", f"/queries/raise?subject={SUBJECT}&entry=3"),
        ("coordinator", "post", f"/queries/raise?subject={SUBJECT}&entry=3"),
        ("coordinator", "post", f"/queries/{SUBJECT}/4/close"),
        ("monitor", "post", f"/queries/{SUBJECT}/4/answer"),
        ("auditor", "get", f"/queries/raise?subject={SUBJECT}&entry=3"),
        ("auditor", "post", f"/queries/{SUBJECT}/4/answer"),
        ("auditor", "post", f"/queries/{SUBJECT}/4/close"),
    ],
)
def test_a_role_that_does_not_do_it_is_refused_and_nothing_is_recorded(
    timed: Store, trial: Trial, who: str, method: str, url: str
) -> None:
    trial.raise_query()
    person = getattr(trial, who)
    browser = signed_in(timed, person)
    token = browser.csrf_token("/account")
    before = versions(trial)

    if method == "get":
        answer = browser.get(url)
    else:
        answer = browser.client.post(
            url, data={"csrf_token": token, "body": "{}", "signature": "x"}
        )

    assert answer.status_code == 403, text(answer)
    assert versions(trial) == before


@ON_BOTH_BACKENDS
def test_another_sites_people_can_neither_see_nor_answer_nor_close(
    timed: Store, trial: Trial
) -> None:
    number = trial.raise_query()
    before = versions(trial)
    coordinator = signed_in(timed, trial.sp_coordinator)
    monitor = signed_in(timed, trial.sp_monitor)

    seen = coordinator.get(f"/queries/{SUBJECT}/{number}")
    answered = coordinator.client.post(
        f"/queries/{SUBJECT}/{number}/answer",
        data={"csrf_token": coordinator.csrf_token("/account"), "answer": "x"},
    )
    closed = monitor.client.post(
        f"/queries/{SUBJECT}/{number}/close",
        data={"csrf_token": monitor.csrf_token("/account"), "resolution": "x"},
    )

    assert (seen.status_code, answered.status_code, closed.status_code) == (404, 404, 404)
    assert "76 g/dL" not in text(seen) + text(answered) + text(closed)
    assert versions(trial) == before


def test_each_query_page_shown_is_a_copy_recorded(timed: Store, trial: Trial) -> None:
    number = trial.raise_query()
    monitor = signed_in(timed, trial.monitor)

    for url in (f"/queries/{SUBJECT}/{number}", f"/queries/raise?subject={SUBJECT}&entry=3"):
        assert monitor.get(url).status_code == 200
        copy = copies_of(timed, trial.monitor)[-1]
        assert (copy.what, str(copy.scope), copy.channel) == (
            QUERY_PAGE,
            f"{STUDY}/{SUBJECT}",
            "web",
        )


ONE_BACKEND = pytest.mark.parametrize("backend", ["sqlite"])
"""The list's order and pages are the page's alone: one backend shows them as the other."""


def _line(query: int, status: str, days_open: int) -> QueryLine:
    raised = datetime(2026, 12, 4, 12, tzinfo=UTC)
    return QueryLine(
        SUBJECT, "RP", query, 3, "BloodCountRecorded", None, "?", status, raised, None, None,
        days_open,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("subject", [4, 5, 6, 7]),
        ("status", [7, 4, 6, 5]),
        ("age", [7, 6, 4, 5]),
    ],
)
def test_the_list_is_ordered_by_status_then_age_or_by_age_alone(
    order: str, expected: list[int]
) -> None:
    lines = [
        _line(4, "open", 3),
        _line(5, "closed", 0),
        _line(6, "answered", 9),
        _line(7, "open", 20),
    ]

    assert [line.query for line in ordered(lines, order)] == expected


@ONE_BACKEND
def test_the_list_by_status_puts_open_queries_before_answered_and_closed(
    timed: Store, trial: Trial
) -> None:
    first, second, third = (trial.raise_query(question=f"Question {n}?") for n in range(3))
    trial.submit(trial.monitor, "QueryClosed", {"query": first, "resolution": "Seen."}, SUBJECT)
    trial.submit(trial.coordinator, "QueryAnswered", {"query": second, "answer": "7.6."}, SUBJECT)

    page = text(signed_in(timed, trial.monitor).get(f"{QUERIES}?order=status"))

    assert listed(page) == [(SUBJECT, str(third)), (SUBJECT, str(second)), (SUBJECT, str(first))]
    assert '<option selected value="status">' in page


@ONE_BACKEND
def test_a_long_list_is_paged_and_each_page_link_keeps_the_filters(
    timed: Store, trial: Trial
) -> None:
    raised = [trial.raise_query(question=f"Question {n}?") for n in range(26)]
    monitor = signed_in(timed, trial.monitor)

    first = text(monitor.get(f"{QUERIES}?status=open&size=25"))
    second = monitor.get(f"{QUERIES}?status=open&size=25&page=2")
    past = monitor.get(f"{QUERIES}?status=open&size=25&page=3")

    assert [int(number) for _s, number in listed(first)] == raised[:25]
    assert "26 queries: Rows 1 to 25 of 26" in first
    assert (
        'rel="next" href="/queries?status=open&amp;order=subject&amp;size=25&amp;page=2"' in first
    )
    assert [int(number) for _s, number in listed(text(second))] == raised[25:]
    assert 'rel="prev"' in text(second) and 'rel="next"' not in text(second)
    assert past.status_code == 400
    assert "Enter the number of a page that exists" in text(past)
    assert listed(text(past)) == []


@ONE_BACKEND
@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("order=newest", "order", "Choose one of the orders listed"),
        ("size=7", "size", "Choose one of the numbers of rows listed"),
        ("page=0", "page", "Enter a page number from 1"),
        ("page=two", "page", "Enter a page number, such as 2"),
        ("page=" + "9" * 4000, "page", "Enter the number of a page that exists"),
        ("page=2%00", "page", "Enter a page number, such as 2"),
    ],
)
def test_a_bad_order_size_or_page_answers_the_page_with_its_error(
    timed: Store, trial: Trial, query: str, field: str, message: str
) -> None:
    trial.raise_query()
    monitor = signed_in(timed, trial.monitor)
    before = copies_of(timed, trial.monitor)

    answer = monitor.get(f"{QUERIES}?{query}")

    assert answer.status_code == 400, text(answer)
    assert f'<a href="#{field}">{message}</a>' in text(answer)
    assert listed(text(answer)) == []
    assert copies_of(timed, trial.monitor) == before


@ONE_BACKEND
def test_the_subject_page_offers_a_monitor_a_query_about_each_field_of_each_record(
    timed: Store, trial: Trial
) -> None:
    monitor = signed_in(timed, trial.monitor)

    page = text(monitor.get(f"/subjects/{SUBJECT}"))
    asked = raise_page(monitor, "3").get_data(as_text=True)
    about_results = monitor.get(f"/queries/raise?subject={SUBJECT}&entry=3&item=results")

    assert f'href="/queries/raise?subject={SUBJECT}&amp;entry=3&amp;item=results"' in page
    assert f'href="/queries/raise?subject={SUBJECT}&amp;entry=2&amp;item=' in page
    assert "Raise a query about results" in page
    assert 'value="results" selected' in text(about_results) or (
        'selected value="results"' in text(about_results)
    )
    assert asked
    coordinator_page = text(signed_in(timed, trial.coordinator).get(f"/subjects/{SUBJECT}"))
    assert "/queries/raise" not in coordinator_page
