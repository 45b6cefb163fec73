"""``/audit`` and ``/subjects/<code>/audit``: the Part 11 audit trail on a page, filtered by the
URL, paged, downloaded as CSV and signed PDF of exactly the rows listed, only of the sites the
person reads, every copy recorded in their disclosure log, bad input answered 400 with the page."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from werkzeug.test import TestResponse

from api.web.forms import BAD_USER
from domain.account import Role
from infrastructure.application.audit_trail import AuditTrail
from infrastructure.bootstrap import Store
from infrastructure.documents.renderings import audit_trail_csv
from projections.audit_trail import AuditFilter
from tests.conftest import BACKENDS, STUDY, Person, open_person, screening, store_on
from tests.reports.conftest import CORRECTED_ENTRY, RECORDS, report
from tests.reports.test_documents import page_texts
from tests.web.conftest import Browser, text

SUBJECT = "RP-01"


class Trial:
    """RP-01 (a followed subject: a correction, a void) and RP-02 at RP, SP-01 at SP; the
    people who read them, each with a browser of their own."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.coordinator = open_person(store, "coord1")
        for kind, data in RECORDS:
            self.coordinator.record(store, SUBJECT, kind, data)
        self.coordinator.record(store, "RP-02", "Screened", screening(screened_on="2011-03-01"))
        self.outsider = open_person(store, "coord2", printed_name="Rui Lima", sites=("SP",))
        self.outsider.record(store, "SP-01", "Screened", screening(site="SP"))
        self.monitor = open_person(store, "mon1", printed_name="Iara Reis", role=Role.MONITOR)
        self.monitor.record(
            store,
            SUBJECT,
            "QueryRaised",
            {
                "entry": CORRECTED_ENTRY,
                "entry_kind": "BloodCountRecorded",
                "item": "results",
                "question": "Is 7.1 on the lab report?",
            },
        )
        self.auditor = open_person(
            store, "audit1", printed_name="Lia Prado", role=Role.AUDITOR, sites=()
        )
        self.administrator = open_person(
            store, "admin2", printed_name="Caio Dias", role=Role.ADMINISTRATOR, sites=()
        )
        self._browsers: dict[str, Browser] = {}

    def browser(self, person: Person) -> Browser:
        """A browser signed in as ``person`` (one per person, kept for the module)."""
        if person.user_id not in self._browsers:
            browser = Browser(self.store)
            signed = browser.sign_in(person.user_id, person.password)
            assert signed.status_code == 302, text(signed)
            self._browsers[person.user_id] = browser
        return self._browsers[person.user_id]

    def rows(self, **filters: object) -> list[str]:
        """The positions and fields the application's read gives, as the page lists them."""
        trail = AuditTrail(self.store.reads, STUDY, lambda site: True)
        shown = trail.page(AuditFilter(**filters))  # type: ignore[arg-type]
        return [f"{row.position}:{row.entry}:{row.field}" for row in shown.rows]


@pytest.fixture(scope="module", params=["sqlite"])
def trial(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Trial]:
    """One trial per backend, shared by the module's tests (they read; what they record, copies
    in the disclosure log, each test counts from what it finds). On SQLite, and on PostgreSQL
    for the tests marked ``ON_BOTH_BACKENDS`` (tests/web/conftest.py says why)."""
    backend = str(request.param)
    with store_on(backend, tmp_path_factory.mktemp(f"audit-pages-{backend}"), request) as store:
        yield Trial(store)


ON_BOTH_BACKENDS = pytest.mark.parametrize("trial", BACKENDS, indirect=True)

ROW = re.compile(r'<tr data-row="(\d+:\d+:[^"]*)">')


def listed(answer: TestResponse) -> list[str]:
    """The rows a page lists, as position:entry:field."""
    return [unescape(found) for found in ROW.findall(text(answer))]


def csv_rows(answer: TestResponse, first: str = "position") -> list[str]:
    """The rows of a CSV download, as ``first``:entry:field."""
    table = csv.DictReader(io.StringIO(answer.get_data().decode("utf-8-sig")))
    return [f"{row[first]}:{row['entry']}:{row['field']}" for row in table]


