"""The audit trail as a person reads it: filtered by subject, site, user, kind, action and
dates, a page at a time, only of the sites they read (infrastructure/application/audit_trail.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.account import Role
from infrastructure.application.audit_trail import (
    AuditTrail,
    AuditTrailPage,
    audit_trail_rows,
)
from infrastructure.bootstrap import Store
from infrastructure.documents.reports import audit_trail_pdf, covering_checkpoint
from projections.audit_trail import AuditFilter, Period
from tests.conftest import STUDY, open_person, screening
from tests.reports.conftest import CHART_DPI, CORRECTED_ENTRY, SUBJECT
from tests.reports.test_documents import page_texts

EVERY_SITE = {"RP", "SP"}


@pytest.fixture(scope="module")
def trail(followed: Store) -> Store:
    """RP-01 and RP-02 at site RP (coord1), SP-01 at site SP (coord2), and a monitor's query
    on RP-01's corrected blood count."""
    other = open_person(followed, "coord2", printed_name="Rui Lima", sites=("SP",))
    other.record(followed, "SP-01", "Screened", screening(site="SP", screened_on="2011-03-03"))
    monitor = open_person(followed, "mon1", printed_name="Iara Reis", role=Role.MONITOR)
    monitor.record(
        followed,
        SUBJECT,
        "QueryRaised",
        {
            "entry": CORRECTED_ENTRY,
            "entry_kind": "BloodCountRecorded",
            "item": "results",
            "question": "Is 7.1 on the lab report?",
        },
    )
    return followed


def page(
    store: Store,
    filters: AuditFilter | None = None,
    sites: set[str] = EVERY_SITE,
    number: int = 1,
    size: int | None = None,
) -> AuditTrailPage:
    trail = AuditTrail(store.reads, STUDY, sites.__contains__)
    return trail.page(filters or AuditFilter(), number=number, size=size)


def every_row(store: Store) -> list[tuple[str, int, str]]:
    rows = audit_trail_rows(store.reads, STUDY, ["RP-01", "RP-02", "SP-01"])
    return [(row.subject, row.position, row.field) for row in rows]


def keys(shown: AuditTrailPage) -> list[tuple[str, int, str]]:
    return [(row.subject, row.position, row.field) for row in shown.rows]


def test_without_a_filter_every_row_of_every_subject_is_read_in_trail_order(trail: Store) -> None:
    shown = page(trail)

    assert keys(shown) == every_row(trail)
    assert shown.subjects == ("RP-01", "RP-02", "SP-01")
    assert shown.total == len(shown.rows) > 100
    assert (shown.number, shown.last_number, shown.first_row) == (1, 1, 1)
    assert shown.sites == ("RP", "SP")
    assert [(p.user_id, p.printed_name) for p in shown.people] == [
        ("coord1", "Ana Souza"),
        ("coord2", "Rui Lima"),
        ("mon1", "Iara Reis"),
    ]


def test_a_reader_of_one_site_reads_none_of_another_sites_rows(trail: Store) -> None:
    shown = page(trail, sites={"SP"})

    assert shown.subjects == ("SP-01",)
    assert {row.subject for row in shown.rows} == {"SP-01"}
    assert shown.sites == ("SP",)
    assert [p.user_id for p in shown.people] == ["coord2"]


def test_naming_another_sites_subject_or_site_keeps_no_row_as_naming_none(trail: Store) -> None:
    for filters in (AuditFilter(subject="RP-01"), AuditFilter(site="RP")):
        shown = page(trail, filters, sites={"SP"})

        assert (shown.subjects, shown.rows, shown.total) == ((), (), 0)
        assert page(trail, AuditFilter(subject="RP-99"), sites={"SP"}).subjects == ()


def test_a_subject_filter_reads_that_subject_alone(trail: Store) -> None:
    shown = page(trail, AuditFilter(subject="RP-02"))

    assert shown.subjects == ("RP-02",)
    assert {row.subject for row in shown.rows} == {"RP-02"}
    assert [row.kind for row in shown.rows if row.field == "reason"] == ["ScreenFailed"]


def test_a_site_filter_reads_that_sites_subjects(trail: Store) -> None:
    assert page(trail, AuditFilter(site="RP")).subjects == ("RP-01", "RP-02")
    assert page(trail, AuditFilter(site="SP")).subjects == ("SP-01",)


def test_a_user_filter_keeps_the_rows_that_person_signed(trail: Store) -> None:
    shown = page(trail, AuditFilter(user_id="mon1"))

    assert {row.user_id for row in shown.rows} == {"mon1"}
    assert {(row.kind, row.action) for row in shown.rows} == {("QueryRaised", "created")}
    # whom a reader may choose from does not narrow with the person chosen
    assert [p.user_id for p in shown.people] == ["coord1", "coord2", "mon1"]


def test_a_kind_filter_keeps_the_rows_about_records_of_that_kind_corrections_included(
    trail: Store,
) -> None:
    shown = page(trail, AuditFilter(kind="BloodCountRecorded"))

    assert {row.kind for row in shown.rows} == {"BloodCountRecorded"}
    assert {row.action for row in shown.rows} == {"created", "corrected"}


