"""The SDTM-shaped datasets and their data dictionary, from subjects folded out of real stores.

Two stores, each built once per module through the signed write path: the demonstration cohort
(nine subjects, with a corrected haemoglobin and a voided duplicate count), and one followed
subject (the reports' RP-01: a correction, a serious adverse event followed up) extended with a
voided count, a cyclosporine adjustment, a corrected adverse event, a withdrawal and an end of
study, beside a screen failure, a subject consented but not enrolled and one enrolled but never
treated.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.demonstration.plans import PLANS, STUDY
from domain.protocol import PROTOCOLS
from domain.subject import Subject, subject_stream
from domain.subject.measurements import LAB_TESTS
from infrastructure.bootstrap import Store
from projections.sdtm import EVERY_DATASET, data_dictionary, sdtm_datasets, usubjid
from projections.sdtm.codes import ISO_3166_ALPHA_3
from tests.conftest import ELIGIBLE, make_settings, new_store
from tests.reports.conftest import CORRECTED_ENTRY, RECORDS, SUBJECT, coordinator_in, count
from tests.shared_templates import DemoCohort, opened

RULED_FILES = ["DM.csv", "EX.csv", "LB.csv", "AE.csv", "DS.csv"]
FILES = [*RULED_FILES, *(d.file_name for d in EVERY_DATASET[len(RULED_FILES) :])]
"""The datasets by rule, then those the record kinds' declarations give."""
DEMO_CODES = [plan.code for plan in PLANS]

# Entries the followed subject's records after the reports' 24 take.
VOIDED_COUNT, VOID = 25, 26
TROUGH, ADJUSTMENT = 27, 28
AE_CORRECTION = 29
WITHDRAWAL, END = 30, 31
FURTHER: list[tuple[str, dict[str, Any]]] = [
    ("BloodCountRecorded", count("2011-04-04", "7.9", "0.55", "14")),
    (
        "EntryVoided",
        {
            "entry": VOIDED_COUNT,
            "entry_kind": "BloodCountRecorded",
            "reason": "entered for the wrong subject",
        },
    ),
    (
        "CyclosporineTroughMeasured",
        {"level": {"value": "290", "unit": "ng/mL"}, "collected_on": "2011-04-05"},
    ),
    (
        "CyclosporineDoseAdjusted",
        {
            "dose": {"value": "4", "unit": "mg/kg/day"},
            "effective_on": "2011-04-06",
            "reason": "trough 290 ng/mL above the target",
        },
    ),
    (
        "EntryCorrected",
        {
            "entry": 23,
            "entry_kind": "AdverseEventReported",
            "changes": {"grade": {"old": 1, "new": 2}},
            "reason": "the source notes say grade 2",
        },
    ),
    (
        "SubjectWithdrawn",
        {"withdrawn_on": "2011-04-10", "reason": "moved to another state", "decided_by": "subject"},
    ),
    ("EndOfStudyRecorded", {"ended_on": "2011-04-10", "reason": "withdrawal"}),
]
OTHERS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "RP-02": [
        ("Screened", {"site": "RP", "sex": "M", "age": 70, "screened_on": "2011-03-01"}),
        ("ScreenFailed", {"failed_on": "2011-03-02", "reason": "age above 65"}),
    ],
    "RP-03": [
        ("Screened", {"site": "RP", "sex": "F", "age": 41, "screened_on": "2011-03-07"}),
        ("ConsentObtained", {"tcle_version": "2.0", "consented_on": "2011-03-07"}),
    ],
    "RP-04": [
        ("Screened", {"site": "RP", "sex": "M", "age": 29, "screened_on": "2011-03-07"}),
        ("ConsentObtained", {"tcle_version": "2.0", "consented_on": "2011-03-07"}),
        ("EligibilityAssessed", {"criteria": ELIGIBLE, "assessed_on": "2011-03-09"}),
        ("Enrolled", {"enrolled_on": "2011-03-10"}),
    ],
}


def table(content: bytes) -> list[dict[str, str]]:
    """A CSV file's rows by column name."""
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"), newline="")))


def header(content: bytes) -> list[str]:
    return next(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))


def of(rows: list[dict[str, str]], code: str) -> list[dict[str, str]]:
    """The rows of one subject of the study."""
    return [row for row in rows if row["USUBJID"] == f"{STUDY}-{code}"]