def selected(value: str, page: str) -> bool:
    """Whether the page's form has ``value`` chosen in a list."""
    return (
        re.search(f'<option selected value="{value}">|<option value="{value}" selected>', page)
        is not None
    )


def without_token(answer: TestResponse) -> str:
    """The page without its forms' CSRF tokens (signed with the time, so they differ by the
    second)."""
    return re.sub(r'name="csrf_token" value="[^"]*"', "", text(answer))


def errors_of(answer: TestResponse) -> list[tuple[str, str]]:
    """The error summary's links: (the field's id, the message)."""
    found = re.findall(r'<li><a href="#([^"]+)">([^<]*)</a></li>', text(answer))
    return [(field, unescape(message)) for field, message in found]


# -- what the page lists ---------------------------------------------------------------------------


@ON_BOTH_BACKENDS
def test_the_audit_page_lists_every_row_an_auditor_reads_in_trail_order_a_page_at_a_time(
    trial: Trial,
) -> None:
    answer = trial.browser(trial.auditor).get("/audit")

    assert answer.status_code == 200, text(answer)
    assert listed(answer) == trial.rows()[:50]
    every = len(trial.rows())
    assert f"Rows 1 to 50 of {every}" in text(answer)
    assert "Who" in text(answer) and "Field: old → new" in text(answer)


@ON_BOTH_BACKENDS
@pytest.mark.parametrize(
    ("query", "filters"),
    [
        ("subject=RP-02", {"subject": "RP-02"}),
        ("site=SP", {"site": "SP"}),
        ("user=mon1", {"user_id": "mon1"}),
        ("kind=BloodCountRecorded", {"kind": "BloodCountRecorded"}),
        ("action=corrected", {"action": "corrected"}),
        ("action=voided&subject=RP-01", {"action": "voided", "subject": "RP-01"}),
        (
            "user=coord1&kind=TransfusionGiven&size=25",
            {"user_id": "coord1", "kind": "TransfusionGiven"},
        ),
    ],
)
def test_each_filter_of_the_url_keeps_the_rows_the_application_keeps(
    trial: Trial, query: str, filters: dict[str, str]
) -> None:
    answer = trial.browser(trial.auditor).get(f"/audit?{query}&size=500")

    assert answer.status_code == 200, text(answer)
    assert listed(answer) == trial.rows(**filters)
    assert listed(answer)


@ON_BOTH_BACKENDS
def test_the_dates_keep_the_rows_recorded_on_those_days_at_the_site(trial: Trial) -> None:
    today = datetime.now(ZoneInfo("America/Sao_Paulo")).date()
    browser = trial.browser(trial.auditor)

    kept = browser.get(f"/audit?from={today}&to={today}&size=500")
    none = browser.get(f"/audit?from={today + timedelta(days=1)}")

    assert listed(kept) == trial.rows()[:500]
    assert (none.status_code, listed(none)) == (200, [])
    assert "No row matches these filters" in text(none)


def test_the_filters_stay_in_the_form_and_in_every_link_of_the_page(trial: Trial) -> None:
    answer = trial.browser(trial.auditor).get("/audit?user=coord1&kind=BloodCountRecorded&size=25")
    page = text(answer)

    assert 'value="coord1"' in page
    assert selected("BloodCountRecorded", page)
    for link in re.findall(r'href="(/audit\?[^"]+)"', page):
        assert "user=coord1" in unescape(link) and "kind=BloodCountRecorded" in unescape(link)


# -- pages -----------------------------------------------------------------------------------------


