"""The subject pages over the demonstration store: what they show equals what the API serves for
the same subject, a person of another site sees nothing of site RP's subjects, and every bad
request is an HTML page saying what was wrong (never a fault, never JSON)."""

from __future__ import annotations

import hashlib
import html
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from domain.account import Role
from domain.disclosure import CHART, REPLAY, SUBJECT_LIST, SUBJECT_PAGE
from infrastructure.bootstrap import Store, open_store
from tests.browser.harness import DemoPerson, give_demo_passwords
from tests.conftest import (
    STUDY,
    Person,
    consent,
    haemoglobin,
    make_settings,
    open_person,
    screening,
)
from tests.web.conftest import Browser, text

SUBJECT = "RP-02"
"""Its week-6 count was entered with a haemoglobin of 76 g/dL and corrected to 7.6; it died."""
API = f"/v1/studies/{STUDY}/subjects"


@dataclass
class Demo:
    """The demonstration store, its staff with passwords, an auditor and a coordinator of SP."""

    store: Store
    people: dict[str, DemoPerson]
    auditor: Person
    outsider: Person

    def browser(self, user_id: str, password: str) -> Browser:
        browser = Browser(self.store)
        answer = browser.sign_in(user_id, password)
        assert answer.status_code == 302, text(answer)
        return browser

    def monitor(self) -> Browser:
        monitor = self.people["monitor"]
        return self.browser(monitor.user_id, monitor.password)

    def api(self, user_id: str, password: str, path: str) -> Any:
        person = Person(user_id, "", None, password)  # type: ignore[arg-type]
        browser = Browser(self.store)
        answer = browser.client.get(path, headers=browser.site.auth(person))
        assert answer.status_code == 200, text(answer)
        return answer.get_json()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, demo_template: Path) -> Iterator[Demo]:
    home = tmp_path_factory.mktemp("subject-pages")
    shutil.copytree(demo_template, home, dirs_exist_ok=True)
    people = give_demo_passwords(home)
    store = open_store(make_settings(home))
    try:
        auditor = open_person(
            store, "audit1", printed_name="Lia Prado", role=Role.AUDITOR, sites=()
        )
        outsider = open_person(store, "coord-sp", printed_name="Rui Lima", sites=("SP",))
        yield Demo(store, people, auditor, outsider)
    finally:
        store.close()


def rows_of(page: str) -> list[str]:
    """The subject codes the list's rows link to, in order."""
    return re.findall(r'<th scope="row"><a href="/subjects/([^"]+)">', page)


# -- the list -------------------------------------------------------------------------------------


def test_the_list_shows_each_subject_of_the_site_with_the_apis_status(demo: Demo) -> None:
    monitor = demo.people["monitor"]

    page = text(demo.monitor().get("/subjects"))

    codes = rows_of(page)
    assert codes == [f"RP-{n:02d}" for n in range(1, 10)]
    for code in codes:
        summary = demo.api(monitor.user_id, monitor.password, f"{API}/{code}")
        row = page.split(f'href="/subjects/{code}"', 1)[1].split("</tr>", 1)[0]
        # status, lock state and the infusions, as the API's summary has them
        assert f"<td>{summary['status'].replace('_', ' ')}</td>" in row
        assert f'<td class="numeric">{len(summary["msc_infusions"])}</td>' in row
        assert summary["lock_state"] in row


def test_a_person_of_another_site_sees_no_subject_of_rp(demo: Demo) -> None:
    outsider = demo.browser(demo.outsider.user_id, demo.outsider.password)

    page = text(outsider.get("/subjects"))

    assert rows_of(page) == []
    assert "No subject of your sites has been screened." in page
    assert "RP-0" not in page


@pytest.mark.parametrize(
    "path",
    [
        f"/subjects/{SUBJECT}",
        f"/subjects/{SUBJECT}/blood-counts.svg",
        f"/subjects/{SUBJECT}/troughs.svg",
        f"/subjects/{SUBJECT}/as-of?position=1400",
        f"/subjects/{SUBJECT}/as-of?from=1300&to=1400",
    ],
)
def test_another_sites_subject_answers_as_the_api_does_not_found(demo: Demo, path: str) -> None:
    outsider = demo.browser(demo.outsider.user_id, demo.outsider.password)
    api = Browser(demo.store)

    shown = outsider.get(path)
    answered = api.client.get(f"{API}/{SUBJECT}", headers=api.site.auth(demo.outsider))

    assert (shown.status_code, answered.status_code) == (404, 404)
    assert shown.mimetype == "text/html"
    assert f"NCT01297972/{SUBJECT} has not been screened" in text(shown)
    assert "7.6" not in text(shown)