def load(store: Store, codes: list[str]) -> list[Subject]:
    found = []
    for code in codes:
        subject = store.app.find_subject(subject_stream(STUDY, code))
        assert subject is not None, code
        found.append(subject)
    return found


@pytest.fixture(scope="module")
def demo_store(
    tmp_path_factory: pytest.TempPathFactory, demo_cohort_template: DemoCohort
) -> Iterator[Store]:
    """The demonstration cohort loaded into a fresh SQLite store (a copy of the run's)."""
    with opened(demo_cohort_template, tmp_path_factory.mktemp("sdtm-demo")) as store:
        yield store


@pytest.fixture(scope="module")
def demo(demo_store: Store) -> dict[str, list[dict[str, str]]]:
    """The demonstration cohort's datasets, read back as rows."""
    return {
        name: table(content)
        for name, content in sdtm_datasets(load(demo_store, DEMO_CODES)).items()
    }


@pytest.fixture(scope="module")
def followed_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """RP-01 followed to its withdrawal, and three subjects who were never treated."""
    home: Path = tmp_path_factory.mktemp("sdtm-followed")
    store = new_store(make_settings(home))
    try:
        record_followed(store)
        yield store
    finally:
        store.close()


def record_followed(store: Store) -> None:
    """RP-01's records and the three others', signed by a coordinator of the site."""
    coordinator = coordinator_in(store)
    for kind, data in [*RECORDS, *FURTHER]:
        coordinator.record(store, SUBJECT, kind, data)
    for code, records in OTHERS.items():
        for kind, data in records:
            coordinator.record(store, code, kind, data)


@pytest.fixture(scope="module")
def followed(followed_store: Store) -> dict[str, list[dict[str, str]]]:
    """The followed store's datasets, read back as rows."""
    subjects = load(followed_store, [SUBJECT, *OTHERS])
    return {name: table(content) for name, content in sdtm_datasets(subjects).items()}


# -- the files ------------------------------------------------------------------------------------


def test_the_datasets_are_the_five_sdtm_domains_as_crlf_utf8_csv_without_a_byte_order_mark(
    demo_store: Store,
) -> None:
    files = sdtm_datasets(load(demo_store, DEMO_CODES))

    # The demonstration records no performance status: its RS dataset is not written.
    assert list(files) == RULED_FILES
    for content in files.values():
        assert not content.startswith(b"\xef\xbb\xbf")
        assert content.endswith(b"\r\n")
        assert b"\n" not in content.replace(b"\r\n", b"")
        content.decode("utf-8")


def test_the_same_subjects_give_byte_identical_datasets_in_any_order_and_refolded(
    demo_store: Store,
) -> None:
    subjects = load(demo_store, DEMO_CODES)

    first = sdtm_datasets(subjects)

    assert sdtm_datasets(subjects) == first
    assert sdtm_datasets(list(reversed(subjects))) == first
    assert sdtm_datasets(load(demo_store, DEMO_CODES)) == first
    assert data_dictionary() == data_dictionary()


def test_the_same_records_give_the_same_bytes_on_either_backend(
    store: Store, followed_store: Store
) -> None:
    codes = [SUBJECT, *OTHERS]
    record_followed(store)

    assert sdtm_datasets(load(store, codes)) == sdtm_datasets(load(followed_store, codes))


def test_no_subjects_give_the_headers_alone() -> None:
    files = sdtm_datasets([])

    assert {name: content.count(b"\r\n") for name, content in files.items()} == dict.fromkeys(
        RULED_FILES, 1
    )


# -- the dictionary -------------------------------------------------------------------------------


def test_the_dictionary_lists_exactly_each_datasets_columns_in_order(demo_store: Store) -> None:
    files = sdtm_datasets(load(demo_store, DEMO_CODES))
    described = table(data_dictionary())

    assert [row["dataset"] for row in described if not row["variable"]] == FILES
    for name, content in files.items():
        listed = [
            row["variable"] for row in described if row["dataset"] == name and row["variable"]
        ]
        assert listed == header(content), name