def test_next_and_previous_walk_the_pages_with_nothing_lost_or_repeated(trial: Trial) -> None:
    browser = trial.browser(trial.auditor)
    seen: list[str] = []
    url: str | None = "/audit?size=25"
    pages = 0
    while url is not None:
        answer = browser.get(url)
        assert answer.status_code == 200, text(answer)
        seen += listed(answer)
        pages += 1
        following = re.search(r'rel="next" href="([^"]+)"', text(answer))
        url = unescape(following.group(1)) if following else None

    assert seen == trial.rows()
    assert pages == -(-len(seen) // 25)
    last = browser.get(f"/audit?size=25&page={pages}")
    assert 'rel="next"' not in text(last) and 'rel="prev"' in text(last)
    assert 'rel="prev"' not in text(browser.get("/audit?size=25&page=1"))


def test_the_last_page_holds_what_is_left(trial: Trial) -> None:
    every = trial.rows()
    pages = -(-len(every) // 25)

    answer = trial.browser(trial.auditor).get(f"/audit?size=25&page={pages}")

    assert listed(answer) == every[(pages - 1) * 25 :]
    assert f"Rows {(pages - 1) * 25 + 1} to {len(every)} of {len(every)}" in text(answer)


# -- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=2011-02-30", "from", "Enter a real date as YYYY-MM-DD, such as 2011-03-14"),
        ("to=14/03/2011", "to", "Enter a real date as YYYY-MM-DD, such as 2011-03-14"),
        ("from=2011-03-02&to=2011-03-01", "to", "The last date is before the first"),
        ("kind=BloodCount", "kind", "Choose one of the kinds of record listed"),
        ("action=deleted", "action", "Choose one of the actions listed"),
        ("site=XX", "site", "Choose one of the sites listed"),
        ("size=7", "size", "Choose one of the numbers of rows listed"),
        ("page=0", "page", "Enter a page number from 1"),
        ("page=-1", "page", "Enter a page number, such as 2"),
        ("page=99999999999999999999999999", "page", "Enter the number of a page that exists"),
        ("page=" + "9" * 5000, "page", "Enter the number of a page that exists"),
        ("page=0000", "page", "Enter a page number from 1"),
        ("page=10000", "page", "Enter the number of a page that exists"),
        ("page=all", "page", "Every row is offered as CSV only: choose a page number"),
        ("page=all&format=pdf", "page", "Every row is offered as CSV only: choose a page number"),
        ("subject=RP%0001", "subject", "Enter a subject code such as RP-01"),
        ("subject=RP-99", "subject", "No subject of that code among those you read"),
        (
            "user=Coord%001",
            "user",
            BAD_USER,
        ),
        ("user=" + "a" * 65, "user", "A user id is at most 64 characters"),
        ("kind=%00", "kind", "Choose one of the kinds of record listed"),
    ],
)
def test_bad_input_answers_the_page_again_400_with_the_error_linked_to_its_field(
    trial: Trial, query: str, field: str, message: str
) -> None:
    browser = trial.browser(trial.auditor)
    before = trial.store.disclosures.of(trial.auditor.user_id)

    answer = browser.get(f"/audit?{query}")

    assert answer.status_code == 400, text(answer)
    assert answer.mimetype == "text/html"
    assert (field, message) in errors_of(answer)
    assert f'id="{field}"' in text(answer)
    assert "\x00" not in text(answer)
    assert listed(answer) == []
    assert trial.store.disclosures.of(trial.auditor.user_id) == before


def test_what_was_typed_is_kept_on_an_error(trial: Trial) -> None:
    answer = trial.browser(trial.auditor).get("/audit?user=coord1&from=2011-02-30&kind=Screened")

    assert answer.status_code == 400
    assert 'value="2011-02-30"' in text(answer)
    assert 'value="coord1"' in text(answer)
    assert re.search(
        r'<option selected value="Screened">|<option value="Screened" selected>', text(answer)
    )


def test_a_nul_typed_is_kept_shown_as_a_replacement_character(trial: Trial) -> None:
    answer = trial.browser(trial.auditor).get("/audit?subject=RP%0001")

    assert 'value="RP\ufffd01"' in text(answer)


def test_an_unknown_format_is_said_at_the_top_of_the_page(trial: Trial) -> None:
    answer = trial.browser(trial.auditor).get("/audit?format=xlsx")

    assert answer.status_code == 400
    assert "Ask for the page, its CSV or its PDF" in text(answer)


