"""A site's record forms through Flask's test client (api/web/record_forms.py): the form of each
record kind generated from its declaration, what was typed checked with the API's own schema and
the rules that need no signature, the body offered, signed in Python exactly as sign-form.js
signs it with the person's real Ed25519 key, and recorded by the same service as
``POST /v1/events``; every refusal shows the form again with what was typed, and records
nothing.

Real stores (SQLite; one PostgreSQL case), real keys, Argon2id passwords; only the access
control's clock is the test's.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from api.web.record_fields import form_class, typed_data
from domain.account import Role
from domain.disclosure import RECORD_FORM
from domain.subject import SITE_RECORDS, Subject
from infrastructure.bootstrap import Store
from tests.access.conftest import Clock, make_person, with_access
from tests.conftest import (
    STUDY,
    Person,
    consent,
    eligibility,
    infusion,
    make_settings,
    new_store,
    screening,
)
from tests.e2e.conftest import SUBJECT, Site
from tests.e2e.test_records_api import ENROLLED, Writer, adverse_event
from tests.e2e.test_records_api import KINDS as API_CASES
from tests.web.conftest import Browser, text
from tests.web.signed_forms import SigningPage

OTHER_SUBJECT = "SP-201"
BLOOD_COUNT = f"/subjects/{SUBJECT}/record/BloodCountRecorded"
TYPED_BLOOD_COUNT = {
    "collected_on": "2011-02-21",
    "results-haemoglobin": "7,4",
    "results-platelets": "18",
    "reticulocyte_method": "automated",
}
"""A blood count as a coordinator types it: a decimal comma, two analytes of five."""


class Trial:
    """RP-101 at RP (screened and consented) and SP-201 at SP, each site's coordinator, RP's
    monitor, an auditor and a sponsor data manager."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.site = Site(store)
        self.coordinator = make_person(store, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
        self.sp_coordinator = make_person(
            store, "coord2", role=Role.SITE_COORDINATOR, sites=("SP",)
        )
        self.monitor = make_person(store, "mon1", role=Role.MONITOR, sites=("RP",))
        self.auditor = make_person(store, "aud1", role=Role.AUDITOR)
        self.data_manager = make_person(store, "dm1", role=Role.SPONSOR_DATA_MANAGER)
        for subject, coordinator in (
            (SUBJECT, self.coordinator),
            (OTHER_SUBJECT, self.sp_coordinator),
        ):
            self.submit(coordinator, "Screened", screening(site=subject[:2]), subject)
            self.submit(coordinator, "ConsentObtained", consent(), subject)

    def submit(
        self, person: Person, kind: str, data: dict[str, Any], subject: str = SUBJECT
    ) -> None:
        answer = self.site.submit(person, kind, data, subject=subject)
        assert answer.status_code == 201, answer.get_data(as_text=True)

    def subject(self, code: str = SUBJECT) -> Subject | None:
        return self.store.app.find_subject(f"{STUDY}/{code}")

    def version(self, code: str = SUBJECT) -> int:
        found = self.subject(code)
        return 0 if found is None else found.version


def trial_on(store: Store) -> Trial:
    return Trial(with_access(store, Clock()))


@pytest.fixture
def trial(sqlite_store: Store) -> Trial:
    return trial_on(sqlite_store)


def signed_in(trial: Trial, person: Person) -> Browser:
    browser = Browser(trial.store)
    answer = browser.sign_in(person.user_id, person.password)
    assert answer.status_code == 302, text(answer)
    return browser


def typed_in(browser: Browser, page: str, typed: dict[str, str]) -> TestResponse:
    """The form on ``page`` filled in as ``typed`` and sent (its first step: checked, not
    signed)."""
    return browser.submit(page, page, typed)


def signed(
    browser: Browser, page: str, answer: TestResponse, person: Person, **changes: Any
) -> TestResponse:
    """The signing page ``answer`` signed as sign-form.js signs it (nothing typed into the
    body: the server made its data), and sent with what the page carries."""
    offered = SigningPage(answer)
    carried = hidden_fields(offered.page)
    form = offered.signed(person, {}, **changes)
    return browser.client.post(page, data={**form, **carried})


def hidden_fields(page: str) -> dict[str, list[str]]:
    """The hidden inputs of the signing form (what was typed, the stage), as it sends them."""
    form = page[page.index("data-signing-form") :]
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form):
        if name not in ("body", "signature"):
            fields.setdefault(name, []).append(html.unescape(value))
    return fields


