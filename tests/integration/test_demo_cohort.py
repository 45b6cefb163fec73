"""The demonstration cohort: signed like a site's records, loaded once, and the publication's
results recomputed from its events alone (Cytotherapy 2015;17(12):1696-705)."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from statistics import median
from typing import Any

import pytest

from api.demonstration import closing, loading
from api.demonstration.plans import COORDINATOR, STUDY
from api.demonstration.records import cohort
from api.demonstration.staff import STAFF, signed_submission, staff_signatory
from domain.account import Account, Role
from domain.clinical import ClockStatus, ResponseCategory, Severity
from domain.delegation import Task
from domain.errors import RecordsLocked
from domain.subject import Subject, subject_stream
from domain.subject.casebook import casebook_signatures, current_casebook_signature
from domain.subject.locks import LockState, lock_state_of
from domain.subject.source_verification import verifiable, verifications_of
from domain.subject_facts import (
    DAYS_PER_MONTH_OF_FOLLOW_UP,
    baseline_severity,
    blood_counts,
    follow_up_days,
    notification_clocks,
    responses,
    transfusions,
    treatment_start,
)
from domain.vocabulary import AdverseEventCategory, AdverseEventOutcome, Milestone, Relatedness
from infrastructure.application.commands import RecordEvent
from infrastructure.bootstrap import Store
from infrastructure.packets.archive import sha256
from infrastructure.packets.verify import verify_packet
from infrastructure.views.study_reports import study_outcomes
from tests.access.conftest import make_person
from tests.cli_stores import person_at, sealtrail
from tests.conftest import make_settings, new_store
from tests.e2e.conftest import Site
from tests.shared_templates import DemoCohort, opened

CODES = [f"RP-{n:02d}" for n in range(1, 10)]
DELEGATIONS = 2
"""Site RP's principal investigator designated, and the coordinator's tasks delegated."""
EXPECTED = {code: records for code, records in cohort()}
VERIFIED_KINDS = {"EligibilityAssessed", "MscInfusionGiven"}
CASEBOOK_SIGNATURES = 2
"""Each subject's casebook signed at month 6 and at the end of study."""
FROZEN_AND_LOCKED = 2
REVIEW_AND_COPY = 1 + 3
"""The data manager's audit-trail review; the investigator's copy: the start of their
disclosure log, the copy handed out, and its receipt."""
CLOSING_STAFF_EVENTS = 5 + 4
"""The monitor's account (opened, role, site, training, key) and the data manager's (no site),
opened once the records are in; not counted among the events the load reports."""


def closing_events(code: str) -> int:
    """The events that close one subject: a verification of each eligibility assessment and
    infusion, its casebook signatures, its freeze and its lock."""
    verified = sum(record.kind in VERIFIED_KINDS for record in EXPECTED[code])
    return verified + CASEBOOK_SIGNATURES + FROZEN_AND_LOCKED


STUDY_START, PRIMARY_COMPLETION = date(2011, 2, 1), date(2013, 11, 30)


@dataclass(frozen=True)
class Loaded:
    """A store the cohort was loaded into, and how many events the load added."""

    store: Store
    added: int


@pytest.fixture(scope="module")
def loaded(
    tmp_path_factory: pytest.TempPathFactory, demo_cohort_template: DemoCohort
) -> Iterator[Loaded]:
    """One load of the whole cohort into a fresh SQLite store (the run's, made once), a copy of
    it shared by the module's tests."""
    with opened(demo_cohort_template, tmp_path_factory.mktemp("demo")) as store:
        yield Loaded(store, demo_cohort_template.added)


@pytest.fixture(scope="module")
def subjects(loaded: Loaded) -> dict[str, Subject]:
    """The cohort's subjects as the store rebuilds them from their events."""
    found = {}
    for code in CODES:
        subject = loaded.store.app.find_subject(subject_stream(STUDY, code))
        assert subject is not None, code
        found[code] = subject
    return found


