"""The audit-trail review's flags, each on events crafted for it (no store: a fold of events).

The server's recording time of each event is set as the test needs it (the store's clock is
not the domain's concern); entries are made by ``coord1`` unless a test says otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from domain.account import Account, Role
from domain.audit_review import next_review_starts
from domain.authentication import FAILED, SUCCEEDED, AuthenticationLog
from domain.authorship import authored
from domain.errors import AuditReviewInvalid, NotPermitted, UnknownStudy
from domain.permissions import check_may_change_account
from domain.protocol import NCT01297972
from domain.signed import SignedAggregate
from domain.subject import Subject
from projections.audit_review import AuditReview, Flag, review_audit_trail
from projections.audit_trail import Period
from tests.unit.subjects import (
    adverse_event,
    blood_count,
    correct_units,
    enrolled,
    q,
    serious,
    transfusion,
)
from tests.unit.subjects import signed_as as by

TUESDAY_10H = datetime(2011, 3, 1, 13, 0, tzinfo=UTC)
"""10:00 on a Tuesday in Ribeirão Preto (UTC-3): inside the site's working week."""


def recorded(events: list[Any], *moments: datetime) -> list[tuple[int, SignedAggregate.Event]]:
    """The events at log positions 1.., each recorded at its moment (the last one repeats)."""
    logged = []
    for position, event in enumerate(events, 1):
        moment = moments[min(position - 1, len(moments) - 1)]
        object.__setattr__(event, "timestamp", moment)  # the server's clock, as the test sets it
        logged.append((position, event))
    return logged


def subject_events(subject: Subject) -> list[Any]:
    return list(subject.collect_events())


def review(
    events: list[tuple[int, SignedAggregate.Event]],
    period: Period | None = None,
    today: date = date(2011, 12, 31),
    site: str | None = None,
) -> AuditReview:
    return review_audit_trail(
        events, study=NCT01297972.study_id, period=period or Period(), today=today, site=site
    )


def flagged(result: AuditReview, flag: Flag) -> list[tuple[str, int]]:
    return [(f.subject, f.entry) for f in result.findings if f.flag is flag]


@pytest.fixture
def coordinator() -> Iterator[None]:
    with authored(by("coord1")):
        yield


@pytest.mark.requirement("E6-4.2.3-1")
@pytest.mark.usefixtures("coordinator")
def test_an_entry_recorded_on_a_saturday_or_at_night_is_outside_working_hours() -> None:
    subject = enrolled()  # entries 1-4
    subject.give_transfusion(**transfusion())  # entry 5
    saturday = datetime(2011, 3, 5, 13, 0, tzinfo=UTC)
    tuesday_night = datetime(2011, 3, 1, 23, 30, tzinfo=UTC)  # 20:30 local
    events = recorded(subject_events(subject), *[TUESDAY_10H] * 3, saturday, tuesday_night)

    result = review(events)

    assert flagged(result, Flag.OUTSIDE_WORKING_HOURS) == [("RP-101", 4), ("RP-101", 5)]
    finding = result.findings[0]
    assert (finding.site, finding.user_id) == ("RP", "coord1")
    assert "Sat 2011-03-05 10:00" in finding.detail
    assert "Mon,Tue,Wed,Thu,Fri 07:00-19:00 America/Sao_Paulo" in finding.detail


@pytest.mark.requirement("E6-4.2.3-1")
@pytest.mark.usefixtures("coordinator")
def test_an_entry_made_more_days_after_its_date_than_the_protocol_allows_is_late() -> None:
    subject = enrolled()
    subject.record_blood_count(**blood_count(date(2011, 3, 1), haemoglobin=q("9.1", "g/dL")))
    subject.record_blood_count(**blood_count(date(2011, 3, 8), haemoglobin=q("9.3", "g/dL")))
    within = datetime(2011, 3, 31, 13, 0, tzinfo=UTC)  # 30 days after 1 March: allowed
    too_late = datetime(2011, 4, 8, 13, 0, tzinfo=UTC)  # 31 days after 8 March
    events = recorded(subject_events(subject), *[TUESDAY_10H] * 4, within, too_late)

    result = review(events)

    assert flagged(result, Flag.LATE_ENTRY) == [("RP-101", 6)]
    assert "31 days later (the study allows 30)" in result.findings[-1].detail