def field_value(page: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', page)
    assert found is not None, f"no {name} input"
    return html.unescape(found.group(1))


def error_of(page: str, name: str) -> str:
    found = re.search(
        rf'<p class="error-message" id="{re.escape(name)}-error">(.*?)</p>', page, re.S
    )
    assert found is not None, f"no error beside {name}"
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip().removeprefix("Error: ")


def test_every_site_record_has_a_form_of_one_input_or_group_per_declared_item() -> None:
    for kind, declared in SITE_RECORDS.items():
        form = form_class(kind, STUDY)
        assert [item.declared.name for item in form.items] == [i.name for i in declared.items()]
    assert "QueryRaised" not in SITE_RECORDS and "EntryCorrected" not in SITE_RECORDS
    assert "SubjectLocked" not in SITE_RECORDS and "CasebookSigned" not in SITE_RECORDS


def test_the_form_labels_each_input_with_its_hint_and_unit_from_the_declaration(
    trial: Trial,
) -> None:
    page = text(
        signed_in(trial, trial.coordinator).get(f"/subjects/{SUBJECT}/record/MscInfusionGiven")
    )

    for item in SITE_RECORDS["MscInfusionGiven"].form():
        assert item.description in html.unescape(page), item.name
    assert '<label class="label" for="dose">Dose (10^6 cells/kg)</label>' in page
    assert 'aria-describedby="dose-hint"' in page
    assert (
        '<label class="label" for="vital_signs_before-heart_rate">Heart rate (/min)</label>' in page
    )
    assert "Reaction description (optional)" in page
    assert re.search(r'<textarea [^>]*id="reaction_description" name="reaction_description"', page)
    assert "YYYY-MM-DD HH:MM at the site, or YYYY-MM-DDTHH:MM:SSZ in UTC" in page
    for name in re.findall(r'<input[^>]*type="text"[^>]*id="([^"]+)"', page):
        assert f'for="{name}"' in page, f"{name} has no label"


def test_a_coordinator_records_a_blood_count_signed_with_their_key(trial: Trial) -> None:
    browser = signed_in(trial, trial.coordinator)
    before = trial.version()

    checked = typed_in(browser, BLOOD_COUNT, TYPED_BLOOD_COUNT)
    offered = SigningPage(checked)
    recorded = signed(browser, BLOOD_COUNT, checked, trial.coordinator)

    assert offered.body["data"] == {
        "collected_on": "2011-02-21",
        "results": {
            "haemoglobin": {"value": "7.4", "unit": "g/dL"},
            "platelets": {"value": "18", "unit": "10^9/L"},
        },
        "reticulocyte_method": "automated",
    }
    assert offered.body["version"] == before + 1 and offered.body["meaning"] == "authorship"
    assert recorded.status_code == 302, text(recorded)
    assert recorded.headers["Location"] == f"/subjects/{SUBJECT}#entry-{before + 1}"
    subject = trial.subject()
    assert subject is not None and subject.version == before + 1
    entry = subject.entries[before + 1]
    assert entry.kind == "BloodCountRecorded"
    assert str(entry["results"]["haemoglobin"].value) == "7.4"
    shown = text(browser.get(recorded.headers["Location"]))
    assert "BloodCountRecorded of RP-101 recorded at log position" in shown


def test_a_schema_error_is_shown_beside_its_field_with_what_was_typed_and_nothing_is_recorded(
    trial: Trial,
) -> None:
    browser = signed_in(trial, trial.coordinator)
    before = trial.version()

    answer = typed_in(
        browser,
        BLOOD_COUNT,
        {**TYPED_BLOOD_COUNT, "results-haemoglobin": "7.x", "collected_on": "2011-02-30"},
    )
    page = text(answer)

    assert answer.status_code == 200
    assert "There is a problem" in page and 'href="#results-haemoglobin"' in page
    assert "decimal" in error_of(page, "results-haemoglobin")
    assert error_of(page, "collected_on") == "not a real date"
    assert field_value(page, "results-haemoglobin") == "7.x"
    assert field_value(page, "results-platelets") == "18"
    assert (
        'value="automated" checked' in page
        or 'checked id="reticulocyte_method-0"' in page
        or re.search(r'checked[^>]*value="automated"|value="automated"[^>]*checked', page)
    )
    assert "signing-body" not in page
    assert trial.version() == before


def test_a_required_item_left_empty_says_to_fill_it_in(trial: Trial) -> None:
    page = text(
        typed_in(signed_in(trial, trial.coordinator), BLOOD_COUNT, {"collected_on": "2011-02-21"})
    )

    assert error_of(page, "reticulocyte_method").startswith("Fill this in")


@pytest.mark.parametrize(
    ("typed", "field", "said"),
    [
        ({"reason": "bad\x00byte"}, "reason", "control character U+0000"),
        ({"reason": "x" * 600}, "reason", "Length must be between 1 and 500"),
        ({"units": "9" * 5000}, "units", "Not a valid integer"),
        ({"units": "99999999999999999999"}, "units", "Not a valid integer"),
    ],
    ids=["NUL", "too long", "5000 digits", "20 digits"],
)
def test_odd_bytes_and_huge_numbers_are_refused_beside_their_field(
    trial: Trial, typed: dict[str, str], field: str, said: str
) -> None:
    kind = "CyclosporineStopped" if field == "reason" else "TransfusionGiven"
    page = f"/subjects/{SUBJECT}/record/{kind}"
    base = (
        {"stopped_on": "2011-03-01"}
        if kind == "CyclosporineStopped"
        else {"given_on": "2011-03-01", "product": "red_cells"}
    )
    before = trial.version()

    shown = text(typed_in(signed_in(trial, trial.coordinator), page, {**base, **typed}))

    assert said in error_of(shown, field)
    assert trial.version() == before
    if "\x00" in typed.get(field, ""):
        assert field_value(shown, field) == "bad\ufffdbyte"


def test_a_rule_of_the_protocol_refuses_before_anything_is_signed(trial: Trial) -> None:
    trial.submit(trial.coordinator, "EligibilityAssessed", eligibility(IN1=False))
    before = trial.version()

    page = text(
        typed_in(
            signed_in(trial, trial.coordinator),
            f"/subjects/{SUBJECT}/record/Enrolled",
            {"enrolled_on": "2011-02-21"},
        )
    )

    assert "inclusion IN1 not met" in page and "signing-body" not in page
    assert field_value(page, "enrolled_on") == "2011-02-21"
    assert trial.version() == before


def test_a_refusal_when_recording_shows_the_form_again_with_what_was_typed(trial: Trial) -> None:
    browser = signed_in(trial, trial.coordinator)
    checked = typed_in(browser, BLOOD_COUNT, TYPED_BLOOD_COUNT)
    # Meanwhile another record takes the version the body was offered for.
    trial.submit(
        trial.coordinator,
        "BloodCountRecorded",
        {
            "collected_on": "2011-02-22",
            "results": {"platelets": {"value": "20", "unit": "10^9/L"}},
            "reticulocyte_method": "automated",
        },
    )
    before = trial.version()

    answer = signed(browser, BLOOD_COUNT, checked, trial.coordinator)
    page = text(answer)

    assert answer.status_code == 409 or answer.status_code == 200
    assert "version" in page
    assert field_value(page, "results-haemoglobin") == "7,4"
    assert trial.version() == before


@pytest.mark.parametrize(
    "changes",
    [
        {
            "kind": "TransfusionGiven",
            "data": {"given_on": "2011-03-01", "product": "red_cells", "units": 2},
        },
        {"subject": OTHER_SUBJECT},
        {
            "data": {
                "collected_on": "2011-02-21",
                "results": {"haemoglobin": {"value": "9.9", "unit": "g/dL"}},
                "reticulocyte_method": "automated",
            }
        },
    ],
    ids=["another kind", "another subject", "other data"],
)
def test_a_body_other_than_the_one_offered_is_refused(
    trial: Trial, changes: dict[str, Any]
) -> None:
    browser = signed_in(trial, trial.coordinator)
    checked = typed_in(browser, BLOOD_COUNT, TYPED_BLOOD_COUNT)
    before = trial.version()

    page = text(signed(browser, BLOOD_COUNT, checked, trial.coordinator, **changes))

    assert "The signed body is not a BloodCountRecorded of RP-101" in page
    assert trial.version() == before


def test_a_form_sent_unsigned_or_without_its_token_records_nothing(trial: Trial) -> None:
    browser = signed_in(trial, trial.coordinator)
    before = trial.version()

    unsigned = browser.submit(BLOOD_COUNT, BLOOD_COUNT, {**TYPED_BLOOD_COUNT, "stage": "sign"})
    no_token = browser.client.post(BLOOD_COUNT, data={**TYPED_BLOOD_COUNT, "stage": "sign"})

    assert "Nothing was signed" in text(unsigned)
    assert no_token.status_code == 400
    assert trial.version() == before


def test_a_frozen_subject_takes_no_new_record(trial: Trial) -> None:
    trial.submit(trial.data_manager, "SubjectFrozen", {"reason": "cleaning before lock"})
    browser = signed_in(trial, trial.coordinator)
    before = trial.version()

    page = text(typed_in(browser, BLOOD_COUNT, TYPED_BLOOD_COUNT))

    assert "frozen" in page and "signing-body" not in page
    assert trial.version() == before
    assert 'id="record"' not in text(browser.get(f"/subjects/{SUBJECT}"))


def test_another_sites_subject_is_not_there_and_other_roles_are_refused(trial: Trial) -> None:
    other = f"/subjects/{OTHER_SUBJECT}/record/BloodCountRecorded"
    coordinator = signed_in(trial, trial.coordinator)

    assert coordinator.get(other).status_code == 404
    assert coordinator.submit(BLOOD_COUNT, other, TYPED_BLOOD_COUNT).status_code == 404
    for person in (trial.monitor, trial.auditor):
        assert signed_in(trial, person).get(BLOOD_COUNT).status_code == 403
    assert 'id="record"' not in text(signed_in(trial, trial.monitor).get(f"/subjects/{SUBJECT}"))


@pytest.mark.parametrize(
    "url",
    [
        f"/subjects/{SUBJECT}/record/QueryRaised",
        f"/subjects/{SUBJECT}/record/EntryCorrected",
        f"/subjects/{SUBJECT}/record/SubjectLocked",
        f"/subjects/{SUBJECT}/record/CasebookSigned",
        f"/subjects/{SUBJECT}/record/LabResultRecorded",
        "/subjects/RP-50%0A/record/BloodCountRecorded",
        "/subjects/RP-50%0A/record/Screened",
        "/subjects/RP%00/record/Screened",
    ],
)
def test_what_is_no_site_record_or_names_no_subject_is_not_found(trial: Trial, url: str) -> None:
    assert signed_in(trial, trial.coordinator).get(url).status_code == 404


def test_the_subject_page_offers_each_record_the_person_enters(trial: Trial) -> None:
    page = text(signed_in(trial, trial.coordinator).get(f"/subjects/{SUBJECT}"))

    for kind in SITE_RECORDS:
        assert (f'href="/subjects/{SUBJECT}/record/{kind}"' in page) == (kind != "Screened")


def test_a_new_subject_is_screened_from_its_code(trial: Trial) -> None:
    browser = signed_in(trial, trial.coordinator)
    assert 'href="/subjects/screen"' in text(browser.get("/subjects"))

    taken = browser.get(f"/subjects/screen?code={SUBJECT}")
    bad = browser.get("/subjects/screen?code=RP%2050")
    asked = browser.get("/subjects/screen?code=RP-102")
    page = asked.headers["Location"]
    checked = typed_in(
        browser, page, {"site": "RP", "sex": "M", "age": "41", "screened_on": "2011-03-01"}
    )
    recorded = signed(browser, page, checked, trial.coordinator)

    assert "screened already" in text(taken)
    assert "Enter a subject code such as RP-01" in text(bad)
    assert page == "/subjects/RP-102/record/Screened"
    assert recorded.headers["Location"] == "/subjects/RP-102#entry-1"
    assert trial.version("RP-102") == 1


def test_a_code_of_another_sites_subject_or_another_site_is_refused_at_screening(
    trial: Trial,
) -> None:
    browser = signed_in(trial, trial.coordinator)
    before = trial.version(OTHER_SUBJECT)
    typed = {"sex": "M", "age": "41", "screened_on": "2011-03-01"}

    taken = text(
        typed_in(browser, f"/subjects/{OTHER_SUBJECT}/record/Screened", {**typed, "site": "RP"})
    )
    elsewhere = text(typed_in(browser, "/subjects/SP-202/record/Screened", {**typed, "site": "SP"}))

    assert "already screened" in taken
    assert "SP" in elsewhere and "signing-body" not in elsewhere
    assert trial.version(OTHER_SUBJECT) == before and trial.subject("SP-202") is None


def test_each_form_and_signing_page_shown_is_a_copy_recorded(trial: Trial) -> None:
    browser = signed_in(trial, trial.coordinator)
    browser.get(BLOOD_COUNT)
    typed_in(browser, BLOOD_COUNT, TYPED_BLOOD_COUNT)

    copies = [d for d in trial.store.disclosures.of("coord1") if d.what == RECORD_FORM]

    # The form read three times (the page, the page the browser sends the form from, the
    # signing page after the check), each recorded.
    assert len(copies) == 3 and all(d.channel == "web" for d in copies)


def test_the_change_button_takes_what_was_typed_back_to_the_form(trial: Trial) -> None:
    browser = signed_in(trial, trial.coordinator)
    checked = typed_in(browser, BLOOD_COUNT, TYPED_BLOOD_COUNT)
    carried = {k: v for k, v in hidden_fields(text(checked)).items() if k != "stage"}

    back = text(
        browser.client.post(
            BLOOD_COUNT,
            data={**carried, "stage": "change", "csrf_token": SigningPage(checked).csrf_token},
        )
    )

    assert field_value(back, "results-haemoglobin") == "7,4" and "signing-body" not in back


@pytest.fixture
def postgres_trial(postgres_store: Store) -> Iterator[Trial]:
    yield trial_on(postgres_store)


def test_a_record_is_signed_and_recorded_on_postgresql(postgres_trial: Trial) -> None:
    trial = postgres_trial
    browser = signed_in(trial, trial.coordinator)
    before = trial.version()

    recorded = signed(
        browser, BLOOD_COUNT, typed_in(browser, BLOOD_COUNT, TYPED_BLOOD_COUNT), trial.coordinator
    )

    assert recorded.status_code == 302, text(recorded)
    assert trial.version() == before + 1


# -- every kind a site enters, through its form ---------------------------------------------------


@pytest.fixture(scope="module")
def every_kind(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Person, Browser]]:
    """One store for every kind's case (each on a subject of its own): a coordinator of RP,
    signed in on the pages and holding a token for the API."""
    store = new_store(make_settings(Path(tmp_path_factory.mktemp("record-forms"))))
    try:
        person = make_person(store, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
        browser = Browser(store)
        assert browser.sign_in(person.user_id, person.password).status_code == 302
        yield Site(store), person, browser
    finally:
        store.close()


def as_typed(value: Any) -> str:
    """A value of ``data`` as a person types it into its input."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return str(value["value"])
    return str(value)


def typed_for(kind: str, data: dict[str, Any]) -> dict[str, str]:
    """What a person types into ``kind``'s form for the record ``data``: the inverse of the
    form's reading, input by input as the form is generated."""
    typed: dict[str, str] = {}
    for item in form_class(kind, STUDY).items:
        value = data.get(item.declared.name)
        name = item.declared.name
        if value is None:
            continue
        if item.group == "choices":
            typed.update({f"{name}-{code}": "y" for code in value})
        elif item.group:
            typed.update({f"{name}-{key}": as_typed(v) for key, v in value.items()})
        else:
            typed[name] = as_typed(value)
    return typed


SITE_CASES = [case for case in API_CASES if case[0] in SITE_RECORDS]


def test_the_cases_cover_every_kind_a_site_enters() -> None:
    assert [kind for kind, _before, _data in SITE_CASES] == list(SITE_RECORDS)


@pytest.mark.parametrize(("kind", "before", "data"), SITE_CASES, ids=[c[0] for c in SITE_CASES])
def test_each_kind_typed_into_its_form_is_signed_with_the_data_the_api_takes(
    every_kind: tuple[Site, Person, Browser],
    kind: str,
    before: list[tuple[str, dict[str, Any]]],
    data: dict[str, Any],
) -> None:
    site, person, browser = every_kind
    writer = Writer(site, person, site.auth(person))
    if before:
        writer.steps(before)
    page = f"/subjects/{writer.subject}/record/{kind}"

    checked = typed_in(browser, page, typed_for(kind, data))
    recorded = signed(browser, page, checked, person)

    assert recorded.status_code == 302, text(recorded)
    entry = writer.history()[-1]
    assert (entry["kind"], entry["version"]) == (kind, len(before) + 1)
    assert json.loads(entry["signed_body"])["data"] == data


def test_an_instant_with_no_date_at_the_site_is_refused_on_the_form(
    every_kind: tuple[Site, Person, Browser],
) -> None:
    """0001-01-01T00:00:00Z is a valid instant, yet in year 0 at São Paulo: the page answered
    500 (the subject's rules took its date at the site); it is refused as the API refuses it."""
    site, person, browser = every_kind
    writer = Writer(site, person, site.auth(person))
    writer.steps(ENROLLED)
    page = f"/subjects/{writer.subject}/record/MscInfusionGiven"
    typed = typed_for("MscInfusionGiven", infusion(1, given_at="0001-01-01T00:00:00Z"))

    answer = typed_in(browser, page, typed)

    assert answer.status_code == 200
    assert "has no date in the site&#39;s time zone" in text(answer)
    assert field_value(text(answer), "given_at") == "0001-01-01T00:00:00Z"
    assert "signing-body" not in text(answer)
    assert len(writer.history()) == len(ENROLLED)


DEVIATION = f"/subjects/{SUBJECT}/record/ProtocolDeviationRecorded"


def deviation(category: str, description: str) -> dict[str, str]:
    """A minor protocol deviation as a coordinator types it into its form."""
    return {
        "occurred_on": "2011-02-20",
        "category": category,
        "description": description,
        "major": "false",
    }


def test_a_text_of_several_lines_is_signed_with_its_line_breaks_as_typed(trial: Trial) -> None:
    browser = signed_in(trial, trial.coordinator)
    page = DEVIATION
    typed = deviation("schedule", "Visit moved.\r\nThe subject travelled.")

    checked = typed_in(browser, page, typed)
    recorded = signed(browser, page, checked, trial.coordinator)

    assert (
        SigningPage(checked).body["data"]["description"] == "Visit moved.\nThe subject travelled."
    )
    assert recorded.status_code == 302, text(recorded)


def test_the_form_speaks_the_persons_language(trial: Trial) -> None:
    browser = signed_in(trial, trial.coordinator)
    browser.submit("/account", "/language", {"language": "pt-BR", "next": "/account"})

    page = text(browser.get(BLOOD_COUNT))

    assert '<html lang="pt-BR">' in page
    assert "Coletado em" in page and "Hemoglobina (g/dL)" in page and "Verificar o registro" in page


def test_a_portuguese_page_words_the_criteria_and_codes_and_signs_the_codes(trial: Trial) -> None:
    browser = signed_in(trial, trial.coordinator)
    browser.submit("/account", "/language", {"language": "pt-BR", "next": "/account"})

    criteria = text(browser.get(f"/subjects/{SUBJECT}/record/EligibilityAssessed"))
    report = text(browser.get(f"/subjects/{SUBJECT}/record/AdverseEventReported"))

    assert "IN1: Diagnóstico de anemia aplástica adquirida" in criteria
    assert "Diagnosis of acquired aplastic anemia" not in criteria
    # Radios, a list of more than six codes, checkboxes: each code in words, its value the code.
    assert re.search(r'value="not_recovered"[^>]*>\s*<label[^>]*>não recuperado<', report)
    assert '<option value="febrile_neutropenia">neutropenia febril</option>' in report
    assert re.search(r'for="seriousness-hospitalisation">hospitalização<', report)
    assert '<option value="">Escolha um</option>' in report


def test_an_english_page_shows_the_codes_as_they_are(trial: Trial) -> None:
    browser = signed_in(trial, trial.coordinator)

    report = text(browser.get(f"/subjects/{SUBJECT}/record/AdverseEventReported"))

    assert '<option value="febrile_neutropenia">febrile_neutropenia</option>' in report
    assert re.search(r'for="seriousness-hospitalisation">hospitalisation<', report)


def test_the_record_to_sign_says_its_codes_in_portuguese_and_the_body_keeps_them(
    trial: Trial,
) -> None:
    browser = signed_in(trial, trial.coordinator)
    browser.submit("/account", "/language", {"language": "pt-BR", "next": "/account"})
    page = DEVIATION
    typed = deviation("safety_reporting", "The SAE was notified a day late.")

    checked = typed_in(browser, page, typed)

    shown = text(checked)
    body = SigningPage(checked).body
    assert body["data"]["category"] == "safety_reporting"
    assert "notificação de segurança" in shown


def test_no_item_takes_a_name_the_form_itself_uses() -> None:
    for kind in SITE_RECORDS:
        names = {i.name for item in form_class(kind, STUDY).items for i in item.inputs}
        assert not names & {"csrf_token", "body", "signature", "stage", "data", "errors", "kind"}


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("2011-03-10 10:00", "2011-03-10T13:00:00Z"),  # Sao Paulo, UTC-3 in March 2011
        ("2011-01-10 10:00", "2011-01-10T12:00:00Z"),  # its summer time then, UTC-2
        ("2011-03-10T13:00:00Z", "2011-03-10T13:00:00Z"),  # in UTC, as the API takes it
    ],
)
def test_an_instant_typed_at_the_sites_clock_is_signed_in_utc(
    trial: Trial, typed: str, written: str
) -> None:
    with trial.site.app.test_request_context():
        form = form_class("MscInfusionGiven", STUDY)(
            formdata=MultiDict({"given_at": typed}), meta={"csrf": False}
        )
        assert typed_data(form)["given_at"] == written