# -- downloads -------------------------------------------------------------------------------------


def test_the_csv_of_a_page_holds_exactly_the_rows_it_lists_in_the_same_order(trial: Trial) -> None:
    browser = trial.browser(trial.auditor)
    query = "/audit?user=coord1&size=25&page=2"

    page = browser.get(query)
    table = browser.get(f"{query}&format=csv")

    assert table.status_code == 200
    assert table.mimetype == "text/csv"
    assert "attachment" in table.headers["Content-Disposition"]
    assert csv_rows(table) == listed(page)
    assert len(listed(page)) == 25


def test_the_csv_of_every_row_holds_every_page_in_order(trial: Trial) -> None:
    answer = trial.browser(trial.auditor).get("/audit?kind=BloodCountRecorded&page=all&format=csv")

    assert csv_rows(answer) == trial.rows(kind="BloodCountRecorded")


@ON_BOTH_BACKENDS
def test_the_pages_csv_is_the_consoles_report_byte_for_byte_for_the_same_subject_and_dates(
    trial: Trial, tmp_path: Path
) -> None:
    today = datetime.now(ZoneInfo("America/Sao_Paulo")).date()
    out = tmp_path / "audit.csv"
    done = report(
        trial.store, "audit-trail", "--subject", SUBJECT, "--from", str(today), "--to",
        str(today), "--format", "csv", "--out", str(out),
    )  # fmt: skip
    assert done.exit_code == 0, done.output

    answer = trial.browser(trial.auditor).get(
        f"/subjects/{SUBJECT}/audit?from={today}&to={today}&page=all&format=csv"
    )

    assert answer.get_data() == out.read_bytes()


def test_the_pages_pdf_draws_the_consoles_subject_pages_for_the_same_subject_and_dates(
    trial: Trial, tmp_path: Path
) -> None:
    today = datetime.now(ZoneInfo("America/Sao_Paulo")).date()
    out = tmp_path / "audit.pdf"
    done = report(
        trial.store, "audit-trail", "--subject", SUBJECT, "--from", str(today), "--to",
        str(today), "--format", "pdf", "--out", str(out),
    )  # fmt: skip
    assert done.exit_code == 0, done.output

    answer = trial.browser(trial.auditor).get(
        f"/subjects/{SUBJECT}/audit?from={today}&to={today}&size=500&format=pdf"
    )

    # Past the cover (the page's states its selection, the subject) the pages are the same but
    # for the footer, which names the moment each file was drawn.
    console_cover, *console_pages = page_texts(out.read_bytes())
    page_cover, *page_pages = page_texts(answer.get_data())
    assert without_footer(page_pages) == without_footer(console_pages)
    assert "subject RP-01" in page_cover and "subject RP-01" not in console_cover


def without_footer(pages: list[str]) -> list[list[str]]:
    return [[line for line in page.splitlines() if "audit trail ·" not in line] for page in pages]


def test_the_pdf_of_a_page_is_the_signed_audit_trail_of_its_rows_stating_the_filters(
    trial: Trial,
) -> None:
    browser = trial.browser(trial.auditor)
    query = "/audit?action=corrected"

    page = browser.get(query)
    pdf = browser.get(f"{query}&format=pdf")

    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.get_data().startswith(b"%PDF")
    cover, *pages = page_texts(pdf.get_data())
    assert "action corrected" in cover
    assert "1: 0 created, 1 corrected, 0 voided, 0 signed" in cover
    assert len(listed(page)) == 1
    words = " ".join(" ".join(pages).split())
    assert "transcription error: the lab report reads 7.1" in words


# -- who sees what ---------------------------------------------------------------------------------