@pytest.mark.parametrize("first_voided", [False, True])
@pytest.mark.usefixtures("coordinator")
def test_an_entry_dated_before_a_live_one_of_its_kind_already_made_is_backdated(
    first_voided: bool,
) -> None:
    subject = enrolled()
    subject.record_blood_count(**blood_count(date(2011, 3, 8), haemoglobin=q("9.1", "g/dL")))
    if first_voided:
        subject.void_entry(entry=5, entry_kind="BloodCountRecorded", reason="another subject's")
    subject.record_blood_count(**blood_count(date(2011, 3, 1), haemoglobin=q("9.3", "g/dL")))
    subject.record_blood_count(**blood_count(date(2011, 3, 9), haemoglobin=q("9.4", "g/dL")))

    result = review(recorded(subject_events(subject), datetime(2011, 3, 9, 13, tzinfo=UTC)))

    if first_voided:  # a voided entry does not count: nothing was entered before it
        assert flagged(result, Flag.BACKDATED) == []
    else:
        assert flagged(result, Flag.BACKDATED) == [("RP-101", 6)]
        assert "about 2011-03-01, before 2011-03-08" in result.findings[-1].detail


def test_corrections_and_voids_above_the_study_rates_flag_the_person_at_the_site() -> None:
    with authored(by("coord1")):
        subject = enrolled()  # 4 entries by coord1
        subject.give_transfusion(**transfusion())  # entry 5
    with authored(by("inv1")):
        correct_units(subject)
    with authored(by("coord1")):
        subject.void_entry(entry=5, entry_kind="TransfusionGiven", reason="another subject's")

    result = review(recorded(subject_events(subject), TUESDAY_10H))

    rates = {(f.user_id, f.flag) for f in result.findings if f.flag.name.endswith("RATE")}
    assert rates == {("coord1", Flag.VOID_RATE), ("inv1", Flag.CORRECTION_RATE)}
    people = {p.user_id: p.as_dict() for p in result.people}
    assert people["coord1"] | {"findings": {}} == {
        "site": "RP", "user_id": "coord1", "entries": 5, "corrections": 0, "voids": 1,
        "logins": 0, "correction_rate_percent": "0.0", "void_rate_percent": "20.0",
        "findings": {},
    }  # fmt: skip
    assert people["inv1"]["correction_rate_percent"] is None  # made no entry at all
    assert people["coord1"]["findings"] == {"void_rate": 1}


@pytest.mark.requirement("E6-4.2.3-1")
@pytest.mark.usefixtures("coordinator")
def test_a_serious_adverse_event_notified_after_its_clock_or_never_is_flagged() -> None:
    subject = enrolled()
    subject.report_adverse_event(**adverse_event("AE-01", **serious()))  # learned 12 March
    subject.report_adverse_event(**adverse_event("AE-02", **serious()))
    subject.report_adverse_event(**adverse_event("AE-03", **serious()))
    late = {"recipient": "CONEP", "follow_up": False}
    subject.notify_serious_adverse_event(
        adverse_event="AE-01", notified_on=date(2011, 3, 30), **late
    )
    subject.notify_serious_adverse_event(
        adverse_event="AE-03", notified_on=date(2011, 3, 20), **late
    )
    events = recorded(subject_events(subject), datetime(2011, 3, 30, 13, tzinfo=UTC))

    result = review(events, today=date(2011, 4, 30))

    assert flagged(result, Flag.SAE_PAST_CLOCK) == [("RP-101", 5), ("RP-101", 6)]
    details = [f.detail for f in result.findings if f.flag is Flag.SAE_PAST_CLOCK]
    assert details[0].startswith("adverse event AE-01: late, 3 day(s) past its clock")
    assert details[1].startswith("adverse event AE-02: overdue")


def login(log: AuthenticationLog, user_id: str, when: datetime, outcome: str = SUCCEEDED) -> None:
    log.record(user_id=user_id, channel="token", outcome=outcome, detail="", occurred_at=when)


def test_a_login_long_after_the_accounts_previous_one_is_flagged_at_each_of_its_sites() -> None:
    opened = datetime(2011, 1, 3, 13, tzinfo=UTC)
    with authored(by("system")):
        account = Account.open(user_id="coord1", printed_name="Ana Souza")
        account.assign_site(site="RP")
        log = AuthenticationLog.start("coord1")
        login(log, "coord1", opened + timedelta(days=10))
        login(log, "coord1", opened + timedelta(days=200), FAILED)  # not a login
        login(log, "coord1", opened + timedelta(days=101))  # 91 days after the previous
        login(log, "coord1", opened + timedelta(days=102))
    events = list(account.collect_events()) + list(log.collect_events())
    moments = [opened, opened, opened, *(e.occurred_at for e in events[4:])]

    result = review(recorded(events, *moments))

    assert [(f.flag, f.site, f.user_id, f.position) for f in result.findings] == [
        (Flag.DORMANT_LOGIN, "RP", "coord1", 6)
    ]
    assert "91 days after" in result.findings[0].detail
    assert result.people[0].logins == 3