def test_an_instant_that_is_no_real_time_at_the_site_is_refused_as_typed(trial: Trial) -> None:
    page = f"/subjects/{SUBJECT}/record/MscInfusionGiven"

    shown = text(
        typed_in(signed_in(trial, trial.coordinator), page, {"given_at": "2011-02-30 10:00"})
    )

    assert "an instant is UTC" in error_of(shown, "given_at")
    assert field_value(shown, "given_at") == "2011-02-30 10:00"


@pytest.mark.parametrize("typed", ["9999-12-31 23:00", "0001-01-01 00:00"])
def test_an_instant_at_the_sites_clock_outside_the_years_utc_holds_is_refused_as_typed(
    trial: Trial, typed: str
) -> None:
    """9999-12-31 23:00 at São Paulo is in the year 10000 in UTC: the page answered 500."""
    page = f"/subjects/{SUBJECT}/record/MscInfusionGiven"
    before = trial.version()

    shown = text(typed_in(signed_in(trial, trial.coordinator), page, {"given_at": typed}))

    assert "an instant is UTC" in error_of(shown, "given_at")
    assert field_value(shown, "given_at") == typed
    assert trial.version() == before


# -- an adverse event's follow-up: its seriousness criteria changed, a value cleared --------------

FOLLOW_UP = "AdverseEventFollowedUp"
RECOVERED = {"outcome": "recovered", "resolved_on": "2011-03-19"}


