"""What the pages keep per subject version (api.web.page_cache, the folded subjects and audit
rows of infrastructure.application.read_cache) never outlives that version and never crosses
people: a new event shows at once on every page that keeps something, a person of another site
sees nothing another's visit left behind, the links a timeline offers are the reader's own, the
language is the reader's, and every copy is still recorded, with the hash of its exact bytes."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import date

import pytest

from domain.account import Role
from domain.disclosure import CHART, REPLAY, SUBJECT_PAGE
from domain.signed import stream_id
from infrastructure.application.audit_trail import AuditTrail
from infrastructure.bootstrap import Store, open_store
from infrastructure.store.positions import log_positions
from projections.audit_trail import AuditFilter, Period
from tests.conftest import STUDY, Person, haemoglobin, open_person, screening
from tests.reports.conftest import CORRECTED_ENTRY, RECORDS, count
from tests.web.conftest import Browser, text

SUBJECT = "RP-01"
RAISE_LINK = "Raise a query about this record"


class Trial:
    """RP-01 (a followed subject with blood counts, a correction and a void) at RP and SP-01 at
    SP; a coordinator of each site, RP's monitor, and an auditor, each with a browser."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.coordinator = open_person(store, "coord1")
        for kind, data in RECORDS:
            self.coordinator.record(store, SUBJECT, kind, data)
        self.outsider = open_person(store, "coord2", printed_name="Rui Lima", sites=("SP",))
        self.outsider.record(store, "SP-01", "Screened", screening(site="SP"))
        self.monitor = open_person(store, "mon1", printed_name="Iara Reis", role=Role.MONITOR)
        self.auditor = open_person(
            store, "audit1", printed_name="Lia Prado", role=Role.AUDITOR, sites=()
        )
        self.browsers: dict[str, Browser] = {}

    def browser(self, person: Person) -> Browser:
        if person.user_id not in self.browsers:
            browser = Browser(self.store)
            assert browser.sign_in(person.user_id, person.password).status_code == 302
            self.browsers[person.user_id] = browser
        return self.browsers[person.user_id]

    def page(self, person: Person, path: str) -> str:
        answer = self.browser(person).get(path)
        assert answer.status_code == 200, (path, answer.status_code, text(answer)[:300])
        return text(answer)

    def raise_query(self, question: str) -> None:
        self.monitor.record(
            self.store,
            SUBJECT,
            "QueryRaised",
            {
                "entry": CORRECTED_ENTRY,
                "entry_kind": "BloodCountRecorded",
                "item": "results",
                "question": question,
            },
        )


@pytest.fixture
def trial(sqlite_store: Store) -> Iterator[Trial]:
    yield Trial(sqlite_store)


def timeline_of(page: str) -> str:
    """The page's timeline: its list of records."""
    return page.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]


def rows_total(page: str) -> int:
    """How many rows the audit trail page says its filters keep."""
    found = re.search(r"Rows \d+ to \d+ of (\d+)", page)
    assert found is not None
    return int(found.group(1))


def records_counted(page: str) -> int:
    found = re.search(r"Timeline(?: then)?: (\d+) records", page)
    assert found is not None
    return int(found.group(1))


