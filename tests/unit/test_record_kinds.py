"""Each record kind is declared once: its items, its stored topic, its form, and its rules, which
a new record and a correction of one both keep."""

from __future__ import annotations

import ast
import inspect
from datetime import date, timedelta

import pytest
from eventsourcing.utils import get_topic, resolve_topic

from domain.errors import EligibilityNotMet, SeriousnessCriterionMissing, ValueOutOfRange
from domain.signed import SignedAggregate
from domain.subject import KINDS, RECORDERS, Subject, aggregate
from domain.subject.declaration import ValueType
from domain.subject.enrolment import ConsentObtained, EligibilityAssessed
from domain.subject.kinds import set_on_subject
from domain.subject.measurements import BloodCountRecorded
from domain.subject.safety import AdverseEventReported, SeriousAdverseEventNotified
from tests.unit.subjects import (
    ASSESSED_ON,
    CONSENTED_ON,
    ELIGIBLE,
    adverse_event,
    assessed,
    blood_count,
    consented,
    enrolled,
    with_serious_adverse_event,
)

pytestmark = pytest.mark.usefixtures("someone_signs")


@pytest.mark.parametrize("name", [*KINDS, "Created"])
def test_every_kind_keeps_the_topic_its_stored_events_name(name: str) -> None:
    kind = getattr(Subject, name)

    assert get_topic(kind) == f"domain.subject:Subject.{name}"
    assert resolve_topic(f"domain.subject:Subject.{name}") is kind


def test_the_subject_keeps_the_topic_its_stored_screenings_name() -> None:
    assert get_topic(Subject) == "domain.subject:Subject"


def test_every_kind_declares_each_of_its_fields_as_an_item() -> None:
    for name, kind in KINDS.items():
        assert kind.items(), name
        assert all(declared.kind == name for declared in kind.items())


def test_an_item_says_what_an_odm_item_and_an_sdtm_variable_need() -> None:
    results, method = BloodCountRecorded.items()[1:]

    assert (results.value_type, results.odm_data_type) == (ValueType.QUANTITIES, "float")
    assert results.about.sdtm[0].test_codes["haemoglobin"] == ("HGB", "Hemoglobin")
    assert method.odm_oid == "IT.BloodCountRecorded.reticulocyte_method"
    assert method.odm_code_list == "CL.ReticulocyteMethod"


def test_a_form_lists_each_item_with_its_label_choices_and_whether_it_is_required() -> None:
    form = {field.name: field for field in AdverseEventReported.form()}

    assert form["onset_on"].label == "Onset on"
    assert form["grade"].type == "integer"
    assert "recovered" in form["outcome"].choices
    assert form["resolved_on"].required is False
    assert form["term"].required is True


def test_a_record_takes_its_items_and_nothing_else() -> None:
    subject = consented()

    with pytest.raises(TypeError, match="haemoglobin_level"):
        subject.record(BloodCountRecorded, **blood_count(), haemoglobin_level=7)
    with pytest.raises(TypeError, match="missing collected_on"):
        subject.record_blood_count(results={}, reticulocyte_method="manual")


def test_the_subjects_verb_is_the_record_of_its_kind() -> None:
    by_verb, by_kind = consented(), consented()

    RECORDERS["BloodCountRecorded"](by_verb, **blood_count())
    by_kind.record(BloodCountRecorded, **blood_count())

    assert by_verb.entries[3].fields == by_kind.entries[3].fields


def _written_by_hand() -> dict[str, object]:
    """What ``Subject``'s class statement, its methods and its bases name, by hand: kinds.py adds
    the rest."""
    (statement,) = (
        node
        for node in ast.parse(inspect.getsource(aggregate)).body
        if isinstance(node, ast.ClassDef) and node.name == "Subject"
    )
    names = {  # what its methods set on each subject (``self.entries = ...``)
        node.attr
        for node in ast.walk(statement)
        if isinstance(node, ast.Attribute)
        and isinstance(node.ctx, ast.Store)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    }
    for node in statement.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
    inherited = {name for base in SignedAggregate.__mro__ for name in vars(base)}
    return {name: inspect.getattr_static(Subject, name, None) for name in names | inherited}