def followed_up(
    every_kind: tuple[Site, Person, Browser], report: dict[str, Any], typed: dict[str, str]
) -> tuple[Writer, str, TestResponse]:
    """A subject with ``report`` recorded over the API, and its follow-up typed into the form
    (the adverse event and the day filled in): the writer, the form's page and its answer."""
    site, person, browser = every_kind
    writer = Writer(site, person, site.auth(person))
    writer.steps([*ENROLLED, ("AdverseEventReported", report)])
    page = f"/subjects/{writer.subject}/record/{FOLLOW_UP}"
    given = {"adverse_event": "AE-01", "followed_up_on": "2011-03-20", **typed}
    return writer, page, typed_in(browser, page, given)


def ticked(page: str, name: str) -> bool:
    """Whether the box ``name`` is ticked on ``page`` (kept as the person ticked it)."""
    found = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page)
    assert found is not None, f"no {name} box"
    return " checked" in found.group(0)


def standing(writer: Writer, trial_store: Store) -> dict[str, Any]:
    subject = trial_store.app.find_subject(f"{STUDY}/{writer.subject}")
    assert subject is not None
    return subject.adverse_events()["AE-01"]


def signed_changes(writer: Writer) -> Any:
    return json.loads(writer.history()[-1]["signed_body"])["data"]["changes"]