def test_every_variable_in_the_dictionary_has_a_label_a_type_and_an_origin() -> None:
    described = [row for row in table(data_dictionary()) if row["variable"]]

    assert len(described) == sum(len(d.variables) for d in EVERY_DATASET)
    for row in described:
        assert row["label"] and len(row["label"]) <= 40, row
        assert row["type"] in {"Char", "Num"}, row
        assert row["origin"], row
        assert len(row["variable"]) <= 8, row


def test_the_dictionary_says_how_a_row_leads_to_its_signed_events() -> None:
    described = {(row["dataset"], row["variable"]): row for row in table(data_dictionary())}

    for name in ["EX.csv", "LB.csv", "AE.csv", "DS.csv"]:
        spid = described[(name, name[:2] + "SPID")]
        assert "entry" in spid["derivation"] and "version" in spid["derivation"]


def test_every_served_protocols_country_and_blood_count_analytes_have_sdtm_codes() -> None:
    for protocol in PROTOCOLS.values():
        assert protocol.country in ISO_3166_ALPHA_3
        assert set(protocol.labs) <= set(LAB_TESTS)


# -- the demonstration cohort ---------------------------------------------------------------------


def test_the_cohort_has_one_dm_row_per_screened_subject_with_usubjid_study_dash_subjid(
    demo: dict[str, list[dict[str, str]]],
) -> None:
    rows = demo["DM.csv"]

    assert [row["SUBJID"] for row in rows] == DEMO_CODES
    for row in rows:
        assert row["USUBJID"] == f"{row['STUDYID']}-{row['SUBJID']}"
        assert (row["COUNTRY"], row["AGEU"], row["ARMCD"], row["ACTARMCD"]) == (
            "BRA",
            "YEARS",
            "MSCATGCS",
            "MSCATGCS",
        )
    assert [row["SUBJID"] for row in rows if row["DTHFL"] == "Y"] == [
        "RP-02",
        "RP-04",
        "RP-06",
        "RP-07",
    ]


def test_every_row_of_every_dataset_belongs_to_a_subject_of_dm(
    demo: dict[str, list[dict[str, str]]],
) -> None:
    subjects = {row["USUBJID"] for row in demo["DM.csv"]}

    for name in RULED_FILES[1:]:
        assert {row["USUBJID"] for row in demo[name]} == subjects, name
        assert {row["STUDYID"] for row in demo[name]} == {STUDY}
        assert {row["DOMAIN"] for row in demo[name]} == {name[:2]}


def test_rows_are_sorted_by_subject_and_numbered_one_to_n_within_each(
    demo: dict[str, list[dict[str, str]]],
) -> None:
    for name in RULED_FILES[1:]:
        rows = demo[name]
        prefix = name[:2]
        assert [row["USUBJID"] for row in rows] == sorted(row["USUBJID"] for row in rows)
        for code in DEMO_CODES:
            mine = of(rows, code)
            assert [int(row[f"{prefix}SEQ"]) for row in mine] == list(range(1, len(mine) + 1))


def test_the_cohort_exposure_counts_every_rATG_dose_cyclosporine_interval_and_MSC_infusion(
    demo: dict[str, list[dict[str, str]]], demo_store: Store
) -> None:
    treatments = Counter(row["EXTRT"] for row in of(demo["EX.csv"], "RP-01"))

    assert treatments == {
        "ANTITHYMOCYTE GLOBULIN (RABBIT)": 5,
        "CYCLOSPORINE": 3,  # the start and two adjustments for troughs out of range
        "MESENCHYMAL STROMAL CELLS (ALLOGENEIC, BONE MARROW)": 4,
    }
    infusions = [row for row in demo["EX.csv"] if row["EXTRT"].startswith("MESENCHYMAL")]
    assert len(infusions) == 31  # as published
    assert all(row["EXLOT"] and row["EXROUTE"] == "INTRAVENOUS" for row in infusions)
    for subject in load(demo_store, DEMO_CODES):
        assert len(of(demo["EX.csv"], subject.subject_code)) == (
            len(subject.live(Subject.RatgDoseGiven))
            + len(subject.live(Subject.CyclosporineStarted, Subject.CyclosporineDoseAdjusted))
            + len(subject.infusions)
        )