def test_no_verb_of_a_kind_takes_the_name_of_what_is_written_on_the_subject_by_hand() -> None:
    by_hand = _written_by_hand()
    assert {"record", "screen", "entries"} <= by_hand.keys()  # the statement was read
    for name, kind in KINDS.items():
        assert kind.COMMAND not in by_hand, f"{name}'s verb {kind.COMMAND} is Subject's own"
        # aggregate.py names the kinds it knows; each such name is that very kind
        assert by_hand.get(name, kind) is kind, f"Subject.{name} is not the kind {name}"


def test_a_derived_verb_does_not_replace_a_method_written_by_hand() -> None:
    record = inspect.getattr_static(Subject, "record")

    with pytest.raises(TypeError, match=r"Subject\.record is written by hand"):
        set_on_subject("record", lambda subject: None)

    assert inspect.getattr_static(Subject, "record") is record


def test_screening_is_not_recorded_on_a_subject_that_exists() -> None:
    with pytest.raises(TypeError, match="not recorded by a command"):
        consented().record(Subject.Screened, site="RP", sex="F", age=30, screened_on=CONSENTED_ON)


# -- a correction keeps the rule a new record keeps ------------------------------------------------


def reconsented() -> Subject:
    """Consented (entry 2), re-consented a month later (entry 3)."""
    subject = consented()
    subject.obtain_consent(tcle_version="3.0", consented_on=CONSENTED_ON + timedelta(days=30))
    return subject


def test_a_re_consent_dated_before_the_consent_in_force_is_refused() -> None:
    with pytest.raises(ValueOutOfRange, match="before the consent in force"):
        reconsented().obtain_consent(tcle_version="4.0", consented_on=CONSENTED_ON)


def test_a_consent_corrected_to_after_the_re_consent_is_refused_as_a_new_one_would_be() -> None:
    subject = reconsented()
    later = CONSENTED_ON + timedelta(days=40)

    with pytest.raises(ValueOutOfRange, match="after the re-consent"):
        subject.correct_entry(
            entry=2,
            entry_kind=ConsentObtained.kind(),
            changes={"consented_on": {"old": CONSENTED_ON, "new": later}},
            reason="transcription error",
        )


def test_a_re_consent_corrected_within_its_place_is_taken() -> None:
    subject = reconsented()
    was = CONSENTED_ON + timedelta(days=30)

    subject.correct_entry(
        entry=3,
        entry_kind=ConsentObtained.kind(),
        changes={"consented_on": {"old": was, "new": was + timedelta(days=1)}},
        reason="transcription error",
    )

    assert subject.consent is not None
    assert subject.consent["consented_on"] == was + timedelta(days=1)


def test_criteria_corrected_to_leave_one_unanswered_are_refused_as_a_new_assessment_is() -> None:
    subject = assessed()
    partial = {code: answer for code, answer in ELIGIBLE.items() if code != "EX9"}

    with pytest.raises(EligibilityNotMet, match="criteria not answered: EX9"):
        subject.assess_eligibility(criteria=partial, assessed_on=ASSESSED_ON)
    with pytest.raises(EligibilityNotMet, match="criteria not answered: EX9"):
        subject.correct_entry(
            entry=3,
            entry_kind=EligibilityAssessed.kind(),
            changes={"criteria": {"old": ELIGIBLE, "new": partial}},
            reason="transcription error",
        )


def test_a_notification_corrected_to_before_the_site_learned_of_the_event_is_refused() -> None:
    subject = with_serious_adverse_event()
    learned_on: date = subject.adverse_events()["AE-01"]["learned_on"]
    subject.notify_serious_adverse_event(
        adverse_event="AE-01", notified_on=learned_on, recipient="CONEP", follow_up=False
    )
    notification = subject.version
    earlier = learned_on - timedelta(days=1)

    with pytest.raises(ValueOutOfRange, match="before the site learned of it"):
        subject.correct_entry(
            entry=notification,
            entry_kind=SeriousAdverseEventNotified.kind(),
            changes={"notified_on": {"old": learned_on, "new": earlier}},
            reason="transcription error",
        )


def test_a_notification_of_an_event_that_is_not_serious_is_refused() -> None:
    subject = enrolled()
    subject.report_adverse_event(**adverse_event(name="AE-01"))

    with pytest.raises(SeriousnessCriterionMissing):
        subject.notify_serious_adverse_event(
            adverse_event="AE-01", notified_on=date(2011, 3, 13), recipient="CONEP", follow_up=False
        )