def test_a_first_login_long_after_the_account_was_opened_is_flagged() -> None:
    opened = datetime(2011, 1, 3, 13, tzinfo=UTC)
    with authored(by("system")):
        account = Account.open(user_id="aud1", printed_name="Vera Dias")
        log = AuthenticationLog.start("aud1")
        login(log, "aud1", opened + timedelta(days=120))
    events = list(account.collect_events()) + list(log.collect_events())

    result = review(recorded(events, opened, opened, opened + timedelta(days=120)))

    assert [(f.flag, f.site) for f in result.findings] == [(Flag.DORMANT_LOGIN, "")]


@pytest.mark.requirement("E6-4.2.3-1")
@pytest.mark.parametrize(
    ("flag", "other", "earlier"),
    [
        (Flag.CHANGED_AFTER_SIGNATURE, Flag.CHANGED_AFTER_SDV, "signature(s)"),
        (Flag.CHANGED_AFTER_SDV, Flag.CHANGED_AFTER_SIGNATURE, "source verification(s)"),
    ],
)
def test_a_record_changed_after_a_signature_or_a_source_verification_is_flagged(
    flag: Flag, other: Flag, earlier: str
) -> None:
    with authored(by("coord1")):
        subject = enrolled()
        subject.give_transfusion(**transfusion())  # entry 5
    read = {"entry": 5, "record_hash": subject.entries[5].record_hash}
    if flag is Flag.CHANGED_AFTER_SIGNATURE:
        with authored(by("inv1", "review")):
            subject.sign_records(entries=[read], meaning="review")  # entry 6
    else:
        with authored(by("mon1")):
            subject.verify_source(**read, entry_kind="TransfusionGiven", item=None)  # entry 6
    with authored(by("coord1")):
        correct_units(subject)  # entry 7
        subject.void_entry(entry=5, entry_kind="TransfusionGiven", reason="another's")  # entry 8

    result = review(recorded(subject_events(subject), TUESDAY_10H))

    # The void changes a record already changed: what was signed or verified no longer was.
    assert flagged(result, flag) == [("RP-101", 5)] and flagged(result, other) == []
    finding = next(f for f in result.findings if f.flag is flag)
    assert (finding.user_id, finding.kind, finding.position) == ("coord1", "EntryCorrected", 7)
    assert f"{earlier} of entry 6, which no longer cover(s) it" in finding.detail


@pytest.mark.usefixtures("coordinator")
def test_only_events_recorded_in_the_period_and_at_the_site_are_reviewed() -> None:
    subject = enrolled()
    saturdays = [datetime(2011, 3, day, 13, tzinfo=UTC) for day in (5, 12, 19, 26)]
    events = recorded(subject_events(subject), *saturdays)

    in_march = review(events, Period(date(2011, 3, 10), date(2011, 3, 20)))
    elsewhere = review(events, site="SP")

    assert flagged(in_march, Flag.OUTSIDE_WORKING_HOURS) == [("RP-101", 2), ("RP-101", 3)]
    assert [p.entries for p in in_march.people] == [2]
    assert elsewhere.findings == () and elsewhere.people == ()


@pytest.mark.usefixtures("coordinator")
def test_the_same_events_give_the_same_findings_and_digest() -> None:
    subject = enrolled()
    events = recorded(subject_events(subject), datetime(2011, 3, 5, 13, tzinfo=UTC))

    first, second = review(events), review(events)

    assert first.findings_sha256 == second.findings_sha256
    assert first.as_dict()["findings_count"] == 4
    assert first.findings_sha256 != review(events[:2]).findings_sha256


def test_another_studys_subjects_are_not_reviewed() -> None:
    with authored(by("coord1")):
        subject = enrolled()
    events = recorded(subject_events(subject), datetime(2011, 3, 5, 13, tzinfo=UTC))
    for _, event in events:
        object.__setattr__(event, "stream", "NCT00000000/RP-101")

    assert review(events).findings == ()


# -- the recorded review ------------------------------------------------------------------------

DIGEST = "a" * 64