def test_the_cohort_has_an_ae_row_per_adverse_event_and_its_ds_rows_per_disposition(
    demo: dict[str, list[dict[str, str]]], demo_store: Store
) -> None:
    for subject in load(demo_store, DEMO_CODES):
        assert len(of(demo["AE.csv"], subject.subject_code)) == len(subject.adverse_events())
    assert len(demo["AE.csv"]) == 31
    assert [row["DSDECOD"] for row in of(demo["DS.csv"], "RP-01")] == [
        "INFORMED CONSENT OBTAINED",
        "ENROLLED",
        "COMPLETED",
    ]
    assert [(row["DSDECOD"], row["DSCAT"]) for row in of(demo["DS.csv"], "RP-02")] == [
        ("INFORMED CONSENT OBTAINED", "PROTOCOL MILESTONE"),
        ("ENROLLED", "PROTOCOL MILESTONE"),
        ("DEATH", "DISPOSITION EVENT"),
        ("END OF STUDY", "PROTOCOL MILESTONE"),
    ]
    dispositions = Counter(
        row["DSDECOD"] for row in demo["DS.csv"] if row["DSCAT"] == "DISPOSITION EVENT"
    )
    assert dispositions == {"COMPLETED": 5, "DEATH": 4}


def test_a_fatal_adverse_event_is_grade_5_serious_with_death_and_ends_on_the_death(
    demo: dict[str, list[dict[str, str]]],
) -> None:
    fatal = [row for row in demo["AE.csv"] if row["AEOUT"] == "FATAL"]
    deaths = {row["USUBJID"]: row["DTHDTC"] for row in demo["DM.csv"] if row["DTHFL"] == "Y"}

    assert {row["USUBJID"] for row in fatal} == set(deaths)
    for row in fatal:
        assert (row["AETOXGR"], row["AESER"], row["AESDTH"]) == ("5", "Y", "Y")
        assert row["AEENDTC"] == deaths[row["USUBJID"]]


def test_the_cohorts_corrected_haemoglobin_shows_its_new_value_and_the_voided_duplicate_is_absent(
    demo: dict[str, list[dict[str, str]]], demo_store: Store
) -> None:
    rp02, rp05 = load(demo_store, ["RP-02", "RP-05"])
    [corrected] = [e for e in rp02.live(Subject.BloodCountRecorded) if e.corrected_by]
    [voided] = [e for e in rp05.entries.values() if not e.is_live]
    correction = rp02.entries[corrected.corrected_by[0]]
    old = correction["changes"]["results"]["old"]["haemoglobin"]
    new = corrected["results"]["haemoglobin"]

    [row] = [
        row
        for row in of(demo["LB.csv"], "RP-02")
        if row["LBTESTCD"] == "HGB" and row["LBSPID"].split(";")[0] == str(corrected.version)
    ]
    assert row["LBORRES"] == row["LBSTRESN"] == str(new.value) == "7.6"
    assert str(old.value) == "76"  # as first entered, without its decimal point
    assert row["LBSPID"] == f"{corrected.version};{correction.version}"
    assert voided.kind == "BloodCountRecorded"
    spids = {row["LBSPID"].split(";")[0] for row in of(demo["LB.csv"], "RP-05")}
    assert str(voided.version) not in spids
    assert len(of(demo["LB.csv"], "RP-05")) == sum(
        len(e["results"]) for e in rp05.live(Subject.BloodCountRecorded)
    ) + len(rp05.live(Subject.CyclosporineTroughMeasured))


def test_every_spid_names_live_entries_of_the_subject_whose_first_is_of_the_datasets_kinds(
    demo: dict[str, list[dict[str, str]]], demo_store: Store
) -> None:
    kinds = {
        "EX.csv": {
            "RatgDoseGiven",
            "CyclosporineStarted",
            "CyclosporineDoseAdjusted",
            "MscInfusionGiven",
        },
        "LB.csv": {"BloodCountRecorded", "CyclosporineTroughMeasured"},
        "AE.csv": {"AdverseEventReported"},
        "DS.csv": {
            "ConsentObtained",
            "Enrolled",
            "ScreenFailed",
            "SubjectWithdrawn",
            "SubjectDied",
            "EndOfStudyRecorded",
        },
    }
    subjects = {usubjid(s): s for s in load(demo_store, DEMO_CODES)}
    for name, expected in kinds.items():
        for row in demo[name]:
            subject = subjects[row["USUBJID"]]
            entries = [subject.entries[int(v)] for v in row[f"{name[:2]}SPID"].split(";")]
            assert entries[0].kind in expected, row
            assert all(e.is_live for e in entries), row