def test_a_follow_up_makes_an_adverse_event_serious_by_the_criteria_ticked(
    every_kind: tuple[Site, Person, Browser],
) -> None:
    site, person, browser = every_kind
    typed = {
        "changes-serious": "true",
        "changes-seriousness": "y",
        "changes-seriousness-hospitalisation": "y",
        "changes-seriousness-life_threatening": "y",
    }
    writer, page, checked = followed_up(every_kind, adverse_event(), typed)
    assert "changes-seriousness-hospitalisation" in text(checked)

    recorded = signed(browser, page, checked, person)

    assert recorded.status_code == 302, text(recorded)
    assert signed_changes(writer) == {
        "serious": True,
        "seriousness": ["life_threatening", "hospitalisation"],
    }
    event = standing(writer, site.store)
    assert event["serious"] is True
    assert {c.value for c in event["seriousness"]} == {"life_threatening", "hospitalisation"}


def test_a_follow_up_empties_the_criteria_of_an_event_no_longer_serious(
    every_kind: tuple[Site, Person, Browser],
) -> None:
    site, person, browser = every_kind
    report = adverse_event(serious=True, seriousness=["hospitalisation"])
    # The box that changes the criteria ticked, no criterion: none.
    typed = {"changes-serious": "false", "changes-seriousness": "y"}
    writer, page, checked = followed_up(every_kind, report, typed)

    recorded = signed(browser, page, checked, person)

    assert recorded.status_code == 302, text(recorded)
    assert signed_changes(writer) == {"serious": False, "seriousness": []}
    assert list(standing(writer, site.store)["seriousness"]) == []