def died_on(subject: Subject) -> date | None:
    death = subject.death
    return None if death is None else death["died_on"]


# -- loading ------------------------------------------------------------------------------------


def test_the_load_adds_every_record_of_the_cohort_and_a_second_load_adds_nothing(
    loaded: Loaded, subjects: dict[str, Subject]
) -> None:
    last_position = loaded.store.app.recorder.max_notification_id()

    again = loading.load(loaded.store)

    assert list(EXPECTED) == CODES
    records = sum(len(records) for records in EXPECTED.values())
    closed = sum(closing_events(code) for code in CODES) + REVIEW_AND_COPY
    assert loaded.added == records + DELEGATIONS + closed
    assert closed == 40 + 9 * 4 + 4  # 9 eligibility assessments and 31 infusions verified
    assert again == 0
    assert loaded.store.app.recorder.max_notification_id() == last_position
    for code, subject in subjects.items():
        assert subject.version == len(EXPECTED[code]) + closing_events(code)


def test_every_event_of_the_cohort_verifies(loaded: Loaded) -> None:
    report = loaded.store.verifier(workers=1).verify()

    assert report.findings == []
    assert report.events >= loaded.added


def test_an_interrupted_load_resumes_where_it_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two subjects are enough to stop inside one and resume it, and keep the test quick.
    two = {code: EXPECTED[code] for code in CODES[:2]}
    monkeypatch.setattr(loading, "cohort", lambda: iter(two.items()))
    store = new_store(make_settings(tmp_path))
    try:
        record_batch = store.records.record_batch
        calls = 0

        def interrupted_at_the_fourth_batch(*args: Any, **kwargs: Any) -> Any:
            nonlocal calls
            calls += 1
            if calls == 4:
                raise KeyboardInterrupt
            return record_batch(*args, **kwargs)

        monkeypatch.setattr(store.records, "record_batch", interrupted_at_the_fourth_batch)
        with pytest.raises(KeyboardInterrupt):
            loading.load(store)
        stored_first = store.app.recorder.max_notification_id() or 0
        first = store.app.find_subject(subject_stream(STUDY, CODES[0]))
        assert first is not None
        stopped_at = first.version

        added = loading.load(store)

        assert 0 < stopped_at < len(two[CODES[0]])
        closed = sum(closing_events(code) for code in two) + REVIEW_AND_COPY
        assert added == sum(len(records) for records in two.values()) - stopped_at + (
            DELEGATIONS + closed
        )
        for code, records in two.items():
            subject = store.app.find_subject(subject_stream(STUDY, code))
            assert subject is not None
            kinds = [subject.entries[v].kind for v in sorted(subject.entries)]
            assert kinds[: len(records)] == [r.kind for r in records]
            assert set(kinds[len(records) :]) == closing.CLOSING_KINDS
        assert store.app.recorder.max_notification_id() == (
            stored_first + added + CLOSING_STAFF_EVENTS
        )
        assert loading.load(store) == 0
        assert store.verifier(workers=1).verify().findings == []
    finally:
        store.close()


def test_site_rp_has_its_principal_investigator_who_delegated_the_coordinators_tasks(
    loaded: Loaded,
) -> None:
    investigator = loaded.store.app.account("demo.investigator")
    coordinator = loaded.store.app.account("demo.coordinator").delegation_at("RP")

    assert investigator.is_principal_investigator("RP", date(2011, 2, 14))
    assert coordinator is not None and coordinator.delegated_by == "demo.investigator"
    for task in (Task.DATA_ENTRY, Task.CONSENT, Task.AE_ASSESSMENT):
        assert coordinator.covers(task, date(2011, 2, 14))
    assert not coordinator.covers(Task.SIGNING, date(2011, 2, 14))


# -- site RP's data closed ----------------------------------------------------------------------


