"""The CONEP documents' content: pure functions of folded subjects."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.errors import AdverseEventNotFound, SeriousnessCriterionMissing
from domain.protocol import protocol_for
from domain.subject import Subject
from infrastructure.bootstrap import Store
from projections.conep.document import value_text
from projections.conep.notification import parse_event_id, sae_notification
from projections.conep.progress import progress_report
from tests.reports.conftest import SUBJECT

REPORT_DATE = date(2011, 4, 10)


def subject(store: Store, code: str = SUBJECT) -> Subject:
    found = store.app.find_subject(f"NCT01297972/{code}")
    assert found is not None
    return found


def field(document: dict[str, Any], name: str) -> str:
    """The value of the field whose label starts with ``name`` (Portuguese / English)."""
    for section in document["sections"]:
        for item in section["fields"]:
            if item["label"].startswith(name):
                return str(item["value"])
    raise AssertionError(f"no field {name!r}")


def table(document: dict[str, Any], title: str) -> dict[str, Any]:
    for section in document["sections"]:
        for each in section["tables"]:
            if each["title"].startswith(title):
                return dict(each)
    raise AssertionError(f"no table {title!r}")


def test_an_event_is_named_subject_slash_adverse_event_optionally_after_the_study() -> None:
    assert parse_event_id("RP-03/AE-02") == (None, "RP-03", "AE-02")
    assert parse_event_id("NCT01297972/RP-03/AE-02") == ("NCT01297972", "RP-03", "AE-02")
    with pytest.raises(AdverseEventNotFound):
        parse_event_id("RP-03")
    with pytest.raises(AdverseEventNotFound):
        parse_event_id("RP-03/")


def test_the_notification_carries_the_cioms_elements(followed: Store) -> None:
    document = sae_notification(subject(followed), "AE-01", report_date=REPORT_DATE)
    data = document["data"]

    assert (data["country"], data["subject"], data["age"], data["sex"]) == ("BR", SUBJECT, 34, "F")
    assert (data["onset_on"], data["learned_on"]) == ("2011-03-25", "2011-03-26")
    assert data["seriousness"] == ["hospitalisation"]
    assert data["report_date"] == "2011-04-10"
    # The follow-up applied: recovered, with an end date.
    assert (data["outcome"], data["resolved_on"]) == ("recovered", "2011-04-02")
    assert field(document, "País / Country") == "Brasil / Brazil"
    assert "Hospitalização" in field(document, "Critérios de gravidade")
    assert field(document, "Patrocinador / Sponsor").startswith("Hospital das Clínicas")
    assert field(document, "Fonte do relato / Report source").startswith("Estudo clínico / Study")
    assert "Febrile neutropenia" in field(document, "Descrição / Description")


def test_each_suspect_product_has_lot_dose_route_and_dates(followed: Store) -> None:
    document = sae_notification(subject(followed), "AE-01", report_date=REPORT_DATE)
    rows = table(document, "Produtos / Products")["rows"]

    msc = [r for r in rows if r[0].startswith("MSC")]
    assert [r[1] for r in msc] == ["MSC-2011-014 / UD-01", "MSC-2011-015 / UD-01"]
    assert all(r[2] == "2.7 10^6 cells/kg" and "intravenous" in r[3] for r in msc)
    (ratg,) = [r for r in rows if r[0] == "rATG"]
    assert ratg[4] == "2011-02-22 a / to 2011-02-26" and ratg[5].startswith("5 ")
    assert ratg[6] == "possible"
    (cyclosporine,) = [r for r in rows if r[0].startswith("Ciclosporina")]
    assert cyclosporine[3] == "oral / oral" and "ongoing" in cyclosporine[4]


def test_lab_data_and_concomitant_therapy_read_the_corrected_record_without_voids(
    followed: Store,
) -> None:
    document = sae_notification(subject(followed), "AE-01", report_date=REPORT_DATE)
    labs = table(document, "Exames relevantes")["rows"]

    assert [(r[0], r[1]) for r in labs] == [("2011-03-14", "7.1"), ("2011-03-28", "7.4")]
    concomitant = field(document, "Medicamentos concomitantes")
    assert "Red cells 2" in concomitant
    assert "Platelets" not in concomitant  # the platelet transfusion was voided


def test_a_recorded_notification_makes_the_report_a_follow_up_unless_told(followed: Store) -> None:
    folded = subject(followed)

    assert sae_notification(folded, "AE-01", report_date=REPORT_DATE)["data"]["follow_up"]
    initial = sae_notification(folded, "AE-01", report_date=REPORT_DATE, follow_up=False)
    assert not initial["data"]["follow_up"]
    assert field(initial, "Tipo de relato / Report type") == "Inicial / Initial"


def test_only_a_serious_adverse_event_that_exists_is_notified(followed: Store) -> None:
    folded = subject(followed)

    with pytest.raises(SeriousnessCriterionMissing):
        sae_notification(folded, "AE-02", report_date=REPORT_DATE)
    with pytest.raises(AdverseEventNotFound):
        sae_notification(folded, "AE-09", report_date=REPORT_DATE)


def test_the_progress_report_counts_the_cohort_with_bilingual_labels(followed: Store) -> None:
    cohort = [subject(followed), subject(followed, "RP-02")]

    document = progress_report(protocol_for("NCT01297972"), cohort, report_date=REPORT_DATE)
    data = document["data"]

    assert (data["recruited"], data["included"], data["screen_failures"]) == (2, 1, 1)
    assert (data["withdrawn"], data["completed"], data["deaths"]) == (0, 0, 0)
    assert (data["serious_adverse_events"], data["deviations"]) == (1, 1)
    assert field(document, "CAAE / número CONEP") == "CONEP 16119"
    assert field(document, "Recrutados (triados) / Recruited (screened)") == "2"
    assert field(document, "Incluídos (arrolados) / Included (enrolled)") == "1"
    assert field(document, "Óbitos / Deaths") == "0"
    assert document["title"].startswith("Relatório parcial / Partial report")
    (sae,) = table(document, "Eventos adversos graves")["rows"]
    assert sae[0] == f"{SUBJECT}/AE-01" and "CONEP 2011-03-30" in sae[6]
    (failure,) = table(document, "Falhas de triagem")["rows"]
    assert failure[2] == "age above 65"


def test_the_final_report_says_so(followed: Store) -> None:
    document = progress_report(
        protocol_for("NCT01297972"), [subject(followed)], report_date=REPORT_DATE, final=True
    )

    assert document["title"].startswith("Relatório final / Final report")
    assert document["data"]["final"] is True


def test_a_value_a_follow_up_cleared_reads_as_a_dash() -> None:
    # resolved_on cleared by a follow-up (the event recurred): "resolved_on=-", not "None".
    assert value_text(None) == "-"
    assert value_text("2011-03-19") == "2011-03-19"
