"""The SDTM mapping is read from the record kinds' declarations (issue 17): a kind's name is
written once, in its declaration, and every ``Sdtm(...)`` a kind declares reaches a dataset
and the data dictionary's origin of its variable.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from domain.subject.measurements import BloodCountRecorded
from domain.subject.treatment import CyclosporineTroughMeasured, MscInfusionGiven
from projections.sdtm import EVERY_DATASET, data_dictionary
from projections.sdtm import lb as laboratory
from projections.sdtm.declared import declared_origin, origin, sources, with_declared
from projections.sdtm.dictionary import Dataset
from projections.sdtm.values import declared_rows, declared_values
from tests.unit.subjects import (
    CELLS,
    blood_count,
    infusion,
    on_cyclosporine,
    q,
    signed_by_someone,
    trough,
)

SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def described() -> dict[tuple[str, str], dict[str, str]]:
    rows = csv.DictReader(io.StringIO(data_dictionary().decode("utf-8"), newline=""))
    return {(row["dataset"], row["variable"]): row for row in rows}


@pytest.mark.parametrize("dataset", EVERY_DATASET, ids=lambda d: d.domain)
def test_every_item_a_kind_maps_to_a_dataset_is_a_column_whose_origin_names_it(
    dataset: Dataset,
) -> None:
    dictionary = described()
    declared = sources(dataset.domain)

    assert declared, f"no record kind declares an item mapping to {dataset.domain}"
    for source in declared:
        assert source.mapping.variable in dataset.columns, source.origin
        row = dictionary[(dataset.file_name, source.mapping.variable)]
        assert source.item.name in row["origin"], source.origin


def test_an_origin_is_read_from_the_declaration_and_names_only_items_the_kind_declares() -> None:
    kind = BloodCountRecorded.kind()

    assert origin(BloodCountRecorded, "collected_on") == f"{kind}: collected_on"
    assert declared_origin("LB", "LBMETHOD") == f"{kind}: reticulocyte_method"
    with pytest.raises(LookupError, match="declares no item result"):
        origin(BloodCountRecorded, "result")
    with pytest.raises(LookupError, match="LBFAST"):
        declared_origin("LB", "LBFAST")


@pytest.fixture
def _signed() -> Iterator[None]:
    yield from signed_by_someone()


@pytest.mark.usefixtures("_signed")
def test_a_kind_no_rule_reads_gets_its_rows_in_a_ruled_dataset_from_its_declaration_alone() -> None:
    subject = on_cyclosporine()
    subject.record_cyclosporine_trough(**trough("290"))
    measured = subject.latest(CyclosporineTroughMeasured)
    assert measured is not None

    # Were LB's rule to read only blood counts, the trough's declaration would give its row.
    rows = declared_rows(subject, "LB", ruled=(BloodCountRecorded,))

    assert rows == [
        (
            date(2011, 3, 1),
            measured.version,
            [measured.version],
            {
                "LBTESTCD": "CYCLOSPR",
                "LBTEST": "Cyclosporine",
                "LBORRES": "290",
                "LBSTRESC": "290",
                "LBSTRESN": "290",
                "LBORRESU": "ng/mL",
                "LBSTRESU": "ng/mL",
                "LBDTC": "2011-03-01",
            },
        )
    ]
    # The rule reads troughs: no row is written twice.
    assert declared_rows(subject, "LB", ruled=laboratory.READS) == []


@pytest.mark.usefixtures("_signed")
def test_named_values_a_kind_maps_to_a_ruled_dataset_give_a_row_each_in_their_tests_order() -> None:
    subject = on_cyclosporine()
    results = {"platelets": q("12", "10^9/L"), "haemoglobin": q("7.2", "g/dL")}
    subject.record_blood_count(**blood_count(**results))

    # Were LB's rule to read only troughs, the blood count's declaration would give its rows.
    rows = declared_rows(subject, "LB", ruled=(CyclosporineTroughMeasured,))

    assert [(values["LBTESTCD"], values["LBORRES"], values["LBORRESU"]) for *_, values in rows] == [
        ("HGB", "7.2", "g/dL"),
        ("PLAT", "12", "10^9/L"),
    ]
    assert rows[0][3] == {
        "LBTESTCD": "HGB",
        "LBTEST": "Hemoglobin",
        "LBORRES": "7.2",
        "LBSTRESC": "7.2",
        "LBSTRESN": "7.2",
        "LBORRESU": "g/dL",
        "LBSTRESU": "g/dL",
        "LBMETHOD": "AUTOMATED",
        "LBDTC": "2011-03-01",
    }


def test_a_kind_no_rule_reads_is_described_in_its_variables_origins_and_the_row_structure() -> None:
    kind = CyclosporineTroughMeasured.kind()

    described = with_declared(laboratory.LB, (BloodCountRecorded,))
    origins = {variable.name: variable.origin for variable in described.variables}

    assert origins["LBDTC"].endswith(f"; {kind}: collected_on")
    assert origins["LBORRES"].endswith(f"; {kind}: level")
    assert described.structure.endswith(f"Also one record per {kind} that counts, as declared.")
    assert with_declared(laboratory.LB, laboratory.READS) == laboratory.LB


def test_a_quantity_fills_its_unit_and_an_instant_its_day_where_the_mapping_says_so() -> None:
    values = declared_values("EX", MscInfusionGiven, infusion(), SAO_PAULO)

    assert values == {
        "EXDOSE": "2.7",
        "EXDOSU": CELLS,
        "EXLOT": "MSC-2011-011",
        "EXSTDTC": "2011-03-10T10:00:00",
        "EXENDTC": "2011-03-10",
    }