def test_a_follow_up_clears_the_day_an_adverse_event_ended_when_it_recurs(
    every_kind: tuple[Site, Person, Browser],
) -> None:
    site, person, browser = every_kind
    report = adverse_event(**RECOVERED)
    typed = {"changes-outcome": "not_recovered", "changes-resolved_on-clear": "y"}
    writer, page, checked = followed_up(every_kind, report, typed)

    recorded = signed(browser, page, checked, person)

    assert recorded.status_code == 302, text(recorded)
    assert signed_changes(writer) == {"outcome": "not_recovered", "resolved_on": None}
    assert standing(writer, site.store)["resolved_on"] is None


def test_criteria_ticked_without_the_change_box_change_nothing_and_are_refused_when_alone(
    every_kind: tuple[Site, Person, Browser],
) -> None:
    typed = {"changes-seriousness-hospitalisation": "y"}

    writer, _page, checked = followed_up(every_kind, adverse_event(), typed)

    shown = text(checked)
    assert checked.status_code == 200 and "error-summary" in shown
    # No change given: the follow-up's changes are missing, said at their first input.
    assert error_of(shown, "changes-grade") == "Fill this in: it is part of what you sign"
    assert "signing-body" not in shown
    assert ticked(shown, "changes-seriousness-hospitalisation")
    assert len(writer.history()) == len(ENROLLED) + 1


