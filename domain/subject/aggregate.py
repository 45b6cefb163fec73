"""A trial subject's life in the study, as a signed, chained event stream.

Every record kind is declared once, in its group module (``subject.record_blood_count(...)``
records a :class:`~domain.subject.measurements.BloodCountRecorded`); :meth:`Subject.record` is
the one way a record is taken: the subject admits it (consented, enrolled, still in the study:
:meth:`Record.admit`), then it is checked by :meth:`Subject.check_record`, the one rule a new
record and a correction of one both keep: its place among the other records, its own values,
its date. Each event is kept as an *entry*, numbered by its version (:mod:`.entries`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from enum import Enum
from string import Formatter
from typing import Any, TypeAlias

from domain.errors import (
    ConsentRequired,
    DatedAfterDeath,
    DatedBeforeConsent,
    DatedInTheFuture,
    DuplicateRecord,
    EntryNotFound,
    NotEnrolled,
    ProtocolViolation,
    SignatureRefused,
    SubjectNotInStudy,
    ValueOutOfRange,
)
from domain.protocol import StudyProtocol, protocol_for
from domain.signed import SignedAggregate
from domain.subject import (
    casebook,
    changes,
    disposition,
    enrolment,
    locks,
    measurements,
    safety,
    source_verification,
    treatment,
)
from domain.subject.entries import Entry, Query, subject_stream
from domain.subject.keeping import EntryKeeping, LatestEntry
from domain.subject.record import DECLARED, TOPIC_PREFIX, Record, Requirement
from domain.vocabulary import EndOfStudyReason, Sex, Status


class Subject(EntryKeeping, SignedAggregate):
    """A pseudonymous trial subject, known only by study code (LGPD: no identity in events)."""

    TOPIC = TOPIC_PREFIX
    Event: TypeAlias = Record
    # The kinds as eventsourcing nests events, named here for type checking; a kind declared
    # since is set on the class by domain.subject.kinds.
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
    CasebookSigned: TypeAlias = casebook.CasebookSigned
    SubjectFrozen: TypeAlias = locks.SubjectFrozen
    SubjectLocked: TypeAlias = locks.SubjectLocked
    SubjectUnlockRequested: TypeAlias = locks.SubjectUnlockRequested
    SubjectUnlocked: TypeAlias = locks.SubjectUnlocked
    SourceVerified: TypeAlias = source_verification.SourceVerified

    def __init__(
        self, site: str, sex: Sex, age: int, screened_on: date, synthetic: bool | None = None
    ) -> None:
        del sex, age, screened_on  # read from the Screened entry, which corrections may change
        self._site = site
        self.synthetic = bool(synthetic)
        self.entries: dict[int, Entry] = {}
        self.unlock_requested_by: dict[str, str] = {}
        """Who asked for each unlock (by the request's entry, as text): another countersigns."""

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

    def copy_for_command(self) -> Subject:
        """A copy to run a command on (see :meth:`SignedAggregate.copy_for_command`), with its
        own entries and index of them (:meth:`EntryKeeping.keep_copies_of`)."""
        copied: Subject = super().copy_for_command()
        copied.keep_copies_of(self)
        return copied

    consent = LatestEntry(enrolment.ConsentObtained)
    """The TCLE in force (the latest consent or re-consent)."""
    eligibility = LatestEntry(enrolment.EligibilityAssessed)
    """The latest eligibility assessment."""
    enrolment = LatestEntry(enrolment.Enrolled)
    """The enrolment record."""
    death = LatestEntry(safety.SubjectDied)
    """The death record."""
    withdrawal = LatestEntry(disposition.SubjectWithdrawn)
    """The withdrawal record."""
    end_of_study = LatestEntry(disposition.EndOfStudyRecorded)
    """The end-of-study record."""

    @property
    def infusions(self) -> list[Entry]:
        """MSC infusions given, in order."""
        return sorted(self.live(treatment.MscInfusionGiven), key=lambda e: e["infusion_number"])

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
        if self.latest(enrolment.ScreenFailed) is not None:
            return Status.SCREEN_FAILED
        if self.enrolment is not None:
            return Status.ENROLLED
        if self.consent is not None:
            return Status.CONSENTED
        return Status.SCREENED

    def eligibility_failures(self) -> list[str]:
        """Why the subject may not be enrolled (empty when eligible)."""
        return enrolment.eligibility_failures(self)

    def adverse_events(self) -> dict[str, dict[str, Any]]:
        """Each adverse event as it stands: the report with its follow-ups applied in order."""
        current: dict[str, dict[str, Any]] = {}
        reported = safety.AdverseEventReported
        for entry in self.live(reported, safety.AdverseEventFollowedUp):
            name = entry["adverse_event"]
            if entry.kind == reported.kind():
                current[name] = {**entry.fields, "reported_in": entry.version, "follow_ups": []}
            elif name in current:
                current[name].update(entry["changes"])
                current[name]["follow_ups"].append(entry.version)
        return current

    @property
    def lock_state(self) -> locks.LockState:
        """Whether the subject's records are open, frozen or locked."""
        return locks.lock_state_of(self)

    @property
    def queries(self) -> list[Query]:
        """Every query raised about the subject's records, oldest first."""
        return changes.queries_of(self)

    def dated_on(self, entry: Entry) -> date | None:
        """The date an entry is about, in the site's calendar."""
        kind = DECLARED.get(entry.kind)
        name = kind.DATED_BY if kind is not None else None
        return self.as_site_date(entry[name]) if name else None

    def as_site_date(self, value: date | datetime) -> date:
        """A date, or an instant as the date it was at the site.

        Raises:
            ValueOutOfRange: an instant with no date at the site (0001-01-01T00:00:00Z is in
                year 0 west of Greenwich, which Python's dates do not hold).
        """
        if isinstance(value, datetime):
            try:
                return value.astimezone(self.protocol.time_zone).date()
            except OverflowError:
                raise ValueOutOfRange(
                    "%(instant)s has no date in the site's time zone (%(zone)s)",
                    instant=value.isoformat(),
                    zone=self.protocol.time_zone.key,
                ) from None
        return value

    # -- recording -------------------------------------------------------------------------------

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
        check_screening({"age": age, "screened_on": screened_on}, protocol)
        subject: Subject = cls._create(
            enrolment.Screened,
            stream=subject_stream(protocol.study_id, subject_code),
            site=site,
            sex=sex,
            age=age,
            screened_on=screened_on,
            synthetic=synthetic,
        )
        return subject

    def record(self, kind: type[Record], **values: Any) -> None:
        """Record a new entry of ``kind``: admitted by the subject, then checked as every
        record of its kind is (:meth:`check_record`).

        Raises:
            TypeError: ``kind`` is not recorded by a command (screening opens a subject, a
                signature is made through :meth:`sign_records`), or the values are not its items.
        """
        fields = self.check_new(kind, values)
        self.trigger_event(kind, **fields)

    def check_new(self, kind: type[Record], values: Mapping[str, Any]) -> dict[str, Any]:
        """Refuse a new entry of ``kind`` as :meth:`record` would, recording nothing: what a
        form checks before the person signs (the author's signature and version are checked
        when it is recorded). The record's fields, as its event takes them.

        Raises:
            TypeError: as :meth:`record`.
        """
        if kind.COMMAND is None:
            raise TypeError(f"a {kind.kind()} is not recorded by a command of its own")
        fields = kind.arguments(values)
        locks.check_open_to(self, kind)
        if kind.REQUIRES is Requirement.ENROLMENT:
            self.check_enrolled()
        elif kind.REQUIRES is Requirement.CONSENT:
            self.check_consent_obtained()
        kind.admit(self, fields)
        self.check_record(kind, fields, besides=None)
        return fields

    def check_record(
        self, kind: type[Record], fields: Mapping[str, Any], *, besides: int | None
    ) -> None:
        """The one rule a new record and a correction both keep: in its place among the other
        records (``besides``: the entry corrected, left out of them), its own values possible
        under the protocol, and its date before today and within the subject's time in the
        study; and the subject's records not frozen or locked to it."""
        locks.check_open_to(self, kind)
        if kind.ONCE is not None:
            self.check_once(kind, kind.ONCE, fields, besides=besides)
        kind.check_among(self, fields, besides=besides)
        kind.check_values(fields, self.protocol)
        if kind.DATED_BY is not None:
            self.check_date(kind, self.as_site_date(fields[kind.DATED_BY]))

    def check_date(self, kind: type[Record], on: date) -> None:
        """Not in the future; not before consent, after death or after the end of the study
        (unless the kind may be); no treatment after a withdrawal."""
        check_not_future(on, self.protocol)
        consent = self.consent
        if (
            consent is not None
            and not (kind.MAY_PRECEDE_CONSENT or kind.MAY_FOLLOW_THE_END)
            and on < consent["consented_on"]
        ):
            raise DatedBeforeConsent(
                "a %(kind)s dated %(on)s is before the TCLE was signed (%(consented_on)s)",
                kind=kind.kind(),
                on=on,
                consented_on=consent["consented_on"],
            )
        if kind.MAY_FOLLOW_THE_END:
            return
        death = self.death
        if death is not None and kind is not safety.SubjectDied and on > death["died_on"]:
            raise DatedAfterDeath(
                "the subject died on %(died_on)s; this is dated %(on)s",
                died_on=death["died_on"],
                on=on,
            )
        end = self.end_of_study
        if end is not None and on > end["ended_on"]:
            raise SubjectNotInStudy(
                "the subject left the study on %(ended_on)s", ended_on=end["ended_on"]
            )
        withdrawal = self.withdrawal
        if withdrawal is not None and kind.TREATMENT and on > withdrawal["withdrawn_on"]:
            raise SubjectNotInStudy(
                "the subject withdrew on %(withdrawn_on)s", withdrawn_on=withdrawal["withdrawn_on"]
            )

    def sign_records(self, *, entries: Sequence[Mapping[str, Any]], meaning: str) -> None:
        """Sign records of the subject (21 CFR 11.50): each named by entry and record hash.

        The hash must be the record's as it stands now, so the signer signs what they read; a
        later correction or void leaves the signature in place, no longer covering the current
        value. Who may sign (an investigator of the subject's site) and the ceremony (the
        password re-entered, 11.200) are checked before this is called.
        """
        locks.check_open_to(self, changes.RecordsSigned)
        covered = changes.covered_records(self, entries, meaning)
        self.trigger_event(changes.RecordsSigned, entries=covered)

    def sign_casebook(
        self,
        *,
        milestone: str,
        state_hash: str,
        entries: Sequence[Mapping[str, Any]],
        meaning: str,
    ) -> None:
        """Sign the subject's whole casebook at a milestone (ICH E6(R3) 2.12, 21 CFR 11.50):
        over its state hash (the chain hash of its latest event) and every live record, each
        by entry and record hash as it stands now. Who may sign and the ceremony are checked
        before this is called, as for :meth:`sign_records`.
        """
        locks.check_open_to(self, casebook.CasebookSigned)
        fields = casebook.signed_casebook(
            self, milestone=milestone, state_hash=state_hash, entries=entries, meaning=meaning
        )
        self.trigger_event(casebook.CasebookSigned, **fields)

    # -- what the subject admits -----------------------------------------------------------------

    def check_consent_obtained(self) -> None:
        """Nothing clinical is recorded before informed consent."""
        if self.consent is None:
            raise ConsentRequired(
                "%(subject_code)s has no signed TCLE on record", subject_code=self.subject_code
            )

    def check_enrolled(self) -> None:
        """Treatment and study assessments are for enrolled subjects only."""
        self.check_consent_obtained()
        if self.enrolment is None:
            raise NotEnrolled("%(subject_code)s is not enrolled", subject_code=self.subject_code)

    def check_in_study(self, what: str) -> None:
        """The subject has not failed screening, withdrawn, died or ended the study."""
        for kind, left in (
            (enrolment.ScreenFailed, "failed screening"),
            (disposition.SubjectWithdrawn, "withdrew"),
            (safety.SubjectDied, "died"),
            (disposition.EndOfStudyRecorded, "ended the study"),
        ):
            if self.latest(kind) is not None:
                raise SubjectNotInStudy(
                    "%(subject_code)s %(left)s: no %(what)s is recorded",
                    subject_code=self.subject_code,
                    left=left,
                    what=what,
                )

    def check_treatment(self, what: str) -> None:
        """Treatment is given to enrolled subjects still in the study."""
        self.check_enrolled()
        self.check_in_study(f"{what} treatment")

    def check_once(
        self, kind: type[Record], once: str, fields: Mapping[str, Any], *, besides: int | None
    ) -> None:
        """A record made once (in the subject's life, or for the values of the items ``once``
        names: a month's response) is not made again; ``besides``, a corrected entry, is not
        counted."""
        named = [name for _, name, _, _ in Formatter().parse(once) if name]
        same = {name: fields[name] for name in named}
        what = once.format(**{k: v.value if isinstance(v, Enum) else v for k, v in same.items()})
        for earlier in reversed(self.others(kind, besides)):
            if all(earlier[k] == v for k, v in same.items()):
                raise DuplicateRecord(
                    "%(what)s is recorded (entry %(version)s); correct it instead",
                    what=what,
                    version=earlier.version,
                )

    def check_signable(self, number: int) -> None:
        """A signature covers an existing, live record (not a correction, void or signature)."""
        target = self.entries.get(number)
        if target is not None and DECLARED[target.kind].ABOUT_RECORDS:
            raise SignatureRefused(
                "entry %(number)s is a %(kind)s: sign the record it is about",
                number=number,
                kind=target.kind,
            )
        self.live_entry(number, None, SignatureRefused)

    def live_entry(self, number: int, kind: str | None, refusal: type[ProtocolViolation]) -> Entry:
        """The entry a change, signature or query names: there, of ``kind`` (when one is
        named), and not voided; ``refusal`` says which of them was asked for."""
        target = self.entries.get(number)
        if target is None:
            raise EntryNotFound(
                "%(subject_code)s has no entry %(number)s",
                subject_code=self.subject_code,
                number=number,
            )
        if kind is not None and target.kind != kind:
            raise refusal(f"entry {number} is a {target.kind}, not a {kind}")
        if not target.is_live:
            raise refusal(f"entry {number} was voided by entry {target.voided_by}")
        return target


def check_screening(fields: Mapping[str, Any], protocol: StudyProtocol) -> None:
    """A screening's own rules: a possible age, not dated in the future (any age may be
    screened; enrolment decides)."""
    enrolment.Screened.check_values(fields, protocol)
    check_not_future(fields["screened_on"], protocol)


def check_not_future(on: date, protocol: StudyProtocol) -> None:
    """Nothing is dated after today at the site."""
    today = datetime.now(protocol.time_zone).date()
    if on > today:
        raise DatedInTheFuture(
            "dated %(on)s, after today at the site (%(today)s)", on=on, today=today
        )