def test_the_monitor_verified_every_eligibility_assessment_and_infusion_as_it_stands(
    subjects: dict[str, Subject],
) -> None:
    verified = 0
    for code, subject in subjects.items():
        held = verifications_of(subject)
        to_verify = verifiable(subject, frozenset(VERIFIED_KINDS))
        assert to_verify and all(
            entry.version in held and held[entry.version].whole for entry in to_verify
        ), code
        verified += len(to_verify)

    assert verified == 9 + 31  # every subject's eligibility, every MSC infusion


def test_each_casebook_is_signed_at_month_6_and_at_the_end_of_study_by_the_investigator(
    subjects: dict[str, Subject],
) -> None:
    for code, subject in subjects.items():
        signatures = casebook_signatures(subject)
        assert [s.milestone for s in signatures] == [Milestone.MONTH_6, Milestone.END_OF_STUDY]
        assert {s.signer.user_id for s in signatures} == {"demo.investigator"}, code
        current = current_casebook_signature(subject)
        assert current is not None and current.milestone is Milestone.END_OF_STUDY, code


def test_rp_01_to_rp_09_are_frozen_then_locked_after_their_end_of_study(
    subjects: dict[str, Subject],
) -> None:
    for code, subject in subjects.items():
        assert lock_state_of(subject) is LockState.LOCKED, code
        (end,) = subject.live(Subject.EndOfStudyRecorded)
        frozen, locked = subject.live(Subject.SubjectFrozen, Subject.SubjectLocked)
        assert end.version < frozen.version < locked.version == subject.version, code


def test_a_record_on_a_locked_subject_is_refused_and_nothing_is_stored(
    loaded: Loaded, subjects: dict[str, Subject]
) -> None:
    last_position = loaded.store.app.recorder.max_notification_id()
    coordinator = staff_signatory(loaded.store, STAFF[COORDINATOR])
    subject = subjects["RP-02"]
    transfusion = {"given_on": "2011-06-01", "product": "platelets", "units": 1}
    submission = signed_submission(
        coordinator, "RP-02", subject.version + 1, "TransfusionGiven", transfusion
    )

    with pytest.raises(RecordsLocked, match="RP-02 is locked"):
        loaded.store.records.record(RecordEvent(submission, coordinator.user_id))

    assert loaded.store.app.recorder.max_notification_id() == last_position


def test_the_data_manager_reviewed_site_rps_audit_trail_once(loaded: Loaded) -> None:
    reviews = loaded.store.reads.audit_trail_reviews()

    (review,) = reviews
    assert (review.study, review.site, review.reviewed_from) == (STUDY, "RP", None)
    assert review.conclusion == closing.REVIEW_CONCLUDED
    signer = review.authorship.body()["signer"]["user_id"]
    assert signer == "demo.data_manager"


def test_the_investigator_received_site_rps_own_copy_which_verifies(loaded: Loaded) -> None:
    history = loaded.store.reads.account_history("demo.investigator")
    (receipt,) = [r.event for r in history if isinstance(r.event, Account.SiteCopyReceived)]
    (copy,) = loaded.store.disclosures.of("demo.investigator")
    kept = closing.site_copy_path(loaded.store).read_bytes()

    report = verify_packet(kept, redraw_documents=False)

    assert report.ok and report.site == "RP"
    assert (report.tree_size, report.root) == (receipt.tree_size, receipt.root)
    assert receipt.packet_sha256 == copy.sha256 == sha256(kept)
    assert (copy.scope.site, copy.what) == ("RP", "submission packet")