def test_a_new_event_shows_at_once_on_each_page_that_keeps_what_it_computed(trial: Trial) -> None:
    auditor = trial.auditor
    chart_path = f"/subjects/{SUBJECT}/blood-counts.svg"
    before = {
        path: trial.page(auditor, path)
        for path in (f"/subjects/{SUBJECT}", chart_path, "/audit", "/queries")
    }
    before["trail"] = trial.page(auditor, f"/audit?subject={SUBJECT}&kind=BloodCountRecorded")
    # Asked again with nothing recorded: the same timeline and chart, kept or made again (the
    # page around it is the request's own: its forms' CSRF tokens differ).
    again = trial.page(auditor, f"/subjects/{SUBJECT}")
    assert timeline_of(again) == timeline_of(before[f"/subjects/{SUBJECT}"])
    assert trial.page(auditor, chart_path) == before[chart_path]

    receipt = trial.coordinator.record(
        trial.store, SUBJECT, "BloodCountRecorded", haemoglobin("9.3", collected_on="2011-04-20")
    )
    trial.raise_query("Was 9.3 measured twice?")

    timeline = trial.page(auditor, f"/subjects/{SUBJECT}")
    assert records_counted(timeline) == records_counted(before[f"/subjects/{SUBJECT}"]) + 2
    assert "9.3" in timeline and "Was 9.3 measured twice?" in timeline
    assert "9.3" not in before[f"/subjects/{SUBJECT}"]
    # The chart is drawn again for the new count: a point more on the haemoglobin panel.
    assert trial.page(auditor, chart_path) != before[chart_path]
    # The trail of the subject's blood counts has the new count's rows (its last page).
    trail = f"/audit?subject={SUBJECT}&kind=BloodCountRecorded"
    assert rows_total(trial.page(auditor, trail)) > rows_total(before["trail"])
    assert f'data-row="{receipt["position"]}:' not in before["trail"]
    assert "Was 9.3 measured twice?" in trial.page(auditor, "/queries")


def test_a_person_of_another_site_sees_nothing_a_visit_of_rp_left_behind(trial: Trial) -> None:
    # RP's coordinator fills every cache with RP-01 first.
    for path in (f"/subjects/{SUBJECT}", f"/subjects/{SUBJECT}/blood-counts.svg", "/audit"):
        trial.page(trial.coordinator, path)
    trial.page(trial.coordinator, "/subjects")
    trial.raise_query("Is 7.1 on the lab report?")
    assert "Is 7.1 on the lab report?" in trial.page(trial.coordinator, "/queries")

    outsider = trial.browser(trial.outsider)
    for path in (
        f"/subjects/{SUBJECT}",
        f"/subjects/{SUBJECT}/blood-counts.svg",
        f"/subjects/{SUBJECT}/as-of?position=1",
    ):
        assert outsider.get(path).status_code == 404, path
    listed = trial.page(trial.outsider, "/subjects")
    audit = trial.page(trial.outsider, "/audit")
    queries = trial.page(trial.outsider, "/queries")
    assert "SP-01" in listed and "SP-01" in audit
    for page in (listed, audit, queries):  # (a form's hint names a code "such as RP-01")
        assert f"/subjects/{SUBJECT}" not in page and f">{SUBJECT}<" not in page
    assert "Is 7.1 on the lab report?" not in queries
    # And the other way round: what SP's coordinator left is not shown to RP's.
    assert "SP-01" not in trial.page(trial.coordinator, "/audit")
    assert "SP-01" not in trial.page(trial.coordinator, "/subjects")


def record_of(timeline: str, entry: int) -> str:
    """The row of ``entry`` in a timeline."""
    return timeline.split(f'id="entry-{entry}"', 1)[1].split('<li class="timeline__record', 1)[0]


def test_a_correction_changes_the_corrected_row_at_once_and_every_row_is_as_made_afresh(
    trial: Trial,
) -> None:
    path = f"/subjects/{SUBJECT}"
    before = timeline_of(trial.page(trial.auditor, path))
    trial.coordinator.record(
        trial.store,
        SUBJECT,
        "EntryCorrected",
        {
            "entry": CORRECTED_ENTRY,
            "entry_kind": "BloodCountRecorded",
            "changes": {
                "results": {
                    "old": count("2011-03-14", "7.1", "0.28", "11")["results"],
                    "new": count("2011-03-14", "7.2", "0.28", "11")["results"],
                }
            },
            "reason": "the laboratory ran the sample again",
        },
    )

    after = timeline_of(trial.page(trial.auditor, path))

    assert "the laboratory ran the sample again" in record_of(after, CORRECTED_ENTRY)
    assert "the laboratory ran the sample again" not in record_of(before, CORRECTED_ENTRY)
    # A worker that keeps nothing yet (another app on the same store) renders the same rows.
    fresh = open_store(trial.store.settings)
    try:
        browser = Browser(fresh)
        auditor = trial.auditor
        assert browser.sign_in(auditor.user_id, auditor.password).status_code == 302
        assert timeline_of(text(browser.get(path))) == after
    finally:
        fresh.close()