def test_an_administrator_reads_no_clinical_data_on_a_page_as_on_the_api(demo: Demo) -> None:
    admin = demo.people["administrator"]

    shown = demo.browser(admin.user_id, admin.password).get(f"/subjects/{SUBJECT}")

    assert shown.status_code == 403
    assert shown.mimetype == "text/html"
    assert "does not read clinical data" in html.unescape(text(shown))


# -- who took a copy ------------------------------------------------------------------------------

COPIES = [
    # (a page, what the disclosure log calls its copy, its scope), for an auditor
    ("/subjects", SUBJECT_LIST, STUDY),
    (f"/subjects/{SUBJECT}", SUBJECT_PAGE, f"{STUDY}/{SUBJECT}"),
    (f"/subjects/{SUBJECT}/blood-counts.svg", CHART, f"{STUDY}/{SUBJECT}"),
    (f"/subjects/{SUBJECT}/troughs.svg", CHART, f"{STUDY}/{SUBJECT}"),
    (f"/subjects/{SUBJECT}/as-of?position=1400", REPLAY, f"{STUDY}/{SUBJECT}"),
    (f"/subjects/{SUBJECT}/as-of?from=1300&to=1400", REPLAY, f"{STUDY}/{SUBJECT}"),
]


@pytest.mark.parametrize(("page", "what", "scope"), COPIES)
def test_each_subject_page_is_a_copy_recorded_in_the_disclosure_log(
    demo: Demo, page: str, what: str, scope: str
) -> None:
    reader = open_person(demo.store, f"audit-{uuid.uuid4().hex[:8]}", role=Role.AUDITOR, sites=())
    browser = demo.browser(reader.user_id, reader.password)
    before = demo.store.app.checkpoints.head()

    answer = browser.get(page)

    assert answer.status_code == 200, text(answer)
    (copy,) = demo.store.disclosures.of(reader.user_id)
    assert (copy.what, str(copy.scope), copy.channel) == (what, scope, "web")
    assert copy.sha256 == hashlib.sha256(answer.get_data()).hexdigest()
    assert (copy.log_size, copy.log_root) == (before.size, before.root.hex())


def test_a_head_request_is_sent_no_page_and_records_no_copy(demo: Demo) -> None:
    reader = open_person(demo.store, f"audit-{uuid.uuid4().hex[:8]}", role=Role.AUDITOR, sites=())
    browser = demo.browser(reader.user_id, reader.password)

    answer = browser.client.head(f"/subjects/{SUBJECT}")

    assert answer.status_code == 200 and answer.get_data() == b""
    assert demo.store.disclosures.of(reader.user_id) == []


def test_a_site_persons_list_is_a_copy_of_their_sites_subjects(demo: Demo) -> None:
    reader = open_person(demo.store, f"coord-{uuid.uuid4().hex[:8]}", sites=("RP",))

    demo.browser(reader.user_id, reader.password).get("/subjects")

    (copy,) = demo.store.disclosures.of(reader.user_id)
    assert (copy.what, str(copy.scope)) == (SUBJECT_LIST, f"{STUDY} site RP")


# -- a subject ------------------------------------------------------------------------------------


def test_the_subject_page_shows_every_record_of_the_apis_history(demo: Demo) -> None:
    monitor = demo.people["monitor"]
    history = demo.api(monitor.user_id, monitor.password, f"{API}/{SUBJECT}/history")

    page = text(demo.monitor().get(f"/subjects/{SUBJECT}"))

    entries = [
        int(n) for n in re.findall(r'<li class="timeline__record[^"]*" id="entry-(\d+)"', page)
    ]
    assert entries == [entry["version"] for entry in history]
    assert f"Timeline: {len(history)} records" in page


def test_the_correction_reads_old_to_new_with_its_reason_and_its_signer(demo: Demo) -> None:
    page = html.unescape(text(demo.monitor().get(f"/subjects/{SUBJECT}")))

    change = page.split("Corrected in", 1)[1].split("</div>", 1)[0]
    assert "<del>haemoglobin=76 g/dL" in change
    assert "<ins>haemoglobin=7.6 g/dL" in change
    assert "Reason: " in change and "(synthetic)" in change


