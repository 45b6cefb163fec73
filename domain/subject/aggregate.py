"""A trial subject's life in the study, as a signed, chained event stream.

Methods are the trial's language (``subject.enrol``, ``subject.give_msc_infusion``); each checks
the protocol's rules and then records one event. Every event is kept as an *entry* of the
subject's record, numbered by its version; a correction or a void (21 CFR 11.10(e)) is a later
event that names an entry, and the subject's state reads each entry as it stands after its
corrections, while the original event stays in the log untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeAlias, cast

from domain.attribution import SIGNATURE_MEANINGS
from domain.authorship import authorship_in_force
from domain.clinical import (
    ResponseCategory,
    ReticulocyteMethod,
    SeriousnessCriterion,
    TransfusionProduct,
)
from domain.errors import (
    AdverseEventNotFound,
    AlreadyEnrolled,
    ConsentRequired,
    CorrectionInvalid,
    CyclosporineNotStarted,
    DatedAfterDeath,
    DatedBeforeConsent,
    DatedInTheFuture,
    DeathRecordDisagrees,
    DuplicateRecord,
    EligibilityNotMet,
    EntryNotFound,
    InfusionOutOfSequence,
    InfusionTooSoon,
    NotEnrolled,
    ProtocolViolation,
    QueryInvalid,
    RatgDayOutOfCourse,
    SeriousnessCriterionMissing,
    SignatureRefused,
    SignedRecordChanged,
    SubjectNotInStudy,
    ValueOutOfRange,
)
from domain.protocol import StudyProtocol, protocol_for
from domain.quantities import Quantity
from domain.record_rules import check_adverse_event
from domain.signed import SignedAggregate
from domain.subject import changes, disposition, enrolment, measurements, safety, treatment
from domain.subject.changes import (
    QueryAnswered,
    QueryClosed,
    QueryRaised,
)
from domain.subject.disposition import (
    EndOfStudyRecorded,
    ResponseAssessed,
    SubjectWithdrawn,
)
from domain.subject.enrolment import (
    ConsentObtained,
    EligibilityAssessed,
    Enrolled,
    Screened,
    ScreenFailed,
)
from domain.subject.entries import Entry, Query, subject_stream
from domain.subject.measurements import (
    ChimerismAssessed,
)
from domain.subject.record import DECLARED, TOPIC_PREFIX, Record
from domain.subject.safety import (
    AdverseEventFollowedUp,
    AdverseEventReported,
    SubjectDied,
)
from domain.subject.treatment import (
    CyclosporineDoseAdjusted,
    CyclosporineStarted,
    CyclosporineStopped,
    MscInfusionGiven,
    RatgDoseGiven,
)
from domain.vocabulary import (
    AdverseEventCategory,
    AdverseEventOutcome,
    ChimerismMethod,
    DeviationCategory,
    EndOfStudyReason,
    Pathogen,
    Relatedness,
    Sex,
    Status,
    WithdrawalDecidedBy,
)
from domain.wire import to_wire

KIND_INDEX = "_kind_index"
"""Where a subject keeps its index of entries by kind: derived from ``entries``, not state."""


class Subject(SignedAggregate):
    """A pseudonymous trial subject, known only by study code (LGPD: no identity in events)."""

    TOPIC = TOPIC_PREFIX
    Event: TypeAlias = Record
    # The record kinds, in the order the ODM metadata lists them.
    Screened: TypeAlias = enrolment.Screened
    ScreenFailed: TypeAlias = enrolment.ScreenFailed
    ConsentObtained: TypeAlias = enrolment.ConsentObtained
    EligibilityAssessed: TypeAlias = enrolment.EligibilityAssessed
    Enrolled: TypeAlias = enrolment.Enrolled
    RatgDoseGiven: TypeAlias = treatment.RatgDoseGiven
    CyclosporineStarted: TypeAlias = treatment.CyclosporineStarted
    CyclosporineDoseAdjusted: TypeAlias = treatment.CyclosporineDoseAdjusted
    CyclosporineStopped: TypeAlias = treatment.CyclosporineStopped
    CyclosporineTroughMeasured: TypeAlias = treatment.CyclosporineTroughMeasured
    MscInfusionGiven: TypeAlias = treatment.MscInfusionGiven
    BloodCountRecorded: TypeAlias = measurements.BloodCountRecorded
    BoneMarrowExamined: TypeAlias = measurements.BoneMarrowExamined
    TransfusionGiven: TypeAlias = measurements.TransfusionGiven
    ChimerismAssessed: TypeAlias = measurements.ChimerismAssessed
    AdverseEventReported: TypeAlias = safety.AdverseEventReported
    AdverseEventFollowedUp: TypeAlias = safety.AdverseEventFollowedUp
    SeriousAdverseEventNotified: TypeAlias = safety.SeriousAdverseEventNotified
    SubjectDied: TypeAlias = safety.SubjectDied
    ResponseAssessed: TypeAlias = disposition.ResponseAssessed
    ProtocolDeviationRecorded: TypeAlias = disposition.ProtocolDeviationRecorded
    SubjectWithdrawn: TypeAlias = disposition.SubjectWithdrawn
    EndOfStudyRecorded: TypeAlias = disposition.EndOfStudyRecorded
    EntryCorrected: TypeAlias = changes.EntryCorrected
    EntryVoided: TypeAlias = changes.EntryVoided
    RecordsSigned: TypeAlias = changes.RecordsSigned
    QueryRaised: TypeAlias = changes.QueryRaised
    QueryAnswered: TypeAlias = changes.QueryAnswered
    QueryClosed: TypeAlias = changes.QueryClosed

    def __init__(
        self, site: str, sex: Sex, age: int, screened_on: date, synthetic: bool | None = None
    ) -> None:
        del sex, age, screened_on  # read from the Screened entry, which corrections may change
        self._site = site
        self.synthetic = bool(synthetic)
        self.entries: dict[int, Entry] = {}

    # -- reading the record ---------------------------------------------------------------------

    @property
    def study_id(self) -> str:
        """The study this subject takes part in."""
        return self.stream.split("/", 1)[0]

    @property
    def subject_code(self) -> str:
        """The pseudonymous study code, e.g. ``RP-101``."""
        return self.stream.split("/", 1)[1]

    @property
    def protocol(self) -> StudyProtocol:
        """The protocol whose rules this subject's records keep."""
        return protocol_for(self.study_id)

    @property
    def site(self) -> str:
        """The site that screened the subject (it is not corrected: a transfer is not an error)."""
        return self._site

    @property
    def screening(self) -> Entry:
        """The screening record (sex, age, date)."""
        return self.entries[1]

    @property
    def sex(self) -> Sex:
        """Sex at screening."""
        sex: Sex = self.screening["sex"]
        return sex

    @property
    def age(self) -> int:
        """Age in years at screening."""
        age: int = self.screening["age"]
        return age

    def live(self, *kinds: type[Record]) -> list[Entry]:
        """The entries of these kinds that count (not voided), oldest first."""
        index = self._entries_by_kind()
        if len(kinds) == 1:
            return [e for e in index.get(kinds[0].kind(), ()) if e.is_live]
        names = dict.fromkeys(kind.kind() for kind in kinds)
        found = [e for name in names for e in index.get(name, ()) if e.is_live]
        return sorted(found, key=lambda e: e.version)

    def _entries_by_kind(self) -> dict[str, list[Entry]]:
        """The entries grouped by kind, oldest first: an index, brought up to date on read.

        Entries are only ever added, each under a new (higher) version, and never change kind,
        so the index extends by the entries added since it was last read. A summary of a long
        record reads ``live`` dozens of times; this spares a scan of every entry each time.
        """
        counted: int
        index: dict[str, list[Entry]]
        counted, index = self.__dict__.get(KIND_INDEX, (0, {}))
        if counted != len(self.entries):
            for entry in list(self.entries.values())[counted:]:
                index.setdefault(entry.kind, []).append(entry)
            self.__dict__[KIND_INDEX] = (len(self.entries), index)
        return index

    def replace_entry(self, entry: Entry) -> None:
        """Put a corrected or voided entry in place of the one of its version.

        Entries are replaced, never edited in place: a copy made for a command
        (:meth:`copy_for_command`) shares its entries with the subject it was copied from.
        """
        replaced = self.entries[entry.version]
        self.entries[entry.version] = entry
        _, index = self.__dict__.get(KIND_INDEX, (0, {}))
        same_kind = index.get(replaced.kind, [])
        for position in range(len(same_kind) - 1, -1, -1):
            if same_kind[position] is replaced:
                same_kind[position] = entry
                break

    def copy_for_command(self) -> Subject:
        """A copy to run a command on (see :meth:`SignedAggregate.copy_for_command`).

        It has its own dict of entries and its own index of them, sharing the entries
        themselves, which events replace rather than change.
        """
        index = self._entries_by_kind()
        copied: Subject = super().copy_for_command()
        copied.entries = dict(self.entries)
        counted = len(self.entries)
        copied.__dict__[KIND_INDEX] = (counted, {kind: list(e) for kind, e in index.items()})
        return copied

    def latest(self, kind: type[Record]) -> Entry | None:
        """The most recent live entry of a kind."""
        entries = self.live(kind)
        return entries[-1] if entries else None

    @property
    def consent(self) -> Entry | None:
        """The TCLE in force (the latest consent or re-consent)."""
        return self.latest(ConsentObtained)

    @property
    def eligibility(self) -> Entry | None:
        """The latest eligibility assessment."""
        return self.latest(EligibilityAssessed)

    @property
    def enrolment(self) -> Entry | None:
        """The enrolment record."""
        return self.latest(Enrolled)

    @property
    def death(self) -> Entry | None:
        """The death record."""
        return self.latest(SubjectDied)

    @property
    def withdrawal(self) -> Entry | None:
        """The withdrawal record."""
        return self.latest(SubjectWithdrawn)

    @property
    def end_of_study(self) -> Entry | None:
        """The end-of-study record."""
        return self.latest(EndOfStudyRecorded)

    @property
    def infusions(self) -> list[Entry]:
        """MSC infusions given, in order."""
        return sorted(self.live(MscInfusionGiven), key=lambda e: e["infusion_number"])

    @property
    def status(self) -> Status:
        """Where the subject stands, from the records that count."""
        end = self.end_of_study
        if self.death is not None:
            return Status.DIED
        if self.withdrawal is not None:
            return Status.WITHDRAWN
        if end is not None and end["reason"] is EndOfStudyReason.LOST_TO_FOLLOW_UP:
            return Status.LOST_TO_FOLLOW_UP
        if end is not None:
            return Status.COMPLETED
        if self.latest(ScreenFailed) is not None:
            return Status.SCREEN_FAILED
        if self.enrolment is not None:
            return Status.ENROLLED
        if self.consent is not None:
            return Status.CONSENTED
        return Status.SCREENED

    def adverse_events(self) -> dict[str, dict[str, Any]]:
        """Each adverse event as it stands: the report with its follow-ups applied in order."""
        current: dict[str, dict[str, Any]] = {}
        for entry in self.live(AdverseEventReported, AdverseEventFollowedUp):
            name = entry["adverse_event"]
            if entry.kind == AdverseEventReported.kind():
                current[name] = {**entry.fields, "reported_in": entry.version, "follow_ups": []}
            elif name in current:
                current[name].update(entry["changes"])
                current[name]["follow_ups"].append(entry.version)
        return current

    def dated_on(self, entry: Entry) -> date | None:
        """The date an entry is about, in the site's calendar."""
        kind = EVENT_CLASSES.get(entry.kind)
        name = kind.DATED_BY if kind is not None else None
        return self._as_site_date(entry[name]) if name else None

    def _as_site_date(self, value: date | datetime) -> date:
        if isinstance(value, datetime):
            return value.astimezone(self.protocol.time_zone).date()
        return value

    # -- screening, consent, eligibility, enrolment --------------------------------------------

    @classmethod
    def screen(
        cls,
        *,
        protocol: StudyProtocol,
        subject_code: str,
        site: str,
        sex: Sex,
        age: int,
        screened_on: date,
        synthetic: bool | None = None,
    ) -> Subject:
        """Open a subject's record at screening. Any age may be screened; enrolment decides.

        ``synthetic`` marks demonstration data, so every view of it can say so.
        """
        Screened.check_values({"age": age}, protocol)
        _check_not_future(screened_on, protocol)
        subject: Subject = cls._create(
            cls.Screened,
            stream=subject_stream(protocol.study_id, subject_code),
            site=site,
            sex=sex,
            age=age,
            screened_on=screened_on,
            synthetic=synthetic,
        )
        return subject

    def fail_screening(self, *, failed_on: date, reason: str) -> None:
        """Record that the subject will not be enrolled, and why."""
        if self.enrolment is not None:
            raise AlreadyEnrolled(f"{self.subject_code} is enrolled; record a withdrawal instead")
        self._check_once(ScreenFailed, "screen failure")
        self._record(self.ScreenFailed, failed_on=failed_on, reason=reason)

    def obtain_consent(self, *, tcle_version: str, consented_on: date) -> None:
        """Record the signed TCLE, or a re-consent to a new version."""
        previous = self.consent
        if previous is not None and consented_on < previous["consented_on"]:
            raise ValueOutOfRange(
                f"re-consent on {consented_on} is before the consent in force "
                f"({previous['consented_on']})"
            )
        self._record(self.ConsentObtained, tcle_version=tcle_version, consented_on=consented_on)

    def assess_eligibility(self, *, criteria: Mapping[str, bool], assessed_on: date) -> None:
        """Record every criterion's answer; an ineligible answer is recorded too (and why)."""
        self.check_consent_obtained()
        if self.enrolment is not None:
            raise AlreadyEnrolled(f"{self.subject_code} is already enrolled")
        protocol = self.protocol
        unanswered = sorted(protocol.criteria_codes - criteria.keys())
        unknown = sorted(criteria.keys() - protocol.criteria_codes)
        problems = []
        if unanswered:
            problems.append("criteria not answered: " + ", ".join(unanswered))
        if unknown:
            problems.append("criteria not in the protocol: " + ", ".join(unknown))
        if problems:
            raise EligibilityNotMet(problems)
        self._record(self.EligibilityAssessed, criteria=dict(criteria), assessed_on=assessed_on)

    def enrol(self, *, enrolled_on: date) -> None:
        """Enrol the subject: consented, and eligible by the latest assessment."""
        self.check_consent_obtained()
        if self.enrolment is not None:
            raise AlreadyEnrolled(f"{self.subject_code} is already enrolled")
        self._check_in_study("enrolment")
        failures = self.eligibility_failures()
        if failures:
            raise EligibilityNotMet(failures)
        assessment = self.eligibility
        assert assessment is not None
        if enrolled_on < assessment["assessed_on"]:
            raise ValueOutOfRange(
                f"enrolled on {enrolled_on}, before eligibility was assessed "
                f"({assessment['assessed_on']})"
            )
        self._record(self.Enrolled, enrolled_on=enrolled_on)

    def eligibility_failures(self) -> list[str]:
        """Why the subject may not be enrolled (empty when eligible)."""
        protocol = self.protocol
        assessment = self.eligibility
        if assessment is None:
            return ["eligibility has not been assessed"]
        answers: Mapping[str, bool] = assessment["criteria"]
        failures: list[str] = []
        if not protocol.min_age <= self.age <= protocol.max_age:
            failures.append(
                f"age {self.age} is outside {protocol.min_age}-{protocol.max_age} years"
            )
        failures += [
            f"inclusion {c.code} not met ({c.text})"
            for c in protocol.inclusion
            if answers.get(c.code) is not True
        ]
        failures += [
            f"exclusion {c.code} applies ({c.text})"
            for c in protocol.exclusion
            if answers.get(c.code) is not False
        ]
        return failures

    # -- treatment -------------------------------------------------------------------------------

    def give_ratg_dose(self, *, day: int, dose: Quantity, given_on: date) -> None:
        """Record one day of the rATG course (each day once, on consecutive dates)."""
        self._check_treatment("rATG")
        self._check_ratg_course(day, given_on)
        self._record(self.RatgDoseGiven, day=day, dose=dose, given_on=given_on)

    def start_cyclosporine(self, *, dose: Quantity, started_on: date) -> None:
        """Start oral cyclosporine."""
        self._check_treatment("cyclosporine")
        self._check_once(CyclosporineStarted, "cyclosporine start")
        self._record(self.CyclosporineStarted, dose=dose, started_on=started_on)

    def adjust_cyclosporine_dose(self, *, dose: Quantity, effective_on: date, reason: str) -> None:
        """Change the cyclosporine dose, saying why."""
        self._check_treatment("cyclosporine")
        self._check_cyclosporine_running(effective_on)
        self._record(
            self.CyclosporineDoseAdjusted, dose=dose, effective_on=effective_on, reason=reason
        )

    def stop_cyclosporine(self, *, stopped_on: date, reason: str) -> None:
        """Stop cyclosporine, saying why."""
        self._check_cyclosporine_running(stopped_on)
        self._record(self.CyclosporineStopped, stopped_on=stopped_on, reason=reason)

    def record_cyclosporine_trough(self, *, level: Quantity, collected_on: date) -> None:
        """Record a trough level (flagged when outside the protocol's target)."""
        self.check_enrolled()
        self._record(self.CyclosporineTroughMeasured, level=level, collected_on=collected_on)

    def give_msc_infusion(
        self,
        *,
        infusion_number: int,
        dose: Quantity,
        product_lot: str,
        donor_code: str,
        viability: Quantity,
        given_at: datetime,
        vital_signs_before: Mapping[str, Quantity],
        vital_signs_after: Mapping[str, Quantity],
        infusion_reaction: bool,
        reaction_description: str | None = None,
    ) -> None:
        """Record an MSC infusion: numbered in order, at most the protocol's maximum, weekly."""
        self._check_treatment("MSC")
        self._check_msc_schedule(infusion_number, given_at)
        self._record(
            self.MscInfusionGiven,
            infusion_number=infusion_number,
            dose=dose,
            product_lot=product_lot,
            donor_code=donor_code,
            viability=viability,
            given_at=given_at,
            vital_signs_before=dict(vital_signs_before),
            vital_signs_after=dict(vital_signs_after),
            infusion_reaction=infusion_reaction,
            reaction_description=reaction_description,
        )

    # -- measurements ----------------------------------------------------------------------------

    def record_blood_count(
        self,
        *,
        collected_on: date,
        results: Mapping[str, Quantity],
        reticulocyte_method: ReticulocyteMethod,
    ) -> None:
        """Record a blood count in the protocol's units."""
        self.check_consent_obtained()
        self._record(
            self.BloodCountRecorded,
            collected_on=collected_on,
            results=dict(results),
            reticulocyte_method=reticulocyte_method,
        )

    def record_bone_marrow(self, *, examined_on: date, cellularity: Quantity) -> None:
        """Record a marrow biopsy's cellularity."""
        self.check_consent_obtained()
        self._record(self.BoneMarrowExamined, examined_on=examined_on, cellularity=cellularity)

    def give_transfusion(self, *, given_on: date, product: TransfusionProduct, units: int) -> None:
        """Record a transfusion of red cells or platelets."""
        self.check_consent_obtained()
        self._record(self.TransfusionGiven, given_on=given_on, product=product, units=units)

    def assess_chimerism(
        self,
        *,
        study_day: int,
        method: ChimerismMethod,
        sample_collected_on: date,
        donor_signal_detected: bool,
    ) -> None:
        """Record whether donor MSC were found in the marrow on a scheduled day."""
        self.check_enrolled()
        self._check_chimerism_unique(study_day, method)
        self._record(
            self.ChimerismAssessed,
            study_day=study_day,
            method=method,
            sample_collected_on=sample_collected_on,
            donor_signal_detected=donor_signal_detected,
        )

    # -- safety ----------------------------------------------------------------------------------

    def report_adverse_event(
        self,
        *,
        adverse_event: str,
        term: str,
        category: AdverseEventCategory,
        grade: int,
        serious: bool,
        seriousness: tuple[SeriousnessCriterion, ...],
        relatedness_msc: Relatedness,
        relatedness_ratg: Relatedness,
        relatedness_cyclosporine: Relatedness,
        expected: bool,
        onset_on: date,
        learned_on: date,
        outcome: AdverseEventOutcome,
        resolved_on: date | None = None,
        pathogen: Pathogen | None = None,
    ) -> None:
        """Report an adverse event under the site's own identifier (e.g. ``AE-03``)."""
        self.check_consent_obtained()
        if adverse_event in self.adverse_events():
            raise DuplicateRecord(
                f"adverse event {adverse_event} is reported; follow it up instead"
            )
        report = {
            "grade": grade,
            "serious": serious,
            "seriousness": tuple(seriousness),
            "outcome": outcome,
            "onset_on": onset_on,
            "learned_on": learned_on,
            "resolved_on": resolved_on,
        }
        self._check_against_death(report)
        self._record(
            self.AdverseEventReported,
            adverse_event=adverse_event,
            term=term,
            category=category,
            grade=grade,
            serious=serious,
            seriousness=tuple(seriousness),
            relatedness_msc=relatedness_msc,
            relatedness_ratg=relatedness_ratg,
            relatedness_cyclosporine=relatedness_cyclosporine,
            expected=expected,
            onset_on=onset_on,
            learned_on=learned_on,
            outcome=outcome,
            resolved_on=resolved_on,
            pathogen=pathogen,
        )

    def follow_up_adverse_event(
        self, *, adverse_event: str, followed_up_on: date, changes: Mapping[str, Any]
    ) -> None:
        """Record new information on an adverse event; the event as updated must still hold."""
        current = self._adverse_event(adverse_event)
        updated = {**current, **changes}
        check_adverse_event(updated)
        self._check_against_death(updated)
        self._record(
            self.AdverseEventFollowedUp,
            adverse_event=adverse_event,
            followed_up_on=followed_up_on,
            changes=dict(changes),
        )

    def notify_serious_adverse_event(
        self, *, adverse_event: str, notified_on: date, recipient: str, follow_up: bool
    ) -> None:
        """Record that a serious adverse event was notified (the clock stops at the first)."""
        current = self._adverse_event(adverse_event)
        if not current["serious"]:
            raise SeriousnessCriterionMissing(
                f"adverse event {adverse_event} is not serious; it is not notified as one"
            )
        if notified_on < current["learned_on"]:
            raise ValueOutOfRange(
                f"notified on {notified_on}, before the site learned of it "
                f"({current['learned_on']})"
            )
        self._record(
            self.SeriousAdverseEventNotified,
            adverse_event=adverse_event,
            notified_on=notified_on,
            recipient=recipient,
            follow_up=follow_up,
        )

    def record_death(self, *, died_on: date, cause: str, adverse_event: str | None = None) -> None:
        """Record the subject's death; every grade-5 adverse event must end on that date."""
        self.check_consent_obtained()
        self._check_once(SubjectDied, "death")
        self._check_death(died_on, adverse_event)
        self._record(self.SubjectDied, died_on=died_on, cause=cause, adverse_event=adverse_event)

    # -- outcomes and disposition -----------------------------------------------------------------

    def assess_response(self, *, month: int, response: ResponseCategory, assessed_on: date) -> None:
        """Record the investigator's response assessment for a scheduled month."""
        self.check_enrolled()
        self._check_response_unique(month)
        self._record(self.ResponseAssessed, month=month, response=response, assessed_on=assessed_on)

    def record_protocol_deviation(
        self, *, occurred_on: date, category: DeviationCategory, description: str, major: bool
    ) -> None:
        """Record a departure from the protocol."""
        self._record(
            self.ProtocolDeviationRecorded,
            occurred_on=occurred_on,
            category=category,
            description=description,
            major=major,
        )

    def withdraw(self, *, withdrawn_on: date, reason: str, decided_by: WithdrawalDecidedBy) -> None:
        """Record the subject's withdrawal; no treatment is recorded after it."""
        self.check_enrolled()
        self._check_once(SubjectWithdrawn, "withdrawal")
        self._record(
            self.SubjectWithdrawn, withdrawn_on=withdrawn_on, reason=reason, decided_by=decided_by
        )

    def end_study(self, *, ended_on: date, reason: EndOfStudyReason) -> None:
        """Record the end of the subject's participation; the reason must fit the record."""
        self.check_consent_obtained()
        self._check_once(EndOfStudyRecorded, "end of study")
        self._check_end(ended_on, reason)
        self._record(self.EndOfStudyRecorded, ended_on=ended_on, reason=reason)

    # -- corrections -------------------------------------------------------------------------------

    def correct_entry(
        self, *, entry: int, entry_kind: str, changes: Mapping[str, Mapping[str, Any]], reason: str
    ) -> None:
        """Correct fields of an entry, each given as old -> new, for a stated reason.

        The corrected entry is checked as a new record of its kind would be, so a correction
        cannot bring in what the protocol refuses.
        """
        target = self._entry_to_change(entry, entry_kind, reason, correcting=True)
        if not changes:
            raise CorrectionInvalid("a correction changes at least one field")
        kind = EVENT_CLASSES[target.kind]
        correctable = {declared.name for declared in kind.items()} - kind.FIXED
        candidate = dict(target.fields)
        for name, change in changes.items():
            if name not in correctable:
                raise CorrectionInvalid(f"{name!r} is not a correctable field of a {target.kind}")
            if set(change) != {"old", "new"}:
                raise CorrectionInvalid(f"{name}: a change gives exactly old and new")
            # Compared as written: a stored tuple reads back as a list, an enum as its value.
            if to_wire(change["old"]) != to_wire(target[name]):
                raise CorrectionInvalid(
                    f"{name}: the entry reads {target[name]!r}, not {change['old']!r} "
                    "(reload and correct what is there)"
                )
            if to_wire(change["new"]) == to_wire(change["old"]):
                raise CorrectionInvalid(f"{name}: the new value is the old one")
            candidate[name] = change["new"]
        self._check_corrected(target, candidate)
        self._record(
            self.EntryCorrected,
            entry=entry,
            entry_kind=entry_kind,
            changes={name: dict(change) for name, change in changes.items()},
            reason=reason,
        )

    def void_entry(self, *, entry: int, entry_kind: str, reason: str) -> None:
        """Void an entry made in error: it stops counting and stays in the record."""
        self._entry_to_change(entry, entry_kind, reason, correcting=False)
        self._record(self.EntryVoided, entry=entry, entry_kind=entry_kind, reason=reason)

    # -- electronic signatures ---------------------------------------------------------------------

    def sign_records(self, *, entries: Sequence[Mapping[str, Any]], meaning: str) -> None:
        """Sign records of the subject (21 CFR 11.50): each named by entry and record hash.

        The hash must be the record's as it stands now, so the signer signs what they read; a
        later correction or void leaves the signature in place, no longer covering the current
        value. Who may sign (an investigator of the subject's site) and the ceremony (the
        password re-entered, 11.200) are checked before this is called.
        """
        if meaning not in SIGNATURE_MEANINGS:
            raise SignatureRefused(
                f"a signature over records means {', '.join(SIGNATURE_MEANINGS)}, not {meaning!r}"
            )
        signed_meaning = authorship_in_force().body().get("meaning")
        if signed_meaning != meaning:
            raise SignatureRefused(
                f"the signed body's meaning is {signed_meaning!r}, not {meaning!r}"
            )
        if not entries:
            raise SignatureRefused("a signature covers at least one record")
        covered: list[dict[str, Any]] = []
        for item in entries:
            number, signed_hash = int(item["entry"]), str(item["record_hash"])
            if any(c["entry"] == number for c in covered):
                raise SignatureRefused(f"entry {number} is named twice")
            self.check_signable(number)
            target = self.entries[number]
            if signed_hash != target.record_hash:
                raise SignedRecordChanged(
                    f"entry {number} hashes to {target.record_hash}, not {signed_hash}: it "
                    "changed since it was read; read it again before signing"
                )
            covered.append({"entry": number, "record_hash": signed_hash})
        self.trigger_event(self.RecordsSigned, entries=tuple(covered))

    # -- data clarification queries ---------------------------------------------------------------

    @property
    def queries(self) -> list[Query]:
        """Every query raised about the subject's records, oldest first."""
        answers: dict[int, list[Entry]] = {}
        for answer in self.live(QueryAnswered):
            answers.setdefault(answer["query"], []).append(answer)
        closings = {closing["query"]: closing for closing in self.live(QueryClosed)}
        return [
            Query(
                query=raised.version,
                entry=raised["entry"],
                entry_kind=raised["entry_kind"],
                item=raised["item"],
                question=raised["question"],
                answers=tuple(answers.get(raised.version, ())),
                closed_by=closings.get(raised.version),
            )
            for raised in self.live(QueryRaised)
        ]

    def raise_query(
        self, *, entry: int, entry_kind: str, question: str, item: str | None = None
    ) -> None:
        """Ask the site about a record, or one field of it (who may ask is checked before)."""
        target = self._live_entry(entry, entry_kind, QueryInvalid)
        if EVENT_CLASSES[target.kind].QUERY:
            raise QueryInvalid(f"entry {entry} is a {target.kind}: ask about the record itself")
        if item is not None and item not in {i.name for i in EVENT_CLASSES[target.kind].items()}:
            raise QueryInvalid(f"a {target.kind} has no field {item!r}")
        _check_said(question, "a query asks a question")
        self.trigger_event(
            self.QueryRaised, entry=entry, entry_kind=entry_kind, question=question, item=item
        )

    def answer_query(self, *, query: int, answer: str) -> None:
        """The site's answer to a query that is not closed."""
        self._query_not_closed(query, "answered")
        _check_said(answer, "an answer says something")
        self.trigger_event(self.QueryAnswered, query=query, answer=answer)

    def close_query(self, *, query: int, resolution: str) -> None:
        """Close a query that is not closed yet, saying what resolved it."""
        self._query_not_closed(query, "closed")
        _check_said(resolution, "a closing says what resolved the query")
        self.trigger_event(self.QueryClosed, query=query, resolution=resolution)

    def _query_not_closed(self, query: int, verb: str) -> Query:
        found = next((q for q in self.queries if q.query == query), None)
        if found is None:
            raise QueryInvalid(f"{self.subject_code} has no query {query} (a QueryRaised entry)")
        if found.closed_by is not None:
            raise QueryInvalid(
                f"query {query} was closed by entry {found.closed_by.version}, so is not {verb}"
                " (raise a new query instead)"
            )
        return found

    def check_signable(self, number: int) -> None:
        """A signature covers an existing, live record (not a correction, void or signature)."""
        target = self.entries.get(number)
        if target is not None and EVENT_CLASSES[target.kind].ABOUT_RECORDS:
            raise SignatureRefused(
                f"entry {number} is a {target.kind}: sign the record it is about"
            )
        self._live_entry(number, None, SignatureRefused)

    def _live_entry(self, number: int, kind: str | None, refusal: type[ProtocolViolation]) -> Entry:
        """The entry a change, signature or query names: there, of ``kind`` (when one is
        named), and not voided; ``refusal`` says which of them was asked for."""
        target = self.entries.get(number)
        if target is None:
            raise EntryNotFound(f"{self.subject_code} has no entry {number}")
        if kind is not None and target.kind != kind:
            raise refusal(f"entry {number} is a {target.kind}, not a {kind}")
        if not target.is_live:
            raise refusal(f"entry {number} was voided by entry {target.voided_by}")
        return target

    def _entry_to_change(
        self, entry: int, entry_kind: str, reason: str, *, correcting: bool
    ) -> Entry:
        target = self._live_entry(entry, entry_kind, CorrectionInvalid)
        kind = EVENT_CLASSES[target.kind]
        if kind.ABOUT_RECORDS if correcting else not kind.VOIDABLE:
            raise CorrectionInvalid(
                f"a {target.kind} is not {'corrected' if correcting else 'voided'}"
            )
        if not reason.strip():
            raise CorrectionInvalid("a reason is given for every change (21 CFR 11.10(e))")
        return target

    def _check_corrected(self, target: Entry, candidate: dict[str, Any]) -> None:
        """Check a corrected entry as the record it would leave behind, among the others."""
        event_class = EVENT_CLASSES[target.kind]
        event_class.check_values(candidate, self.protocol)
        if event_class.DATED_BY is not None:
            self._check_date(event_class, self._as_site_date(candidate[event_class.DATED_BY]))
        besides = target.version
        kind = target.kind
        if kind == RatgDoseGiven.kind():
            self._check_ratg_course(candidate["day"], candidate["given_on"], besides=besides)
        elif kind == MscInfusionGiven.kind():
            self._check_infusion_interval(candidate["given_at"], besides=besides)
        elif kind == CyclosporineStarted.kind():
            self._check_cyclosporine_course_after(candidate["started_on"])
        elif kind == CyclosporineDoseAdjusted.kind():
            self._check_cyclosporine_running(candidate["effective_on"])
        elif kind == CyclosporineStopped.kind():
            self._check_cyclosporine_running(candidate["stopped_on"], besides=besides)
        elif kind == ChimerismAssessed.kind():
            self._check_chimerism_unique(
                candidate["study_day"], candidate["method"], besides=besides
            )
        elif kind == ResponseAssessed.kind():
            self._check_response_unique(candidate["month"], besides=besides)
        elif kind == SubjectDied.kind():
            self._check_death(candidate["died_on"], candidate.get("adverse_event"), besides=besides)
        elif kind == EndOfStudyRecorded.kind():
            self._check_end(candidate["ended_on"], candidate["reason"])
        elif kind in (AdverseEventReported.kind(), AdverseEventFollowedUp.kind()):
            name = candidate["adverse_event"]
            reported = self.adverse_events()[name]
            updated: dict[str, Any] = {}
            for version in (reported["reported_in"], *reported["follow_ups"]):
                fields_now = candidate if version == besides else self.entries[version].fields
                updated.update(
                    fields_now if version == reported["reported_in"] else fields_now["changes"]
                )
            check_adverse_event(updated)
            self._check_against_death(updated)

    # -- rules ---------------------------------------------------------------------------------

    def check_consent_obtained(self) -> None:
        """Nothing clinical is recorded before informed consent."""
        if self.consent is None:
            raise ConsentRequired(f"{self.subject_code} has no signed TCLE on record")

    def check_enrolled(self) -> None:
        """Treatment and study assessments are for enrolled subjects only."""
        self.check_consent_obtained()
        if self.enrolment is None:
            raise NotEnrolled(f"{self.subject_code} is not enrolled")

    def _check_in_study(self, what: str) -> None:
        for kind, left in (
            (ScreenFailed, "failed screening"),
            (SubjectWithdrawn, "withdrew"),
            (SubjectDied, "died"),
            (EndOfStudyRecorded, "ended the study"),
        ):
            if self.latest(kind) is not None:
                raise SubjectNotInStudy(f"{self.subject_code} {left}: no {what} is recorded")

    def _check_treatment(self, what: str) -> None:
        self.check_enrolled()
        self._check_in_study(f"{what} treatment")

    def _check_once(self, kind: type[Record], what: str) -> None:
        earlier = self.latest(kind)
        if earlier is not None:
            raise DuplicateRecord(
                f"the {what} is recorded (entry {earlier.version}); correct it instead"
            )

    def _check_chimerism_unique(
        self, study_day: int, method: ChimerismMethod, *, besides: int | None = None
    ) -> None:
        for earlier in self.live(ChimerismAssessed):
            if earlier.version != besides and (earlier["study_day"], earlier["method"]) == (
                study_day,
                method,
            ):
                raise DuplicateRecord(
                    f"{method.value} on study day {study_day} is recorded "
                    f"(entry {earlier.version}); correct it instead"
                )

    def _check_response_unique(self, month: int, *, besides: int | None = None) -> None:
        for earlier in self.live(ResponseAssessed):
            if earlier.version != besides and earlier["month"] == month:
                raise DuplicateRecord(
                    f"the month-{month} response is recorded (entry {earlier.version}); "
                    "correct it instead"
                )

    def _check_death(
        self, died_on: date, adverse_event: str | None, *, besides: int | None = None
    ) -> None:
        """Nothing is dated after death, and the grade-5 adverse events end on its date."""
        later = [
            f"{e.kind} (entry {e.version}, {self.dated_on(e)})"
            for e in self.entries.values()
            if e.is_live
            and e.version != besides
            and not EVENT_CLASSES[e.kind].MAY_FOLLOW_THE_END
            and e.kind != SubjectDied.kind()
            and (self.dated_on(e) or died_on) > died_on
        ]
        if later:
            raise DatedAfterDeath(f"records are dated after {died_on}: " + "; ".join(later))
        for name, event in self.adverse_events().items():
            if event["grade"] == 5 and event.get("resolved_on") != died_on:
                raise DeathRecordDisagrees(
                    f"grade-5 adverse event {name} ended on {event.get('resolved_on')}, "
                    f"the death is dated {died_on}"
                )
        if adverse_event is not None:
            named = self._adverse_event(adverse_event)
            if named["grade"] != 5:
                raise DeathRecordDisagrees(
                    f"the death names adverse event {adverse_event}, which is grade "
                    f"{named['grade']}, not 5; follow it up to grade 5 first"
                )

    def _check_end(self, ended_on: date, reason: EndOfStudyReason) -> None:
        """The end of study's reason fits the record, and it ends no earlier than a death."""
        death, withdrawal = self.death, self.withdrawal
        if (reason is EndOfStudyReason.DEATH) != (death is not None):
            raise DeathRecordDisagrees(
                "the end of study gives death as its reason exactly when a death is recorded"
            )
        if reason is EndOfStudyReason.WITHDRAWAL and withdrawal is None:
            raise ValueOutOfRange("record the withdrawal before ending the study for it")
        if death is not None and ended_on < death["died_on"]:
            raise ValueOutOfRange(f"ended on {ended_on}, before the death ({death['died_on']})")

    def _check_ratg_course(self, day: int, given_on: date, *, besides: int | None = None) -> None:
        course = self.protocol.ratg
        if not 1 <= day <= course.days:
            raise RatgDayOutOfCourse(f"rATG is given on days 1-{course.days}, not day {day}")
        for earlier in self.live(RatgDoseGiven):
            if earlier.version == besides:
                continue
            if earlier["day"] == day:
                raise RatgDayOutOfCourse(
                    f"rATG day {day} is recorded (entry {earlier.version}); correct it instead"
                )
            expected = earlier["given_on"] + timedelta(days=day - earlier["day"])
            if given_on != expected:
                raise RatgDayOutOfCourse(
                    f"rATG day {day} falls on {expected} (day {earlier['day']} was "
                    f"{earlier['given_on']}), not {given_on}"
                )

    def _check_msc_schedule(self, infusion_number: int, given_at: datetime) -> None:
        given = self.infusions
        # The next number follows the highest infusion that counts: a voided last infusion (one
        # that did not happen) frees its number; a voided earlier one leaves a gap.
        expected = max((e["infusion_number"] for e in given), default=0) + 1
        maximum = self.protocol.msc.max_infusions
        if infusion_number != expected or infusion_number > maximum or len(given) >= maximum:
            raise InfusionOutOfSequence(
                f"infusion {infusion_number} given; the next is {expected} (at most {maximum})"
            )
        self._check_infusion_interval(given_at)

    def _check_infusion_interval(self, given_at: datetime, *, besides: int | None = None) -> None:
        minimum = self.protocol.msc.min_days_between
        day = self._as_site_date(given_at)
        for other in self.infusions:
            if other.version == besides:
                continue
            apart = abs((day - self._as_site_date(other["given_at"])).days)
            if apart < minimum:
                raise InfusionTooSoon(
                    f"infusions are at least {minimum} days apart; infusion "
                    f"{other['infusion_number']} was {apart} days from this one"
                )

    def _check_cyclosporine_running(self, on: date, *, besides: int | None = None) -> None:
        started = self.latest(CyclosporineStarted)
        if started is None:
            raise CyclosporineNotStarted(f"{self.subject_code} has not started cyclosporine")
        if on < started["started_on"]:
            raise ValueOutOfRange(
                f"dated {on}, before cyclosporine started ({started['started_on']})"
            )
        stopped = [e for e in self.live(CyclosporineStopped) if e.version != besides]
        if stopped:
            raise CyclosporineNotStarted(
                f"cyclosporine was stopped on {stopped[-1]['stopped_on']} "
                f"(entry {stopped[-1].version})"
            )

    def _check_cyclosporine_course_after(self, started_on: date) -> None:
        """A corrected start date stays before every adjustment and the stop."""
        for entry in self.live(CyclosporineDoseAdjusted, CyclosporineStopped):
            on = self.dated_on(entry)
            if on is not None and on < started_on:
                raise ValueOutOfRange(
                    f"a {entry.kind} (entry {entry.version}) is dated {on}, before {started_on}"
                )

    def _adverse_event(self, name: str) -> dict[str, Any]:
        current = self.adverse_events().get(name)
        if current is None:
            raise AdverseEventNotFound(f"{self.subject_code} has no adverse event {name!r}")
        return current

    def _check_against_death(self, event: Mapping[str, Any]) -> None:
        """A grade-5 event ends on the date of death; the event the death names stays grade 5."""
        death = self.death
        if (
            death is not None
            and death["adverse_event"] is not None
            and death["adverse_event"] == event.get("adverse_event")
            and event["grade"] != 5
        ):
            raise DeathRecordDisagrees(
                f"the death names adverse event {death['adverse_event']}: it stays grade 5"
            )
        if (
            death is not None
            and event["grade"] == 5
            and event.get("resolved_on") != death["died_on"]
        ):
            raise DeathRecordDisagrees(
                f"a grade-5 adverse event ends on the date of death ({death['died_on']}), "
                f"not {event.get('resolved_on')}"
            )

    def _check_date(self, kind: type[Record], on: date) -> None:
        protocol = self.protocol
        _check_not_future(on, protocol)
        consent = self.consent
        if (
            consent is not None
            and not kind.MAY_PRECEDE_CONSENT
            and not kind.MAY_FOLLOW_THE_END
            and on < consent["consented_on"]
        ):
            raise DatedBeforeConsent(
                f"a {kind.kind()} dated {on} is before the TCLE was signed "
                f"({consent['consented_on']})"
            )
        if kind.MAY_FOLLOW_THE_END:
            return
        death = self.death
        if death is not None and kind is not SubjectDied and on > death["died_on"]:
            raise DatedAfterDeath(f"the subject died on {death['died_on']}; this is dated {on}")
        end = self.end_of_study
        if end is not None and on > end["ended_on"]:
            raise SubjectNotInStudy(f"the subject left the study on {end['ended_on']}")
        withdrawal = self.withdrawal
        if withdrawal is not None and kind.TREATMENT and on > withdrawal["withdrawn_on"]:
            raise SubjectNotInStudy(f"the subject withdrew on {withdrawal['withdrawn_on']}")

    def _record(self, event_class: type[Record], **values: Any) -> None:
        """Check the record's own values and its date, then record it."""
        event_class.check_values(values, self.protocol)
        if event_class.DATED_BY is not None:
            self._check_date(event_class, self._as_site_date(values[event_class.DATED_BY]))
        self.trigger_event(event_class, **values)


