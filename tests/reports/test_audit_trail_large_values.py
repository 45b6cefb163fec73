"""The audit trail's PDF draws the largest values the store accepts: a casebook signature over
hundreds of records (summarised in its row, the records listed in the CSV and JSON), free text
of the longest length, as many lines as it may hold, corrected from one such text to another,
with the longest reason and printed name. A table row taller than a page made reportlab raise
``LayoutError``, so ``sealtrail report audit-trail --format pdf`` and the packet failed.

Real store (SQLite), real keys, signed through the API (the Flask app) and the console.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from domain.account import Role
from infrastructure.bootstrap import Store
from infrastructure.documents import pdf
from infrastructure.identity.sponsor_key import open_sponsor_account
from infrastructure.packets.build import build_packet
from infrastructure.packets.verify import verify_packet
from tests.access.conftest import Clock, make_person, with_access
from tests.access.test_casebook_signing_api import Casebook
from tests.access.test_record_signing_api import signed
from tests.e2e.conftest import SUBJECT
from tests.reports.conftest import report
from tests.reports.test_documents import page_texts

LONGEST_TEXT = 500
"""Free text's longest length (a record's text item, a reason), api/schemas/fields.py Text."""


def audit_trail(store: Store, tmp_path: Path, form: str) -> bytes:
    """``sealtrail report audit-trail`` of the subject in ``form``, as the console writes it."""
    out = tmp_path / f"trail.{form}"
    done = report(store, "audit-trail", "--subject", SUBJECT, "--format", form, "--out", str(out))
    assert done.exit_code == 0, done.output
    return out.read_bytes()


def flat(pdf: bytes) -> str:
    """The PDF's text, its lines joined (a long value wraps)."""
    return re.sub(r"\s+", "", "".join(page_texts(pdf)))


@pytest.fixture
def casebook(sqlite_store: Store) -> Casebook:
    return Casebook(with_access(sqlite_store, Clock()))


def test_a_casebook_signature_over_300_records_is_summarised_in_the_pdf(
    casebook: Casebook, tmp_path: Path
) -> None:
    casebook.follow_up(296)  # entries 4-299
    casebook.leave_the_study()  # entry 300
    state_hash = casebook.subject().chain_head
    signed(casebook.sign_casebook("end_of_study"))

    pdf = audit_trail(casebook.store, tmp_path, "pdf")
    table = audit_trail(casebook.store, tmp_path, "csv").decode("utf-8-sig")

    text = flat(pdf)
    assert "casebooksignedatend_of_study" in text
    assert f"statehash{state_hash}" in text
    assert "responsibilityof300records,entries1to300" in text
    assert "#301CasebookSigned" in text
    rows = [line for line in csv.DictReader(io.StringIO(table)) if line["action"] == "signed"]
    assert [int(row["entry"]) for row in rows] == list(range(1, 301))


def test_a_signature_over_a_few_records_still_lists_each_record_hash(
    casebook: Casebook, tmp_path: Path
) -> None:
    casebook.leave_the_study()
    record_hash = casebook.subject().entries[3].record_hash
    signed(casebook.sign_casebook("end_of_study"))

    text = flat(audit_trail(casebook.store, tmp_path, "pdf"))

    assert f"electronicsignature:∅→responsibilityofrecord{record_hash}" in text
    assert "casebooksignedat" not in text


def test_the_packet_of_a_store_with_a_large_casebook_signature_verifies_its_pdfs(
    casebook: Casebook,
) -> None:
    casebook.follow_up(200)
    casebook.leave_the_study()
    signed(casebook.sign_casebook("end_of_study"))
    open_sponsor_account(casebook.store.administration, casebook.store.settings)

    report = verify_packet(build_packet(casebook.store))

    assert report.findings == []
    assert report.documents_redrawn


def test_the_longest_free_text_and_reason_the_store_takes_print(
    casebook: Casebook, tmp_path: Path
) -> None:
    # As many lines as a multi-line text holds, corrected to another such text; the longest
    # reason and printed name, of the widest letter, unbroken.
    lines = "first" + "\n" * (LONGEST_TEXT - 9) + "last"
    other = "start" + "\n" * (LONGEST_TEXT - 8) + "end"
    wide = "W" * LONGEST_TEXT
    longest_name = "M" * 200
    site = casebook.site
    writer = make_person(
        casebook.store,
        "coord2",
        role=Role.SITE_COORDINATOR,
        sites=("RP",),
        printed_name=longest_name,
    )
    deviation = {
        "occurred_on": "2011-02-21",
        "category": "other",
        "description": lines,
        "major": False,
    }
    assert site.submit(writer, "ProtocolDeviationRecorded", deviation).status_code == 201
    correction = {
        "entry": 4,
        "entry_kind": "ProtocolDeviationRecorded",
        "changes": {"description": {"old": lines, "new": other}},
        "reason": wide,
    }
    corrected = site.submit(writer, "EntryCorrected", correction)
    assert corrected.status_code == 201, corrected.get_data(as_text=True)

    text = flat(audit_trail(casebook.store, tmp_path, "pdf"))

    for each in ("first", "last", "start", "end", wide, longest_name):
        assert each in text


def test_a_cell_taller_than_a_page_is_continued_on_the_rows_below() -> None:
    tall = "\n".join(f"line {n}" for n in range(1, 401))
    document = pdf.Document(title="Tall cells", subtitle="every kind of table")
    document.blocks += [
        pdf.Fields([("Short", "a value"), ("Tall", tall)]),
        pdf.Grid(columns=["Pos.", "What"], rows=[["1", "short"], ["2", tall], ["3", "after"]]),
        pdf.Grid(columns=["Pos.", "What"], rows=[["4", pdf.Summarised(tall, "400 lines")]]),
    ]

    pages = page_texts(pdf.render(document))

    text = "\n".join(pages)
    assert len(pages) > 4
    assert text.count("line 400") == 2  # the Fields value and the grid's, each to its end
    assert "(cont.)" in text
    assert "after" in text
    assert "400 lines" in text  # the summary, where the whole would not fit
