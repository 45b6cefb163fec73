"""A performance status (ECOG 0-4, Karnofsky 0-100): the record kind issue 17 adds as one
declaration (``domain/subject/disposition.py``) and the protocol's visits.

It is recorded through the API as every kind is, refused as problem+json when its values cannot
be, and appears in the OpenAPI document, in the ODM archive (valid against the official XSD), in
the SDTM RS dataset and its dictionary, and in the audit trail; who assessed is the signer.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.subject import Subject, subject_stream
from domain.subject.disposition import PerformanceStatusRecorded
from infrastructure.bootstrap import Store
from projections.audit_trail import audit_rows
from projections.odm import check_odm_schema, odm_document
from projections.sdtm import data_dictionary, sdtm_datasets
from tests.conftest import STUDY, Person, PersonFactory, consent, screening
from tests.e2e.conftest import Site
from tests.e2e.test_api import assert_problem
from tests.projections.test_odm import whole_log

KIND = PerformanceStatusRecorded.kind()
SUBJECT = "RP-101"
NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}


def status(scale: str = "ECOG", score: int = 1, month: int = 0, **overrides: Any) -> dict[str, Any]:
    """The data of a performance status (at screening, by default)."""
    on = {0: "2011-02-15", 3: "2011-05-16", 6: "2011-08-15"}.get(month, "2011-03-15")
    return {"month": month, "scale": scale, "score": score, "assessed_on": on, **overrides}


@pytest.fixture
def ana(store: Store, person_in: PersonFactory) -> Person:
    """A coordinator of site RP, who assesses."""
    return person_in(store, "coord1", printed_name="Ana Souza", sites=("RP",))


@pytest.fixture
def consented(site: Site, ana: Person) -> Site:
    """Subject RP-101 screened and consented."""
    for kind, data in (
        (Subject.Screened.kind(), screening()),
        (Subject.ConsentObtained.kind(), consent()),
    ):
        assert site.submit(ana, kind, data).status_code == 201
    return site


@pytest.fixture
def assessed(consented: Site, ana: Person) -> Site:
    """Both scales at screening (entries 3, 4) and ECOG at month 3 (entry 5)."""
    for data in (status(), status("KARNOFSKY", 80), status(score=2, month=3)):
        assert consented.submit(ana, KIND, data).status_code == 201
    return consented


def test_a_performance_status_on_either_scale_at_a_scheduled_visit_is_recorded(
    assessed: Site, ana: Person
) -> None:
    history = assessed.client.get(
        f"/v1/studies/{STUDY}/subjects/{SUBJECT}/history", headers=assessed.auth(ana)
    ).get_json()

    assert [entry["kind"] for entry in history][2:] == [KIND, KIND, KIND]
    assert history[3]["data"] == status("KARNOFSKY", 80)


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (status(score=5), "the ECOG scale runs 0-4, not 5"),
        (status("KARNOFSKY", 85), "the KARNOFSKY scale runs 0-100 in steps of 10, not 85"),
        (status("KARNOFSKY", 110), "not 110"),
        (status(month=2), "performance status is assessed at months 0, 3, 6, not month 2"),
        (status("ZUBROD"), "data"),
        (status(score="1"), "data"),
        (status(assessed_on="2011-02-30"), "data"),
    ],
)
def test_a_status_no_scale_or_visit_allows_is_refused_as_a_problem(
    consented: Site, ana: Person, data: dict[str, Any], detail: str
) -> None:
    refused = consented.submit(ana, KIND, data)

    problem = assert_problem(refused, 422)
    assert detail in str(problem), problem


def test_a_second_status_on_one_scale_at_one_visit_is_refused(assessed: Site, ana: Person) -> None:
    refused = assessed.submit(ana, KIND, status(score=0))

    assert_problem(refused, 422, detail="the month-0 ECOG status is recorded (entry 3)")


def test_the_openapi_document_offers_the_kind(site: Site) -> None:
    document = site.client.get("/openapi.json").get_json()

    kinds = document["components"]["schemas"]["SignedBody"]["properties"]["kind"]["enum"]
    assert KIND in kinds


def test_the_odm_archive_holds_its_form_items_and_code_list_and_is_valid(
    assessed: Site,
) -> None:
    document = odm_document(
        whole_log(assessed.store), study=STUDY, created_at=datetime(2026, 12, 3, tzinfo=UTC)
    )

    check_odm_schema(document)
    metadata = ET.fromstring(document).find("odm:Study/odm:MetaDataVersion", NS)
    assert metadata is not None
    group = metadata.find(f"odm:ItemGroupDef[@OID='IG.{KIND}']", NS)
    assert group is not None
    assert [
        (r.attrib["ItemOID"], r.attrib["Mandatory"]) for r in group.findall("odm:ItemRef", NS)
    ] == [(f"IT.{KIND}.{name}", "Yes") for name in ("month", "scale", "score", "assessed_on")]
    scale = metadata.find(f"odm:ItemDef[@OID='IT.{KIND}.scale']", NS)
    assert scale is not None
    assert scale.attrib["DataType"] == "text"
    code_list = scale.find("odm:CodeListRef", NS)
    assert code_list is not None and code_list.attrib["CodeListOID"] == "CL.PerformanceScale"
    codes = metadata.findall("odm:CodeList[@OID='CL.PerformanceScale']/odm:CodeListItem", NS)
    assert [code.attrib["CodedValue"] for code in codes] == ["ECOG", "KARNOFSKY"]
    inserted = ET.fromstring(document).findall(
        f".//odm:FormData[@FormOID='F.{KIND}']/odm:ItemGroupData/odm:ItemData", NS
    )
    assert [(d.attrib["ItemOID"].rsplit(".", 1)[1], d.attrib["Value"]) for d in inserted[:4]] == [
        ("month", "0"),
        ("scale", "ECOG"),
        ("score", "1"),
        ("assessed_on", "2011-02-15"),
    ]


def rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


def test_the_sdtm_rs_dataset_has_a_row_per_status_in_cdisc_terms(assessed: Site) -> None:
    subject = assessed.store.app.find_subject(subject_stream(STUDY, SUBJECT))
    assert subject is not None

    written = rows(sdtm_datasets([subject])["RS.csv"])

    assert [
        {name: row[name] for name in ("RSSEQ", "RSSPID", "RSTESTCD", "RSTEST", "RSCAT")}
        for row in written
    ] == [
        {
            "RSSEQ": "1",
            "RSSPID": "3",
            "RSTESTCD": "ECOG101",
            "RSTEST": "ECOG1-Performance Status",
            "RSCAT": "ECOG",
        },
        {
            "RSSEQ": "2",
            "RSSPID": "4",
            "RSTESTCD": "KPS101",
            "RSTEST": "KPS1-Karnofsky Performance Status",
            "RSCAT": "KARNOFSKY",
        },
        {
            "RSSEQ": "3",
            "RSSPID": "5",
            "RSTESTCD": "ECOG101",
            "RSTEST": "ECOG1-Performance Status",
            "RSCAT": "ECOG",
        },
    ]
    assert [
        (row["RSORRES"], row["RSSTRESC"], row["RSSTRESN"], row["VISITNUM"], row["RSDTC"])
        for row in written
    ] == [
        ("1", "1", "1", "0", "2011-02-15"),
        ("80", "80", "80", "0", "2011-02-15"),
        ("2", "2", "2", "3", "2011-05-16"),
    ]
    assert {row["USUBJID"] for row in written} == {f"{STUDY}-{SUBJECT}"}
    assert {row["DOMAIN"] for row in written} == {"RS"}
    # A domain nothing was recorded for is not submitted.
    assert "RS.csv" not in sdtm_datasets([])


def test_the_data_dictionary_describes_the_rs_dataset_from_the_declaration() -> None:
    described = {
        row["variable"]: row for row in rows(data_dictionary()) if row["dataset"] == "RS.csv"
    }

    assert described[""]["origin"] == "SDTMIG 3.3 domain RS"
    assert described["RSTESTCD"]["controlled_terms_or_units"] == "ECOG101, KPS101"
    assert described["RSTESTCD"]["label"] == "Assessment Short Name"
    assert described["RSORRES"]["origin"] == f"{KIND}: score"
    assert described["VISITNUM"]["origin"] == f"{KIND}: month"
    assert described["RSDTC"]["controlled_terms_or_units"] == "ISO 8601"


def test_the_audit_trail_shows_each_field_created_by_the_assessor(assessed: Site) -> None:
    events = [
        (position, event)
        for position, event in whole_log(assessed.store)
        if isinstance(event, Subject.Event)
    ]

    trail = [row for row in audit_rows(events) if row.kind == KIND and row.entry == 3]

    assert [(row.field, row.old, row.new) for row in trail] == [
        ("month", None, 0),
        ("scale", None, "ECOG"),
        ("score", None, 1),
        ("assessed_on", None, "2011-02-15"),
    ]
    assert {(row.action, row.printed_name, row.user_id) for row in trail} == {
        ("created", "Ana Souza", "coord1")
    }


def score_corrected(new: int, entry: int = 3, old: int = 1) -> dict[str, Any]:
    """The data of a correction of a performance status's score."""
    return {
        "entry": entry,
        "entry_kind": KIND,
        "changes": {"score": {"old": old, "new": new}},
        "reason": "transcription error",
    }


def test_a_correction_is_held_to_the_scale_as_a_new_status_is(assessed: Site, ana: Person) -> None:
    corrected = Subject.EntryCorrected.kind()

    refused = assessed.submit(ana, corrected, score_corrected(5))
    assert_problem(refused, 422, detail="the ECOG scale runs 0-4, not 5")
    assert assessed.submit(ana, corrected, score_corrected(0)).status_code == 201


def test_a_correction_onto_a_visit_already_assessed_on_that_scale_is_refused(
    assessed: Site, ana: Person
) -> None:
    moved = {
        "entry": 5,
        "entry_kind": KIND,
        "changes": {
            "month": {"old": 3, "new": 0},
            "assessed_on": {"old": "2011-05-16", "new": "2011-02-15"},
        },
        "reason": "recorded under the wrong visit",
    }

    refused = assessed.submit(ana, Subject.EntryCorrected.kind(), moved)

    assert_problem(refused, 422, detail="the month-0 ECOG status is recorded (entry 3)")