def test_a_trough_off_target_is_flagged_low_or_high_and_one_on_target_normal(
    demo: dict[str, list[dict[str, str]]],
) -> None:
    troughs = [row for row in of(demo["LB.csv"], "RP-01") if row["LBTESTCD"] == "CYCLOSPR"]
    by_value = {row["LBORRES"]: row["LBNRIND"] for row in troughs}

    assert (by_value["121"], by_value["281"]) == ("LOW", "HIGH")
    assert Counter(by_value.values())["NORMAL"] == len(by_value) - 2
    assert {(row["LBORNRLO"], row["LBORNRHI"], row["LBTPT"]) for row in troughs} == {
        ("150", "250", "TROUGH")
    }


# -- the followed subject -------------------------------------------------------------------------


def test_a_corrected_count_shows_its_new_value_and_names_its_correction(
    followed: dict[str, list[dict[str, str]]],
) -> None:
    [row] = [
        row
        for row in of(followed["LB.csv"], SUBJECT)
        if row["LBTESTCD"] == "HGB" and row["LBDTC"] == "2011-03-14"
    ]

    assert (row["LBORRES"], row["LBORRESU"], row["LBNRIND"]) == ("7.1", "g/dL", "LOW")
    assert row["LBSPID"] == f"{CORRECTED_ENTRY};19"


def test_a_voided_count_has_no_lb_row(followed: dict[str, list[dict[str, str]]]) -> None:
    rows = of(followed["LB.csv"], SUBJECT)

    assert not [row for row in rows if row["LBDTC"] == "2011-04-04"]
    assert not [row for row in rows if row["LBSPID"].split(";")[0] == str(VOIDED_COUNT)]
    assert len(rows) == 3 * 4 + 1  # three live counts of four analytes, one trough


def test_an_adverse_event_row_shows_it_after_its_follow_up_and_its_correction(
    followed: dict[str, list[dict[str, str]]],
) -> None:
    first, second = of(followed["AE.csv"], SUBJECT)

    assert (first["AEREFID"], first["AESPID"], first["AESTDTC"], first["AEENDTC"]) == (
        "AE-01",
        "16;22",
        "2011-03-25",
        "2011-04-02",
    )
    assert (first["AESER"], first["AESHOSP"], first["AESLIFE"], first["AEOUT"]) == (
        "Y",
        "Y",
        "N",
        "RECOVERED/RESOLVED",
    )
    assert (first["AETOXGR"], first["AEREL"], first["AEDECOD"]) == ("3", "UNLIKELY", "")
    assert (second["AEREFID"], second["AETOXGR"], second["AESPID"]) == (
        "AE-02",
        "2",
        f"23;{AE_CORRECTION}",
    )
    assert (second["AESER"], second["AESHOSP"]) == ("N", "N")


def test_cyclosporine_is_one_row_per_dosing_interval_ended_by_the_next_adjustment(
    followed: dict[str, list[dict[str, str]]],
) -> None:
    rows = [row for row in of(followed["EX.csv"], SUBJECT) if row["EXTRT"] == "CYCLOSPORINE"]

    assert [
        (r["EXDOSE"], r["EXDOSU"], r["EXSTDTC"], r["EXENDTC"], r["EXSPID"], r["EXADJ"])
        for r in rows
    ] == [
        ("5", "mg/kg/day", "2011-02-22", "2011-04-05", f"11;{ADJUSTMENT}", ""),
        ("4", "mg/kg/day", "2011-04-06", "", str(ADJUSTMENT), "trough 290 ng/mL above the target"),
    ]
    assert {row["EXROUTE"] for row in rows} == {"ORAL"}


def test_an_msc_infusion_starts_at_the_sites_local_time_and_ends_on_its_day(
    followed: dict[str, list[dict[str, str]]],
) -> None:
    first = next(r for r in of(followed["EX.csv"], SUBJECT) if r["EXLOT"] == "MSC-2011-014")

    # 13:30 UTC is 10:30 in Ribeirão Preto (UTC-3 in March 2011).
    assert (first["EXSTDTC"], first["EXENDTC"], first["EXDOSE"], first["EXDOSU"]) == (
        "2011-03-10T10:30:00",
        "2011-03-10",
        "2.7",
        "10^6 cells/kg",
    )
    assert (first["EXDOSFRM"], first["EXSPID"]) == ("SUSPENSION", "12")