def test_a_site_copy_that_does_not_verify_is_neither_handed_out_nor_received(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from infrastructure.packets import build

    one = {code: EXPECTED[code] for code in CODES[:1]}
    monkeypatch.setattr(loading, "cohort", lambda: iter(one.items()))
    built = build.build_packet

    def with_one_byte_changed(*args: Any, **kwargs: Any) -> bytes:
        # The real copy, then what anyone handling it could do: a byte of it changed.
        data = bytearray(built(*args, **kwargs))
        data[len(data) // 2] ^= 1
        return bytes(data)

    monkeypatch.setattr(build, "build_packet", with_one_byte_changed)
    store = new_store(make_settings(tmp_path))
    try:
        with pytest.raises(closing.SiteCopyUnverified, match="site RP's copy does not verify"):
            loading.load(store)
        history = store.reads.account_history("demo.investigator")

        assert not any(isinstance(r.event, Account.SiteCopyReceived) for r in history)
        assert store.disclosures.of("demo.investigator") == []
        assert not closing.site_copy_path(store).exists()
    finally:
        store.close()


def test_a_subject_whose_end_of_study_is_not_recorded_is_left_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    still_in = {"RP-01": EXPECTED["RP-01"][:-1]}  # all but its EndOfStudyRecorded
    assert EXPECTED["RP-01"][-1].kind == "EndOfStudyRecorded"
    monkeypatch.setattr(loading, "cohort", lambda: iter(still_in.items()))
    store = new_store(make_settings(tmp_path))
    try:
        loading.load(store)
        subject = store.app.find_subject(subject_stream(STUDY, "RP-01"))

        assert subject is not None and subject.version == len(still_in["RP-01"])
        assert lock_state_of(subject) is LockState.OPEN
        assert casebook_signatures(subject) == [] and verifications_of(subject) == {}
    finally:
        store.close()


def test_the_audit_trail_pdf_of_a_subject_with_a_signed_casebook_is_drawn(
    demo_home: Path,
) -> None:
    # RP-03's casebook holds 214 records, each covered by both of its casebook signatures.
    auditor = person_at(demo_home, Role.AUDITOR)
    out = demo_home / "RP-03-audit.pdf"

    done = sealtrail(
        "report", "audit-trail", "--subject", "RP-03", "--format", "pdf", "--out", str(out),
        home=demo_home, extra_env=auditor,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"%PDF-")


def test_sealtrail_verify_passes_on_the_demonstration_store(demo_home: Path) -> None:
    verified = sealtrail("verify", home=demo_home)

    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.strip().splitlines()[-1].endswith("events checked, 0 findings")


# -- what the records say of themselves ---------------------------------------------------------


def test_every_subject_is_synthetic_and_signed_by_synthetic_staff(loaded: Loaded) -> None:
    signers: Counter[tuple[str, str]] = Counter()
    for code in CODES:
        for stored in loaded.store.reads.history(subject_stream(STUDY, code)):
            body = stored.event.authorship.body()
            signers[(body["signer"]["printed_name"], body["kind"])] += 1
            if body["kind"] == "Screened":
                assert body["data"]["synthetic"] is True
                assert body["data"]["site"] == "RP"

    assert {name for name, _ in signers} == {
        "Demo Coordinator (synthetic)",
        "Demo Investigator (synthetic)",
        "Demo Monitor (synthetic)",
        "Demo Data Manager (synthetic)",
    }
    investigator = {kind for name, kind in signers if name == "Demo Investigator (synthetic)"}
    assert {"ResponseAssessed", "SubjectDied", "SeriousAdverseEventNotified"} <= investigator
    assert {"BloodCountRecorded", "SourceVerified"}.isdisjoint(investigator)
    assert "CasebookSigned" in investigator
    monitor = {kind for name, kind in signers if name == "Demo Monitor (synthetic)"}
    assert monitor == {"SourceVerified"}
    data_manager = {kind for name, kind in signers if name == "Demo Data Manager (synthetic)"}
    assert data_manager == {"SubjectFrozen", "SubjectLocked"}


def test_every_record_is_dated_within_the_study(subjects: dict[str, Subject]) -> None:
    for subject in subjects.values():
        dated = [subject.dated_on(e) for e in subject.entries.values()]
        assert all(STUDY_START <= d <= PRIMARY_COMPLETION for d in dated if d is not None)


def test_nine_subjects_enrolled_eligible_with_severe_disease_at_baseline(
    subjects: dict[str, Subject],
) -> None:
    for code, subject in subjects.items():
        assert subject.synthetic, code
        assert subject.enrolment is not None, code
        assert subject.eligibility_failures() == [], code
        assessment = baseline_severity(subject)
        assert assessment.severity in {Severity.SEVERE, Severity.VERY_SEVERE}, code
        baseline_marrow = subject.live(Subject.BoneMarrowExamined)[0]
        assert baseline_marrow["cellularity"].value < 25

    assert len(subjects) == 9


def test_the_treatment_follows_the_protocol(subjects: dict[str, Subject]) -> None:
    troughs_outside = 0
    for code, subject in subjects.items():
        ratg = subject.live(Subject.RatgDoseGiven)
        start = treatment_start(subject)
        assert start is not None
        assert [e["day"] for e in ratg] == [1, 2, 3, 4, 5], code
        assert [e["given_on"] for e in ratg] == [start + timedelta(days=n) for n in range(5)]
        assert {e["dose"].value for e in ratg} == {Decimal("3.5")}
        (started,) = subject.live(Subject.CyclosporineStarted)
        assert started["dose"].value == 5
        assert subject.latest(Subject.CyclosporineStopped) is not None
        levels = [e["level"].value for e in subject.live(Subject.CyclosporineTroughMeasured)]
        outside = [level for level in levels if not 150 <= level <= 250]
        adjustments = subject.live(Subject.CyclosporineDoseAdjusted)
        # Each trough outside the target is followed by a dose adjustment that says so.
        assert len(adjustments) == len(outside) > 0, code
        assert all("target" in e["reason"] for e in adjustments)
        troughs_outside += len(outside)

    assert troughs_outside >= 9


def test_counts_are_weekly_for_six_months_and_monthly_after(
    subjects: dict[str, Subject],
) -> None:
    for code, subject in subjects.items():
        start = treatment_start(subject)
        assert start is not None
        end = died_on(subject) or subject.end_of_study["ended_on"]  # type: ignore[index]
        days = sorted({(c.collected_on - start).days for _, c in blood_counts(subject)})
        weekly = [7 * week for week in range(1, 27) if start + timedelta(days=7 * week) <= end]
        assert set(weekly) <= set(days), code
        after = [d for d in days if d >= 0]
        assert max(b - a for a, b in itertools.pairwise(after)) <= 31, code
        assert subject.live(Subject.TransfusionGiven), code


# -- the publication's results ------------------------------------------------------------------


def test_two_to_five_weekly_infusions_of_median_2_7_range_1_3_to_4_5(
    subjects: dict[str, Subject],
) -> None:
    doses = []
    for code, subject in subjects.items():
        infusions = subject.infusions
        assert 2 <= len(infusions) <= 5, code
        assert [e["infusion_number"] for e in infusions] == list(range(1, len(infusions) + 1))
        days = [subject.dated_on(e) or date.max for e in infusions]
        assert all((b - a).days >= 7 for a, b in itertools.pairwise(days))
        for infusion in infusions:
            assert infusion["infusion_reaction"] is False
            assert infusion["dose"].unit == "10^6 cells/kg"
            assert set(infusion["vital_signs_before"]) == set(infusion["vital_signs_after"])
            doses.append(infusion["dose"].value)

    assert median(doses) == Decimal("2.7")
    assert min(doses) == Decimal("1.3")
    assert max(doses) == Decimal("4.5")


def test_no_adverse_event_is_related_to_the_infusions(subjects: dict[str, Subject]) -> None:
    categories: Counter[AdverseEventCategory] = Counter()
    for subject in subjects.values():
        for event in subject.adverse_events().values():
            assert event["relatedness_msc"] in {Relatedness.UNRELATED, Relatedness.UNLIKELY}
            assert event["category"] is not AdverseEventCategory.INFUSION_REACTION
            categories[event["category"]] += 1

    assert categories[AdverseEventCategory.INFECTION] >= 5
    assert categories[AdverseEventCategory.FEBRILE_NEUTROPENIA] >= 5


def test_four_deaths_each_with_its_grade_5_event_and_one_late_notification(
    subjects: dict[str, Subject],
) -> None:
    causes = []
    clocks: Counter[ClockStatus] = Counter()
    for subject in subjects.values():
        clocks.update(c.status for c in notification_clocks(subject, date(2014, 1, 1)).values())
        death = subject.death
        if death is None:
            assert subject.end_of_study["reason"].value == "completed"  # type: ignore[index]
            continue
        causes.append(death["cause"])
        event = subject.adverse_events()[death["adverse_event"]]
        assert event["grade"] == 5
        assert event["outcome"] is AdverseEventOutcome.FATAL
        assert event["resolved_on"] == death["died_on"]
        assert "death" in {c.value for c in event["seriousness"]}
        assert subject.end_of_study["reason"].value == "death"  # type: ignore[index]

    assert sorted(causes) == [
        "bacterial infection",
        "bacterial infection",
        "heart failure",
        "invasive fungal infection",
    ]
    # Every serious event notified; one of them late, so the audit view has one to show.
    assert clocks[ClockStatus.LATE] == 1
    assert clocks[ClockStatus.MET] >= 10
    assert set(clocks) == {ClockStatus.MET, ClockStatus.LATE}


def test_at_least_one_death_comes_after_month_6(subjects: dict[str, Subject]) -> None:
    after = []
    for subject in subjects.values():
        start, died = treatment_start(subject), died_on(subject)
        if died is not None and start is not None and (died - start).days > 180:
            after.append(subject.subject_code)

    assert after


def test_two_partial_and_no_complete_responses_at_month_6_by_investigator_and_counts(
    subjects: dict[str, Subject],
) -> None:
    investigator: Counter[ResponseCategory] = Counter()
    computed: Counter[ResponseCategory] = Counter()
    for code, subject in subjects.items():
        (month_6,) = [r for r in responses(subject) if r.comparison.finding.month == 6]
        comparison = month_6.comparison
        assert comparison.investigator is comparison.finding.category, code
        investigator[comparison.investigator] += 1
        computed[comparison.finding.category] += 1
        died = died_on(subject)
        start = treatment_start(subject)
        assert start is not None
        if died is not None and died <= start + timedelta(days=180):
            assert comparison.finding.category is ResponseCategory.NOT_EVALUABLE, code
        if comparison.finding.category is ResponseCategory.PARTIAL:
            # Transfusion-independent: nothing in the 56 days up to the count assessed.
            assert comparison.finding.transfusion_independent is True
            count_day = comparison.finding.count_used_on
            assert count_day is not None
            assert all((count_day - t.given_on).days >= 56 for t in transfusions(subject))

    for counted in (investigator, computed):
        assert counted[ResponseCategory.PARTIAL] == 2
        assert counted[ResponseCategory.COMPLETE] == 0
        assert counted[ResponseCategory.NONE] + counted[ResponseCategory.NOT_EVALUABLE] == 7


def test_no_engraftment_by_fish_or_vntr_at_days_30_90_or_180(
    subjects: dict[str, Subject],
) -> None:
    assessed = 0
    for code, subject in subjects.items():
        start = treatment_start(subject)
        assert start is not None
        died = died_on(subject)
        chimerism = subject.live(Subject.ChimerismAssessed)
        assert all(e["donor_signal_detected"] is False for e in chimerism)
        for day in (30, 90, 180):
            methods = {e["method"].value for e in chimerism if e["study_day"] == day}
            alive = died is None or start + timedelta(days=day) <= died
            assert methods == ({"FISH", "VNTR"} if alive else set()), (code, day)
        assessed += len(chimerism)

    assert assessed == 48


def test_median_follow_up_is_20_months(subjects: dict[str, Subject]) -> None:
    days = [follow_up_days(subject) for subject in subjects.values()]

    months = median(d / DAYS_PER_MONTH_OF_FOLLOW_UP for d in days if d is not None)

    assert len(days) == 9
    assert round(months, 1) == 20.0


@pytest.mark.requirement("P11-11.10e-2")
def test_the_audit_trail_shows_a_correction_and_a_void(subjects: dict[str, Subject]) -> None:
    (correction,) = [e for s in subjects.values() for e in s.live(Subject.EntryCorrected)]
    (void,) = [e for s in subjects.values() for e in s.live(Subject.EntryVoided)]

    change = correction["changes"]["results"]
    assert change["old"]["haemoglobin"].value == 10 * change["new"]["haemoglobin"].value
    assert "decimal point" in correction["reason"]
    assert void["entry_kind"] == "BloodCountRecorded"
    assert "duplicate" in void["reason"]


@pytest.mark.requirement("URS-outcomes-1")
def test_the_study_outcome_table_shows_the_published_figures(loaded: Loaded) -> None:
    table = study_outcomes(loaded.store.views, loaded.store.reads, STUDY)
    measures = {m["measure"]: m for m in table["measures"]}

    assert table["synthetic"] is True
    for name in (
        "enrolled",
        "msc_infusions_per_subject",
        "msc_dose_median",
        "msc_dose_range",
        "infusion_related_adverse_events",
        "deaths",
        "partial_responses_month_6",
        "complete_responses_month_6",
        "median_follow_up_months",
    ):
        assert str(measures[name]["value"]) == measures[name]["published"], name
    assert measures["engraftment_detected"]["value"] == 0
    assert measures["partial_responses_month_6"]["by_criteria"] == 2
    assert measures["complete_responses_month_6"]["disagreements"] == []


def test_the_generator_gives_the_same_records_on_every_run() -> None:
    # Resuming relies on it: entry n of a subject must be the n-th record of every run.
    assert dict(cohort()) == EXPECTED


@pytest.mark.requirement("URS-outcomes-1")
def test_an_auditor_reads_the_same_outcome_table_over_the_api(loaded: Loaded) -> None:
    site = Site(loaded.store)
    auditor = make_person(loaded.store, "outcomes.auditor", role=Role.AUDITOR)
    coordinator = make_person(
        loaded.store, "outcomes.coordinator", role=Role.SITE_COORDINATOR, sites=("RP",)
    )

    answered = site.client.get("/v1/study/outcomes", headers=site.auth(auditor))
    refused = site.client.get("/v1/study/outcomes", headers=site.auth(coordinator))
    unknown = site.client.get("/v1/study/outcomes?study=NCT00000000", headers=site.auth(auditor))

    assert answered.status_code == 200
    assert answered.get_json() == study_outcomes(loaded.store.views, loaded.store.reads, STUDY)
    sources = {m["measure"]: m["sources"] for m in answered.get_json()["measures"]}
    assert {s["record"] for s in sources["deaths"]} == {"SubjectDied"}
    assert refused.status_code == 403  # a site's staff read their own site, not the study
    assert unknown.status_code == 422
    assert unknown.content_type == "application/problem+json"


def test_the_cli_prints_the_outcome_table_as_text_and_as_json(demo_home: Path) -> None:
    auditor = person_at(demo_home, Role.AUDITOR)
    text = sealtrail("report", "outcomes", home=demo_home, extra_env=auditor)
    as_json = sealtrail("report", "outcomes", "--json", home=demo_home, extra_env=auditor)
    unknown = sealtrail(
        "report", "outcomes", "--study", "NCT00000000", home=demo_home, extra_env=auditor
    )

    assert text.returncode == 0 and "SYNTHETIC demonstration data" in text.stdout
    assert "Deaths" in text.stdout and "heart failure" in text.stdout
    measures = {m["measure"]: m for m in json.loads(as_json.stdout)["measures"]}
    assert measures["deaths"]["value"] == 4 and measures["enrolled"]["value"] == 9
    assert unknown.returncode == 1 and len(unknown.stderr.strip().splitlines()) == 1
