"""The pages' charts: a subject's blood counts and cyclosporine troughs as SVG, drawn by the same
code as the documents' PNG, with the protocol's thresholds, and the same bytes every time."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from domain.subject import Subject
from domain.subject_facts import trough_levels
from infrastructure.documents import charts
from tests.unit.subjects import blood_count, infusion, on_cyclosporine, q, transfusion, trough

SVG = "{http://www.w3.org/2000/svg}"

pytestmark = pytest.mark.usefixtures("someone_signs")


def treated() -> Subject:
    """On cyclosporine, infused once, two counts, a transfusion and two troughs (one voided)."""
    subject = on_cyclosporine()
    subject.record_blood_count(**blood_count(date(2011, 3, 1)))
    subject.give_transfusion(**transfusion())
    subject.give_msc_infusion(**infusion())
    subject.record_blood_count(
        **blood_count(
            date(2011, 4, 1),
            haemoglobin=q("8.4", "g/dL"),
            neutrophils=q("0.9", "10^9/L"),
            platelets=q("31", "10^9/L"),
        )
    )
    subject.record_cyclosporine_trough(**trough("180"))
    subject.record_cyclosporine_trough(**{**trough("999"), "collected_on": date(2011, 3, 8)})
    subject.void_entry(
        entry=subject.version,
        entry_kind="CyclosporineTroughMeasured",
        reason="sample taken after the dose",
    )
    subject.record_cyclosporine_trough(**{**trough("260"), "collected_on": date(2011, 3, 15)})
    return subject


def texts(svg: str) -> list[str]:
    """The text of every text element of the SVG (its labels, ticks and legends)."""
    return ["".join(t.itertext()) for t in ET.fromstring(svg).iter(f"{SVG}text")]


def test_the_blood_count_svg_is_the_same_bytes_for_the_same_records() -> None:
    subject = treated()

    first, second = charts.blood_count_svg(subject), charts.blood_count_svg(subject)

    assert first == second
    assert "<dc:date>" not in first
    assert ET.fromstring(first).tag == f"{SVG}svg"


def test_the_blood_count_svg_draws_the_complete_response_thresholds_and_the_markers() -> None:
    drawn = texts(charts.blood_count_svg(treated()))

    assert drawn.count("resposta completa / complete response") == 3
    assert drawn.count("infusão de MSC / MSC infusion") == 3
    assert "transfusão / transfusion (red_cells)" in drawn
    assert "Hemoglobina / Haemoglobin (g/dL)" in drawn
    assert "NCT01297972 RP-101" in " ".join(drawn)


def test_the_documents_chart_draws_no_response_threshold() -> None:
    # The PNG of the PDFs is as it was: only the web's SVG adds the response lines.
    subject = treated()
    assert b"complete response" not in charts.blood_count_chart(subject, dpi=20)


def test_the_trough_svg_shades_the_protocols_target_and_leaves_a_voided_level_out() -> None:
    subject = treated()

    svg = charts.trough_svg(subject)

    assert [level for _, _, level in trough_levels(subject)] == [180, 260]
    assert "alvo / target 150-250 ng/mL" in texts(svg)
    assert "Ciclosporina, vale / trough (ng/mL)" in texts(svg)
    assert svg == charts.trough_svg(subject)
    assert charts.has_troughs(subject) and not charts.has_troughs(on_cyclosporine())