def test_dm_reference_dates_follow_the_first_infusion_the_first_dose_consent_and_the_end(
    followed: dict[str, list[dict[str, str]]],
) -> None:
    [row] = of(followed["DM.csv"], SUBJECT)

    assert (row["RFSTDTC"], row["RFXSTDTC"], row["RFICDTC"], row["RFENDTC"]) == (
        "2011-03-10T10:30:00",
        "2011-02-22",
        "2011-02-14",
        "2011-04-10",
    )
    assert (row["DTHDTC"], row["DTHFL"], row["SEX"], row["AGE"], row["SITEID"]) == (
        "",
        "",
        "F",
        "34",
        "RP",
    )
    assert row["RFXENDTC"] == "2011-04-06"  # the open cyclosporine interval's start


def test_arms_tell_screen_failures_subjects_not_yet_enrolled_and_never_treated_apart(
    followed: dict[str, list[dict[str, str]]],
) -> None:
    arms = {
        row["SUBJID"]: (row["ARMCD"], row["ACTARMCD"], row["RFSTDTC"], row["RFENDTC"])
        for row in followed["DM.csv"]
    }

    assert arms == {
        "RP-01": ("MSCATGCS", "MSCATGCS", "2011-03-10T10:30:00", "2011-04-10"),
        "RP-02": ("SCRNFAIL", "SCRNFAIL", "", ""),
        "RP-03": ("NOTASSGN", "NOTASSGN", "", ""),
        "RP-04": ("MSCATGCS", "NOTTRT", "2011-03-10", ""),
    }
    assert [row["RFICDTC"] for row in followed["DM.csv"]] == [
        "2011-02-14",
        "",
        "2011-03-07",
        "2011-03-07",
    ]


def test_disposition_counts_a_withdrawal_once_and_its_end_of_study_as_a_milestone(
    followed: dict[str, list[dict[str, str]]],
) -> None:
    rows = [
        (r["DSSEQ"], r["DSSPID"], r["DSTERM"], r["DSDECOD"], r["DSCAT"], r["DSSTDTC"])
        for r in followed["DS.csv"]
    ]

    assert rows == [
        (
            "1",
            "2",
            "INFORMED CONSENT OBTAINED, TCLE VERSION 2.0",
            "INFORMED CONSENT OBTAINED",
            "PROTOCOL MILESTONE",
            "2011-02-14",
        ),
        ("2", "4", "ENROLLED", "ENROLLED", "PROTOCOL MILESTONE", "2011-02-21"),
        (
            "3",
            str(WITHDRAWAL),
            "moved to another state",
            "WITHDRAWAL BY SUBJECT",
            "DISPOSITION EVENT",
            "2011-04-10",
        ),
        (
            "4",
            str(END),
            "END OF STUDY: WITHDRAWAL",
            "END OF STUDY",
            "PROTOCOL MILESTONE",
            "2011-04-10",
        ),
        ("1", "2", "age above 65", "SCREEN FAILURE", "DISPOSITION EVENT", "2011-03-02"),
        (
            "1",
            "2",
            "INFORMED CONSENT OBTAINED, TCLE VERSION 2.0",
            "INFORMED CONSENT OBTAINED",
            "PROTOCOL MILESTONE",
            "2011-03-07",
        ),
        (
            "1",
            "2",
            "INFORMED CONSENT OBTAINED, TCLE VERSION 2.0",
            "INFORMED CONSENT OBTAINED",
            "PROTOCOL MILESTONE",
            "2011-03-07",
        ),
        ("2", "4", "ENROLLED", "ENROLLED", "PROTOCOL MILESTONE", "2011-03-10"),
    ]


def test_subjects_never_treated_have_no_exposure_laboratory_or_adverse_event_rows(
    followed: dict[str, list[dict[str, str]]],
) -> None:
    for name in ["EX.csv", "LB.csv", "AE.csv"]:
        assert {row["USUBJID"] for row in followed[name]} == {f"{STUDY}-{SUBJECT}"}, name