def test_the_links_a_kept_timeline_offers_are_the_readers_own(trial: Trial) -> None:
    # The monitor may raise queries at RP and is offered a link on each record; the auditor,
    # who reads the same subject at the same version afterwards, may not and is offered none.
    assert RAISE_LINK in trial.page(trial.monitor, f"/subjects/{SUBJECT}")
    assert RAISE_LINK not in trial.page(trial.auditor, f"/subjects/{SUBJECT}")
    assert RAISE_LINK in trial.page(trial.monitor, f"/subjects/{SUBJECT}")


def test_a_kept_timeline_is_in_each_readers_language(trial: Trial) -> None:
    # Two auditors: the same subject, version and links, only the language differs.
    english = trial.page(trial.auditor, f"/subjects/{SUBJECT}")
    reader = open_person(
        trial.store, "audit2", printed_name="Ana Reis", role=Role.AUDITOR, sites=()
    )
    chosen = trial.browser(reader).submit(
        "/account", "/language", {"language": "pt-BR", "next": "/account"}
    )
    assert chosen.status_code == 302

    portuguese = trial.page(reader, f"/subjects/{SUBJECT}")

    assert "Entry 1" in english and "Registro 1" not in english
    assert "Registro 1" in portuguese and "Entry 1" not in portuguese
    assert "Entry 1" in trial.page(trial.auditor, f"/subjects/{SUBJECT}")


def test_every_copy_is_recorded_with_the_hash_of_its_bytes_kept_or_not(trial: Trial) -> None:
    auditor = trial.auditor
    positions = log_positions(trial.store.app.recorder, stream_id(f"{STUDY}/{SUBJECT}"))
    paths = {
        f"/subjects/{SUBJECT}": SUBJECT_PAGE,
        f"/subjects/{SUBJECT}/blood-counts.svg": CHART,
        f"/subjects/{SUBJECT}/as-of?position={positions[10]}": REPLAY,
    }
    sent = []
    for _ in range(2):
        for path in paths:
            answer = trial.browser(auditor).get(path)
            assert answer.status_code == 200
            sent.append((paths[path], hashlib.sha256(answer.get_data()).hexdigest()))

    recorded = [
        (copy.what, copy.sha256)
        for copy in trial.store.disclosures.of(auditor.user_id)
        if copy.scope.subject == SUBJECT
    ]
    assert recorded == sent


def test_the_as_of_page_keeps_each_point_and_moves_on_with_the_log(trial: Trial) -> None:
    positions = log_positions(trial.store.app.recorder, stream_id(f"{STUDY}/{SUBJECT}"))
    latest = max(positions)
    then = f"/subjects/{SUBJECT}/as-of?position={positions[latest]}"
    first = trial.page(trial.auditor, then)
    assert records_counted(first) == latest
    assert 'rel="next"' not in first

    receipt = trial.coordinator.record(
        trial.store, SUBJECT, "BloodCountRecorded", haemoglobin("9.3", collected_on="2011-04-20")
    )

    again = trial.page(trial.auditor, then)
    # The subject as it stood then is what it was; the page now offers the event after it.
    assert records_counted(again) == latest and "9.3" not in again
    assert 'rel="next"' in again
    now = trial.page(trial.auditor, f"/subjects/{SUBJECT}/as-of?position={receipt['position']}")
    assert records_counted(now) == latest + 1 and "9.3" in now
    # One step earlier shows what its event changed, from the summary one event before it.
    earlier = trial.page(trial.auditor, f"/subjects/{SUBJECT}/as-of?position={positions[2]}")
    assert records_counted(earlier) == 2 and "What this event changed" in earlier


def test_kept_audit_rows_are_those_of_the_period_asked(trial: Trial) -> None:
    trail = AuditTrail(trial.store.reads, STUDY, lambda site: True)
    every = trail.page(AuditFilter())
    # Recorded today, every row: none was recorded by the end of 2000.
    none_then = trail.page(AuditFilter(period=Period(None, date(2000, 12, 31))))
    assert every.total > 0 and none_then.total == 0
    assert trail.page(AuditFilter()).rows == every.rows
