"""``Subject.check_new``: what a form checks before the person signs a record is what
``Subject.record`` checks before it records, and it records nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from domain.clinical import ReticulocyteMethod
from domain.errors import EligibilityNotMet, RecordsLocked
from domain.quantities import Quantity
from domain.subject import Subject
from tests.unit.subjects import assessed, consented, locked

pytestmark = pytest.mark.usefixtures("someone_signs")

BLOOD_COUNT = {
    "collected_on": date(2011, 2, 21),
    "results": {"haemoglobin": Quantity(Decimal("7.4"), "g/dL")},
    "reticulocyte_method": ReticulocyteMethod.AUTOMATED,
}


def test_a_record_that_passes_is_returned_as_its_event_takes_it_and_nothing_is_recorded() -> None:
    subject = consented()
    before = (subject.version, len(subject.collect_events()))

    fields = subject.check_new(Subject.BloodCountRecorded, BLOOD_COUNT)

    assert fields == BLOOD_COUNT
    assert (subject.version, len(subject.collect_events())) == (before[0], 0)


@pytest.mark.parametrize(
    ("made", "kind", "values", "error"),
    [
        (
            lambda: assessed(IN1=False),
            Subject.Enrolled,
            {"enrolled_on": date(2011, 2, 21)},
            EligibilityNotMet,
        ),
        (locked, Subject.BloodCountRecorded, BLOOD_COUNT, RecordsLocked),
    ],
    ids=["not eligible", "locked"],
)
def test_what_recording_refuses_is_refused_before_signing_alike(
    made: Callable[[], Subject],
    kind: type[Subject.Event],
    values: dict[str, object],
    error: type[Exception],
) -> None:
    subject = made()
    with pytest.raises(error) as checked:
        subject.check_new(kind, values)
    with pytest.raises(error) as recorded:
        subject.record(kind, **values)

    assert str(checked.value) == str(recorded.value)