def test_a_signature_the_correction_changed_no_longer_covers_the_value(demo: Demo) -> None:
    monitor = demo.people["monitor"]
    audit = demo.api(monitor.user_id, monitor.password, f"{API}/{SUBJECT}/audit")
    stale = sum(
        not signature["covers_current_value"]
        for record in audit["records"]
        for signature in record["signatures"]
    )
    current = sum(
        signature["covers_current_value"]
        for record in audit["records"]
        for signature in record["signatures"]
    )

    page = text(demo.monitor().get(f"/subjects/{SUBJECT}"))

    assert page.count("no longer covers the value: changed since") == stale
    assert page.count("covers the current value") == current


def test_the_derived_facts_are_the_apis_with_their_records(demo: Demo) -> None:
    monitor = demo.people["monitor"]
    summary = demo.api(monitor.user_id, monitor.password, f"{API}/{SUBJECT}")

    page = text(demo.monitor().get(f"/subjects/{SUBJECT}"))

    assert f'<p class="severity"><strong>{summary["baseline_severity"]["severity"]}' in page
    for response in summary["responses"]:
        row = page.split(f'data-month="{response["month"]}"', 1)[1].split("</tr>", 1)[0]
        criteria = {"none": "no response"}.get(response["criteria"], response["criteria"])
        assert f'<td class="response__criteria">{criteria}</td>' in row
        assert f'href="#entry-{response["count_entry"]}"' in row
        assert f'href="#entry-{response["investigator_entry"]}"' in row
    for event in summary["adverse_events"]:
        assert f'<th scope="row">{event["adverse_event"]}</th>' in page
        assert f'href="#entry-{event["entry"]}"' in page


def test_the_charts_are_svg_of_the_subjects_counts(demo: Demo) -> None:
    monitor = demo.monitor()

    counts = monitor.get(f"/subjects/{SUBJECT}/blood-counts.svg")
    troughs = monitor.get(f"/subjects/{SUBJECT}/troughs.svg")

    assert (counts.status_code, counts.mimetype) == (200, "image/svg+xml")
    assert (troughs.status_code, troughs.mimetype) == (200, "image/svg+xml")
    assert "NCT01297972 RP-02" in text(counts) and "alvo / target 150-250" in text(troughs)


def test_a_stranger_is_sent_to_sign_in_and_comes_back(demo: Demo) -> None:
    answer = Browser(demo.store).get(f"/subjects/{SUBJECT}")

    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/login?next=/subjects/{SUBJECT}"


# -- as of ----------------------------------------------------------------------------------------


def positions_of(demo: Demo) -> list[int]:
    monitor = demo.people["monitor"]
    history = demo.api(monitor.user_id, monitor.password, f"{API}/{SUBJECT}/history")
    return [entry["position"] for entry in history]


def test_as_of_its_latest_event_the_subject_is_as_it_stands(demo: Demo) -> None:
    positions = positions_of(demo)

    page = text(demo.monitor().get(f"/subjects/{SUBJECT}/as-of?position={positions[-1]}"))

    assert f"Timeline then: {len(positions)} records" in page
    assert 'rel="prev"' in page and 'rel="next"' not in page


def test_a_point_between_two_events_is_the_earlier_and_links_its_neighbours(demo: Demo) -> None:
    monitor = demo.people["monitor"]
    positions = positions_of(demo)
    asked = positions[40] + 1 if positions[41] > positions[40] + 1 else positions[40]

    page = text(demo.monitor().get(f"/subjects/{SUBJECT}/as-of?position={asked}"))
    api = demo.api(monitor.user_id, monitor.password, f"{API}/{SUBJECT}?position={asked}")

    assert api["version"] == 41
    assert "Timeline then: 41 records" in page
    assert f'rel="prev" href="/subjects/{SUBJECT}/as-of?position={positions[39]}"' in page
    assert f'rel="next" href="/subjects/{SUBJECT}/as-of?position={positions[41]}"' in page
    assert f"<dd>{api['status'].replace('_', ' ')}</dd>" in page


def test_as_of_a_day_is_the_apis_state_as_of_that_day(demo: Demo) -> None:
    monitor = demo.people["monitor"]
    today = datetime.now(UTC).date().isoformat()

    page = text(demo.monitor().get(f"/subjects/{SUBJECT}/as-of?time={today}"))
    api = demo.api(monitor.user_id, monitor.password, f"{API}/{SUBJECT}?as_of={today}")

    assert f"Timeline then: {api['version']} records" in page