def test_a_follow_up_the_adverse_event_refuses_shows_the_form_with_the_boxes_kept(
    every_kind: tuple[Site, Person, Browser],
) -> None:
    # Criteria for an event that stays not serious; the end of an outcome that has ended
    # cleared: each refused by the adverse event's own rules, nothing recorded.
    criteria = {"changes-seriousness": "y", "changes-seriousness-hospitalisation": "y"}
    writer, _page, not_serious = followed_up(every_kind, adverse_event(), criteria)
    cleared = {"changes-resolved_on-clear": "y"}
    other, _other_page, ended = followed_up(every_kind, adverse_event(**RECOVERED), cleared)

    assert "given for a non-serious event" in text(not_serious)
    assert ticked(text(not_serious), "changes-seriousness")
    assert "gives the date it ended" in text(ended)
    assert ticked(text(ended), "changes-resolved_on-clear")
    assert len(writer.history()) == len(other.history()) == len(ENROLLED) + 1


def test_a_stale_or_altered_follow_up_records_nothing(
    every_kind: tuple[Site, Person, Browser],
) -> None:
    site, person, browser = every_kind
    typed = {"changes-outcome": "not_recovered", "changes-resolved_on-clear": "y"}
    writer, page, checked = followed_up(every_kind, adverse_event(**RECOVERED), typed)
    offered = SigningPage(checked).body["data"]

    kept = {**offered, "changes": {"outcome": "not_recovered"}}
    altered = signed(browser, page, checked, person, data=kept)
    writer.post(
        "ResponseAssessed", {"month": 6, "response": "partial", "assessed_on": "2011-08-20"}
    )
    stale = signed(browser, page, checked, person)

    assert altered.status_code == 200 and "error-summary" in text(altered)
    assert stale.status_code == 200 and "error-summary" in text(stale)
    assert [e["kind"] for e in writer.history()][-1] == "ResponseAssessed"
    assert standing(writer, site.store)["resolved_on"] is not None