def reviewer(role: Role | None = Role.AUDITOR, user_id: str = "aud1") -> Account:
    """An account in memory (never saved), in force in ``role``."""
    with authored(by("system")):
        account = Account.open(user_id=user_id, printed_name="Vera Dias")
        if role is not None:
            account.grant_role(role=role)
            account.attest_training(role=role, course="GCP", completed_on=date(2011, 1, 10))
    return account


def recorded_review(account: Account, **overrides: Any) -> None:
    fields = {
        "study": NCT01297972.study_id,
        "reviewed_from": date(2011, 3, 1),
        "reviewed_to": date(2011, 3, 31),
        "findings": 3,
        "findings_sha256": DIGEST,
        "conclusion": "Late entries explained by the site's monitoring visit notes.",
        **overrides,
    }
    with authored(by(account.user_id)):
        account.review_audit_trail(**fields)


def test_a_review_is_recorded_on_the_reviewers_account_as_they_signed_it() -> None:
    account = reviewer()

    recorded_review(account, site="RP")

    event = account.collect_events()[-1]
    assert isinstance(event, Account.AuditTrailReviewed)
    assert (event.site, event.reviewed_from, event.reviewed_to) == (
        "RP", date(2011, 3, 1), date(2011, 3, 31)
    )  # fmt: skip
    assert (event.findings, event.findings_sha256) == (3, DIGEST)


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"conclusion": "  \n "}, "says what the reviewer concluded"),
        ({"conclusion": "\u200b\ufeff"}, "says what the reviewer concluded"),
        ({"conclusion": "fine\x00"}, "no control characters"),
        ({"conclusion": "x" * 4001}, "at most 4000 characters"),
        ({"reviewed_from": date(2011, 4, 1)}, "begins on 2011-04-01, after it ends (2011-03-31)"),
        ({"reviewed_to": date(2099, 1, 1)}, "ends on 2099-01-01, after today"),
        ({"findings": -1}, "counted from 0"),
        ({"site": "RP\n"}, "'RP\\n' is not a site code"),
        ({"findings_sha256": "A" * 64}, "64 lowercase hex digits"),
        ({"findings_sha256": DIGEST + "\n"}, "64 lowercase hex digits"),
    ],
)
def test_a_review_that_says_nothing_is_refused_and_records_nothing(
    overrides: dict[str, Any], says: str
) -> None:
    account = reviewer()
    account.collect_events()

    with pytest.raises(AuditReviewInvalid, match=re.escape(says)):
        recorded_review(account, **overrides)

    assert account.collect_events() == []


def test_a_review_of_a_study_the_store_does_not_serve_is_refused() -> None:
    with pytest.raises(UnknownStudy):
        recorded_review(reviewer(), study="NCT00000000")


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.SPONSOR_DATA_MANAGER])
def test_auditors_and_sponsor_data_managers_review_on_their_own_account(role: Role) -> None:
    account = reviewer(role)

    check_may_change_account(account, "aud1", "AuditTrailReviewed", {})


@pytest.mark.parametrize(
    ("role", "on", "says"),
    [
        (Role.SITE_COORDINATOR, "aud1", "a site_coordinator does not review the audit trail"),
        (Role.MONITOR, "aud1", "a monitor does not review the audit trail"),
        (Role.INVESTIGATOR, "aud1", "an investigator does not review the audit trail"),
        (Role.ADMINISTRATOR, "aud1", "an administrator does not review the audit trail"),
        (None, "aud1", "aud1 has no role, so does not review the audit trail"),
        (Role.AUDITOR, "coord1", "recorded on their own account, not coord1's"),
    ],
)
def test_a_role_that_may_not_review_or_anothers_account_is_refused(
    role: Role | None, on: str, says: str
) -> None:
    with pytest.raises(NotPermitted, match=re.escape(says)):
        check_may_change_account(reviewer(role), on, "AuditTrailReviewed", {})


def test_the_next_review_begins_the_day_after_the_latest_that_covered_the_site() -> None:
    study = NCT01297972.study_id
    every_site = SimpleNamespace(study=study, site=None, reviewed_to=date(2011, 3, 31))
    at_rp = SimpleNamespace(study=study, site="RP", reviewed_to=date(2011, 4, 30))
    elsewhere = SimpleNamespace(study="NCT00000000", site=None, reviewed_to=date(2011, 6, 30))
    reviews = [every_site, at_rp, elsewhere]

    assert next_review_starts(reviews, study, "RP") == date(2011, 5, 1)
    assert next_review_starts(reviews, study, "SP") == date(2011, 4, 1)
    assert next_review_starts(reviews, study, None) == date(2011, 4, 1)
    assert next_review_starts([], study, None) is None