@ON_BOTH_BACKENDS
def test_a_person_of_another_site_sees_none_of_its_rows(trial: Trial) -> None:
    browser = trial.browser(trial.outsider)

    answer = browser.get("/audit?size=500")

    assert answer.status_code == 200
    assert {row.split(":")[0] for row in listed(answer)} == {
        row.split(":")[0] for row in trial.rows(site="SP")
    }
    assert "/subjects/RP-" not in text(answer) and "/subjects/SP-01/audit" in text(answer)
    assert browser.get("/audit?site=RP").status_code == 400
    assert browser.get(f"/audit?subject={SUBJECT}").status_code == 400
    assert "RP-01" not in csv_rows(browser.get("/audit?page=all&format=csv"))


def test_another_sites_subject_page_answers_as_a_subject_never_screened(trial: Trial) -> None:
    browser = trial.browser(trial.outsider)

    other = browser.get(f"/subjects/{SUBJECT}/audit")
    missing = browser.get("/subjects/SP-99/audit")

    assert other.status_code == missing.status_code == 404
    assert without_token(other).replace(SUBJECT, "X") == without_token(missing).replace(
        "SP-99", "X"
    )


def test_a_monitor_reads_their_sites_trail(trial: Trial) -> None:
    answer = trial.browser(trial.monitor).get("/audit?size=500&page=all&format=csv")

    assert {
        row["subject"] for row in csv.DictReader(io.StringIO(answer.get_data().decode("utf-8-sig")))
    } == {"RP-01", "RP-02"}


def test_an_administrator_who_reads_no_clinical_data_is_refused_403(trial: Trial) -> None:
    answer = trial.browser(trial.administrator).get("/audit")

    assert answer.status_code == 403
    assert "administrator does not read clinical data" in text(answer)


def test_a_person_not_signed_in_is_sent_to_sign_in_and_back(trial: Trial) -> None:
    answer = Browser(trial.store).get("/audit?user=coord1")

    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login?next=")


# -- the disclosure log ----------------------------------------------------------------------------


@ON_BOTH_BACKENDS
@pytest.mark.parametrize(
    ("url", "scope"),
    [
        ("/audit?size=25", STUDY),
        ("/audit?site=RP&format=csv", f"{STUDY} site RP"),
        ("/audit?subject=RP-02&format=pdf", f"{STUDY}/RP-02"),
        (f"/subjects/{SUBJECT}/audit?action=voided", f"{STUDY}/{SUBJECT}"),
    ],
)
def test_each_page_and_download_is_recorded_with_its_scope_and_the_hash_of_its_bytes(
    trial: Trial, url: str, scope: str
) -> None:
    browser = trial.browser(trial.auditor)
    before = len(trial.store.disclosures.of(trial.auditor.user_id))

    answer = browser.get(url)

    assert answer.status_code == 200, text(answer)
    copies = trial.store.disclosures.of(trial.auditor.user_id)
    assert len(copies) == before + 1
    copy = copies[-1]
    assert (copy.what, str(copy.scope), copy.channel) == ("audit trail", scope, "web")
    assert copy.sha256 == hashlib.sha256(answer.get_data()).hexdigest()


def test_a_site_persons_trail_is_a_copy_of_their_site(trial: Trial) -> None:
    trial.browser(trial.outsider).get("/audit")

    copy = trial.store.disclosures.of(trial.outsider.user_id)[-1]
    assert str(copy.scope) == f"{STUDY} site SP"


def test_the_csv_download_is_the_renderers_csv_of_the_rows(trial: Trial) -> None:
    trail = AuditTrail(trial.store.reads, STUDY, lambda site: True)
    expected = audit_trail_csv(trail.page(AuditFilter(site="SP")).rows)

    answer = trial.browser(trial.auditor).get("/audit?site=SP&format=csv")

    assert answer.get_data() == expected


def test_the_page_speaks_portuguese_to_a_browser_that_asks_for_it(trial: Trial) -> None:
    browser = Browser(trial.store)
    browser.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "pt-BR"
    browser.sign_in(trial.monitor.user_id, trial.monitor.password)

    page = text(browser.get("/audit?from=2011-02-30"))

    assert "Trilha de auditoria" in page
    assert "Digite uma data real como AAAA-MM-DD, por exemplo 2011-03-14" in page
    assert "Qualquer centro" in page