def _check_said(text: str, what: str) -> None:
    if not text.strip():
        raise QueryInvalid(f"{what}: the text is empty")


def _check_not_future(on: date, protocol: StudyProtocol) -> None:
    today = datetime.now(protocol.time_zone).date()
    if on > today:
        raise DatedInTheFuture(f"dated {on}, after today at the site ({today})")


GROUPS = tuple(
    group.__name__ for group in (enrolment, treatment, measurements, safety, disposition, changes)
)
"""The modules declaring record kinds, in the protocol's order: the order of :data:`KINDS`
(within a module, the order declared) and so of the ODM forms."""


def _place(kind: type[Record]) -> int:
    module = kind.__module__
    return GROUPS.index(module) if module in GROUPS else len(GROUPS)


KINDS: dict[str, type[Record]] = dict(sorted(DECLARED.items(), key=lambda item: _place(item[1])))
"""Every kind of record an author signs, by its name, in the order declared."""
EVENT_CLASSES: dict[str, type[Record]] = {
    **KINDS,
    Subject.Created.kind(): cast("type[Record]", Subject.Created),
}
"""Every event class of a subject, by name (with eventsourcing's ``Created``, which no author
signs: a subject is opened by ``Screened``)."""


def _declared_command(kind: Any) -> Callable[..., None]:
    """The verb of a kind that declares its own rules (``admit``, ``check_among``)."""

    def command(subject: Subject, **values: Any) -> None:
        kind.admit(subject, values)
        kind.check_among(subject, values, besides=None)
        subject._record(kind, **values)

    return command


RECORDERS: dict[str, Callable[..., None]] = {
    kind: getattr(Subject, event_class.COMMAND, None) or _declared_command(event_class)
    for kind, event_class in EVENT_CLASSES.items()
    if event_class.COMMAND is not None
}
"""The command method that records each kind of event on an existing subject.

``Screened`` is not here: it opens a subject (:meth:`Subject.screen`).
"""
