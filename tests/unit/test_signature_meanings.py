"""A signature means what its kind of event declares (21 CFR 11.50(a)(3)): the same check on the
way in (guards) and in `verify` (attribution), so what the store accepts, verify accepts."""

from __future__ import annotations

import pytest

from domain.attribution import check_meaning
from domain.subject import Subject
from domain.vocabulary import SIGNATURE_MEANINGS
from signatures.errors import MeaningInvalid


@pytest.mark.requirement("P11-11.50-1")
def test_an_entry_is_signed_as_its_authors() -> None:
    check_meaning("authorship", Subject.BloodCountRecorded)


@pytest.mark.parametrize("meaning", SIGNATURE_MEANINGS)
def test_an_entry_signed_with_a_ceremony_meaning_is_refused_and_told_where_that_meaning_goes(
    meaning: str,
) -> None:
    with pytest.raises(MeaningInvalid, match="POST /v1/signatures"):
        check_meaning(meaning, Subject.BloodCountRecorded)


@pytest.mark.parametrize("meaning", SIGNATURE_MEANINGS)
def test_a_signature_over_records_takes_each_ceremony_meaning(meaning: str) -> None:
    check_meaning(meaning, Subject.RecordsSigned)


@pytest.mark.requirement("P11-11.50-1")
@pytest.mark.parametrize("meaning", ["authorship", "", "review\n", "approval\x00"])
def test_a_signature_over_records_with_any_other_meaning_names_its_kind_and_is_refused(
    meaning: str,
) -> None:
    with pytest.raises(MeaningInvalid, match="a RecordsSigned means review, approval, resp"):
        check_meaning(meaning, Subject.RecordsSigned)