def test_an_action_filter_keeps_the_rows_of_that_action(trail: Store) -> None:
    (corrected,) = page(trail, AuditFilter(action="corrected")).rows
    (voided,) = page(trail, AuditFilter(action="voided")).rows

    assert (corrected.entry, corrected.field) == (CORRECTED_ENTRY, "results")
    assert (voided.field, voided.old, voided.new) == ("record status", "active", "voided")


def test_filters_combine(trail: Store) -> None:
    shown = page(trail, AuditFilter(subject="RP-01", user_id="coord1", action="corrected"))
    assert shown.total == 1
    assert page(trail, AuditFilter(subject="SP-01", user_id="coord1")).total == 0


def test_a_period_keeps_the_rows_recorded_on_those_days_of_the_sites_calendar(
    trail: Store,
) -> None:
    today = datetime.now(ZoneInfo("America/Sao_Paulo")).date()
    tomorrow = today + timedelta(days=1)

    assert page(trail, AuditFilter(period=Period(today, today))).total == page(trail).total
    assert page(trail, AuditFilter(period=Period(first=tomorrow))).total == 0
    assert page(trail, AuditFilter(period=Period(last=today - timedelta(days=1)))).total == 0


def test_pages_split_the_rows_in_order_with_nothing_lost_or_repeated(trail: Store) -> None:
    whole = page(trail)
    size = 40
    pages = [page(trail, number=n, size=size) for n in range(1, whole.total // size + 2)]

    assert [row for shown in pages for row in shown.rows] == list(whole.rows)
    assert {shown.last_number for shown in pages} == {len(pages)}
    assert [(shown.first_row, shown.last_row) for shown in pages[:2]] == [(1, 40), (41, 80)]
    assert pages[-1].last_row == whole.total
    assert all(shown.exists and shown.total == whole.total for shown in pages)


def test_a_page_past_the_last_is_empty_and_says_it_does_not_exist(trail: Store) -> None:
    past = page(trail, number=10_000, size=50)

    assert (past.rows, past.exists, past.first_row, past.last_row) == ((), False, 0, 0)


def test_no_row_kept_is_one_empty_first_page(trail: Store) -> None:
    empty = page(trail, AuditFilter(user_id="nobody"), size=50)

    assert (empty.total, empty.last_number, empty.exists, empty.first_row) == (0, 1, True, 0)


def test_the_selection_a_document_states_names_the_filters_and_the_page(trail: Store) -> None:
    assert page(trail).selection() is None
    assert page(trail, size=500).selection() is None  # one page holds every row
    chosen = page(trail, AuditFilter(site="RP", user_id="coord1", action="corrected"))
    assert chosen.selection() == "site RP; user coord1; action corrected"

    second = page(trail, AuditFilter(kind="BloodCountRecorded"), number=2, size=4)

    assert second.selection() == (
        f"kind of record BloodCountRecorded; page 2 of {second.last_number}: rows 5 to 8 of "
        f"{second.total}"
    )


def test_the_signed_pdf_of_a_page_states_its_selection_and_lists_its_rows_alone(
    trail: Store,
) -> None:
    shown = page(trail, AuditFilter(subject="RP-01", action="corrected"))
    pdf = audit_trail_pdf(
        trail,
        shown.rows,
        study=STUDY,
        codes=shown.subjects,
        period=shown.filters.period,
        checkpoint=covering_checkpoint(trail),
        chart_dpi=CHART_DPI,
        selection=shown.selection(),
    )

    cover, *pages = page_texts(pdf)
    assert "Seleção / Selection" in cover
    assert "subject RP-01; action corrected" in cover
    assert "1: 0 created, 1 corrected, 0 voided, 0 signed" in cover
    words = " ".join(" ".join(pages).split())
    assert "transcription error: the lab report reads 7.1" in words
    assert "created" not in words


def test_a_page_number_or_size_below_one_is_a_mistake_of_the_caller(trail: Store) -> None:
    with pytest.raises(ValueError, match="count from 1"):
        page(trail, number=0, size=50)
    with pytest.raises(ValueError, match="count from 1"):
        page(trail, size=0)


def test_the_trail_of_a_reader_names_the_sites_and_subjects_they_read(trail: Store) -> None:
    everything = AuditTrail(trail.reads, STUDY, EVERY_SITE.__contains__)
    one_site = AuditTrail(trail.reads, STUDY, {"SP"}.__contains__)

    assert (everything.sites, everything.subjects) == (("RP", "SP"), ("RP-01", "RP-02", "SP-01"))
    assert (one_site.sites, one_site.subjects) == (("SP",), ("SP-01",))


def test_the_subjects_sites_are_read_from_their_screenings_alone(trail: Store) -> None:
    assert trail.reads.subject_sites(STUDY) == {"RP-01": "RP", "RP-02": "RP", "SP-01": "SP"}
    assert trail.reads.subject_sites("NCT00000000") == {}
    assert {s.subject_code: s.site for s in trail.reads.subjects_of(STUDY)} == (
        trail.reads.subject_sites(STUDY)
    )