def test_the_step_shows_what_the_event_changed(demo: Demo) -> None:
    positions = positions_of(demo)
    # The data manager's lock is the last event: open -> ... -> locked.
    page = text(demo.monitor().get(f"/subjects/{SUBJECT}/as-of?position={positions[-1]}"))

    step = page.split('id="step"', 1)[1].split("</table>", 1)[0]
    assert "<code>lock_state</code>" in step
    assert "<del>frozen</del>" in step and "<ins>locked</ins>" in step


def test_the_comparison_of_two_points_names_each_field_that_differs(demo: Demo) -> None:
    positions = positions_of(demo)
    url = f"/subjects/{SUBJECT}/as-of?from={positions[0]}&to={positions[5]}"

    page = html.unescape(text(demo.monitor().get(url)))

    assert "What changed in RP-02" in page
    assert "<code>status</code>" in page and "<del>screened</del>" in page
    assert "<code>version</code>" in page and "<ins>6</ins>" in page


@pytest.mark.parametrize(
    ("query", "status", "says"),
    [
        ("", 400, "Ask for a log position"),
        ("?position=0", 400, "A log position is a whole number from 1"),
        ("?position=-3", 400, "A log position is a whole number from 1"),
        ("?position=12abc", 400, "A log position is a whole number from 1"),
        ("?position=%C2%B2", 400, "A log position is a whole number from 1"),
        ("?position=99999999999999999999999", 400, "A log position is a whole number from 1"),
        # more digits than Python reads into an int (4,300): a ValueError, once a fault
        ("?position=" + "9" * 5000, 400, "A log position is a whole number from 1"),
        ("?from=1&to=" + "9" * 5000, 400, "A log position is a whole number from 1"),
        ("?position=90000000", 404, "position 90000000 is past its end"),
        ("?position=3", 404, "was first recorded at log position"),
        ("?position=3&time=2011-01-01", 400, "not both"),
        ("?time=yesterday", 400, 'give "YYYY-MM-DDTHH:MM:SSZ" (UTC) or "YYYY-MM-DD"'),
        ("?time=2011-02-30", 400, "not a real date and time"),
        ("?time=2999-01-01", 400, "is later than now"),
        ("?time=2011-01-01", 404, "was first recorded at"),
        ("?from=1400", 400, "to is missing"),
        ("?to=1400", 400, "from is missing"),
        ("?from=1400&to=nonsense", 400, 'give "YYYY-MM-DDTHH:MM:SSZ"'),
    ],
)
def test_a_bad_point_is_a_page_saying_what_was_wrong(
    demo: Demo, query: str, status: int, says: str
) -> None:
    monitor = demo.monitor()
    before = demo.store.app.checkpoints.head()

    answer = monitor.get(f"/subjects/{SUBJECT}/as-of{query}")

    assert answer.status_code == status, text(answer)
    assert answer.mimetype == "text/html"
    assert says in html.unescape(text(answer))
    assert demo.store.app.checkpoints.head() == before  # nothing handed out, nothing recorded


@pytest.mark.parametrize("code", ["RP-99", "RP-02%0A", "RP-02%00", "..", "x" * 300])
def test_an_unknown_or_odd_subject_code_is_not_found(demo: Demo, code: str) -> None:
    answer = demo.monitor().get(f"/subjects/{code}")

    assert answer.status_code == 404
    assert answer.mimetype == "text/html"


def test_a_voided_record_is_struck_through_with_the_voids_reason(demo: Demo) -> None:
    # Site RP's records are locked in the demonstration: a subject of site SP, a count voided.
    writer = open_person(demo.store, f"coord-{uuid.uuid4().hex[:8]}", sites=("SP",))
    code = f"SP-{uuid.uuid4().hex[:4]}"
    writer.record(demo.store, code, "Screened", screening(site="SP"))
    writer.record(demo.store, code, "ConsentObtained", consent())
    writer.record(demo.store, code, "BloodCountRecorded", haemoglobin("6.9"))
    reason = "entered for the wrong subject"
    voided = {"entry": 3, "entry_kind": "BloodCountRecorded", "reason": reason}
    writer.record(demo.store, code, "EntryVoided", voided)
    browser = demo.browser(writer.user_id, writer.password)

    page = html.unescape(text(browser.get(f"/subjects/{code}")))

    before, count = page.split('id="entry-3"', 1)
    count = count.split("</li>\n", 1)[0]
    assert "timeline__record--voided" in before.rsplit("<li", 1)[1]
    assert "<dd><del>haemoglobin=6.9 g/dL</del></dd>" in count
    assert "Voided in " in count and f"Reason: {reason}" in count
    assert 'href="#entry-4"' in count
    assert page.count("<del>") == count.count("<del>")  # nothing else struck through