def test_over_the_api_a_follow_up_clears_an_optional_field_and_never_a_required_one(
    every_kind: tuple[Site, Person, Browser],
) -> None:
    site, person, _browser = every_kind
    writer = Writer(site, person, site.auth(person))
    writer.steps([*ENROLLED, ("AdverseEventReported", adverse_event(**RECOVERED))])
    follow_up = {"adverse_event": "AE-01", "followed_up_on": "2011-03-20"}

    required = writer.post(FOLLOW_UP, {**follow_up, "changes": {"grade": None}})
    optional = writer.post(
        FOLLOW_UP, {**follow_up, "changes": {"outcome": "not_recovered", "resolved_on": None}}
    )

    assert required.status_code == 422
    assert "may not be empty" in required.get_data(as_text=True)
    assert optional.status_code == 201, optional.get_data(as_text=True)


def test_the_timeline_says_a_records_codes_in_the_pages_language(
    every_kind: tuple[Site, Person, Browser],
) -> None:
    site, person, browser = every_kind
    writer = Writer(site, person, site.auth(person))
    report = adverse_event(serious=True, seriousness=["hospitalisation", "life_threatening"])
    writer.steps([*ENROLLED, ("AdverseEventReported", report)])
    # The language is the person's own: another coordinator of RP reads in Portuguese.
    reader = make_person(site.store, "coord-pt", role=Role.SITE_COORDINATOR, sites=("RP",))
    portuguese = Browser(site.store)
    assert portuguese.sign_in(reader.user_id, reader.password).status_code == 302
    portuguese.submit("/account", "/language", {"language": "pt-BR", "next": "/account"})

    in_portuguese = text(portuguese.get(f"/subjects/{writer.subject}"))
    in_english = text(browser.get(f"/subjects/{writer.subject}"))

    assert "em recuperação" in in_portuguese and "hospitalização, risco de vida" in in_portuguese
    assert "recovering" not in in_portuguese
    assert "recovering" in in_english and "hospitalisation, life_threatening" in in_english
    # The term, typed by the site, is no code: shown as typed in either language.
    assert "Nausea" in in_portuguese
