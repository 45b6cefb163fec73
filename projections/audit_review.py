"""What a reviewer of the audit trail must look at, per site and person, for a period.

ICH E6(R3) and the EMA guideline on computerised systems (2023, section 6.2) expect the audit
trail to be reviewed, not only kept: a reviewer looks for entries that do not fit how a site
works. This module reads the log's events alone (subjects, accounts, the authentication log)
and flags, for the events recorded in a period:

- an entry recorded outside its site's working week, in the site's time zone;
- an entry made more than the protocol's ``entry_lag_days`` after the date it is about (the
  kind's declared date, ``DATED_BY``);
- an entry dated before an entry of the same kind already made for the subject (backdated);
- a person whose corrections or voids at a site exceed the protocol's rates (per 100 entries
  they made there in the period);
- a serious adverse event notified after its clock, or still not notified past it;
- a login more than ``dormant_days`` after the account's previous one (or its opening);
- a correction or void of a record an investigator had signed (``RecordsSigned``) or a monitor
  had verified against source (``SourceVerified``), which the signature or the verification no
  longer covers.

The thresholds and each site's working week are the protocol file's (``[audit_review]``), so a
second reading of the same events gives the same findings and the same digest.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from domain.account import Account
from domain.attribution import signer_of
from domain.authentication import SUCCEEDED, AuthenticationLog
from domain.clinical import ClockStatus
from domain.protocol import StudyProtocol, protocol_for
from domain.signed import SignedAggregate
from domain.subject import Subject
from domain.subject.source_verification import SourceVerified
from domain.subject_facts import notification_clocks
from domain.wire import instant_to_wire
from projections.audit_trail import Period, SignedRecord


class Flag(Enum):
    """What a finding is about; the value is how a reviewer reads it."""

    OUTSIDE_WORKING_HOURS = "entered outside the site's working hours"
    LATE_ENTRY = "entered long after the date it is about"
    BACKDATED = "dated before an entry of its kind already made"
    CORRECTION_RATE = "corrections above the study's rate"
    VOID_RATE = "voids above the study's rate"
    SAE_PAST_CLOCK = "serious adverse event notified past its clock"
    DORMANT_LOGIN = "login after a long time without one"
    CHANGED_AFTER_SIGNATURE = "changed after an investigator signed it"
    CHANGED_AFTER_SDV = "changed after a monitor verified it against source"


FINDING_COLUMNS = (
    "flag",
    "site",
    "user_id",
    "subject",
    "entry",
    "kind",
    "position",
    "recorded_at",
    "detail",
)
"""A finding's columns, in the order the CSV gives them."""


@dataclass(frozen=True)
class Finding:
    """One thing a reviewer must look at.

    Attributes:
        flag: what it is about.
        site: the site it happened at ("" for an account of no site).
        user_id: whose act it was.
        subject: the subject's study code ("" for a login or a rate).
        entry: the entry (version) of the subject's record it is about (0 when none).
        kind: the kind of the event (``BloodCountRecorded``, ``Attempted``...; "" for a rate).
        position: the event's position in the log (0 for a rate, which is about many).
        recorded_at: when the store recorded it, UTC ("" for a rate).
        detail: the sentence the reviewer checks it by.
    """

    flag: Flag
    site: str
    user_id: str
    subject: str
    entry: int
    kind: str
    position: int
    recorded_at: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        """The finding as JSON-ready values, in column order."""
        row = {name: getattr(self, name) for name in FINDING_COLUMNS}
        row["flag"] = self.flag.name.lower()
        return row

    def as_text(self) -> dict[str, str]:
        """The finding as text, for a CSV row."""
        return {name: str(value) for name, value in self.as_dict().items()}


@dataclass
class PersonAtSite:
    """What one person did at one site in the period, and how many findings it drew."""

    site: str
    user_id: str
    entries: int = 0
    corrections: int = 0
    voids: int = 0
    logins: int = 0
    flagged: Counter[str] = field(default_factory=Counter)

    def rate(self, changes: int) -> Decimal | None:
        """``changes`` per 100 entries made, to one decimal (None with no entry made)."""
        if not self.entries:
            return None
        return (Decimal(100 * changes) / self.entries).quantize(Decimal("0.1"))

    def as_dict(self) -> dict[str, Any]:
        """The person's counts and rates as JSON-ready values (rates as decimal strings)."""
        counted = ("site", "user_id", "entries", "corrections", "voids", "logins")
        return {
            **{name: getattr(self, name) for name in counted},
            "correction_rate_percent": _text(self.rate(self.corrections)),
            "void_rate_percent": _text(self.rate(self.voids)),
            "findings": dict(sorted(self.flagged.items())),
        }


@dataclass(frozen=True)
class AuditReview:
    """The findings of one review of a study's (or one site's) audit trail for a period."""

    study: str
    site: str | None
    period: Period
    people: tuple[PersonAtSite, ...]
    findings: tuple[Finding, ...]

    @property
    def findings_sha256(self) -> str:
        """SHA-256 of the findings as JSON (sorted keys, no spaces): what a review saw."""
        text = json.dumps(
            [f.as_dict() for f in self.findings], sort_keys=True, separators=(",", ":")
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def as_dict(self) -> dict[str, Any]:
        """The review as one JSON document."""
        return {
            "study": self.study,
            "site": self.site,
            "period": {"from": _day(self.period.first), "to": _day(self.period.last)},
            "people": [person.as_dict() for person in self.people],
            "findings": [finding.as_dict() for finding in self.findings],
            "findings_count": len(self.findings),
            "findings_sha256": self.findings_sha256,
        }


def review_audit_trail(
    events: Iterable[tuple[int, SignedAggregate.Event]],
    *,
    study: str,
    period: Period,
    today: date,
    site: str | None = None,
) -> AuditReview:
    """The audit-trail review of ``study`` (or of one ``site``) for the events recorded in
    ``period`` (dates of each site's calendar), from the log's events in log order.

    Args:
        events: every event of the log with its position, oldest first.
        study: the study reviewed.
        period: the recording dates reviewed, inclusive.
        today: the day of the review (a notification clock still running stands as of then).
        site: one site's findings only; None for every site's.
    """
    reviewer = _Reviewer(protocol_for(study), period, today)
    for position, event in events:
        reviewer.follow(position, event)
    findings = [*reviewer.findings, *reviewer.rate_findings(), *reviewer.sae_findings()]
    kept = [f for f in findings if site is None or f.site == site]
    for finding in kept:
        reviewer.person(finding.site, finding.user_id).flagged[finding.flag.name.lower()] += 1
    people = [p for p in reviewer.people.values() if site is None or p.site == site]
    return AuditReview(
        study=study,
        site=site,
        period=period,
        people=tuple(sorted(people, key=lambda p: (p.site, p.user_id))),
        findings=tuple(sorted(kept, key=lambda f: (f.site, f.user_id, f.position, f.flag.name))),
    )


class _Reviewer:
    """Follows the log in order, keeping what each flag needs to know of what came before."""

    def __init__(self, protocol: StudyProtocol, period: Period, today: date) -> None:
        self.protocol = protocol
        self.settings = protocol.audit_review
        self.period = period
        self.today = today
        self.subjects: dict[str, Subject] = {}
        self.signed: dict[str, SignedRecord] = {}
        self.verified: dict[str, dict[int, list[tuple[int, str]]]] = {}
        """Each subject's source verifications, by entry verified: (their entry, hash seen)."""
        self.accounts: dict[str, Account] = {}
        self.last_login: dict[str, datetime] = {}
        self.authors: dict[tuple[str, int], str] = {}
        self.people: dict[tuple[str, str], PersonAtSite] = {}
        self.findings: list[Finding] = []

    def person(self, site: str, user_id: str) -> PersonAtSite:
        return self.people.setdefault((site, user_id), PersonAtSite(site, user_id))

    def follow(self, position: int, event: SignedAggregate.Event) -> None:
        if isinstance(event, Subject.Event):
            if event.stream.split("/", 1)[0] == self.protocol.study_id:
                self.follow_subject(position, event)
        elif isinstance(event, Account.Event):
            self.accounts[event.stream] = event.mutate(self.accounts.get(event.stream))
            if isinstance(event, Account.Opened):
                self.last_login[event.stream.split("/", 1)[1]] = event.recorded_at
        elif isinstance(event, AuthenticationLog.Attempted):
            self.follow_login(position, event)

    def in_period(self, moment: datetime, site: str | None) -> bool:
        week = self.settings.week_of(site) if site else self.settings.working_week
        return self.period.holds(moment.astimezone(week.time_zone).date())

    # -- a subject's events ---------------------------------------------------------------

    def follow_subject(self, position: int, event: Subject.Event) -> None:
        stream = event.stream
        before = self.subjects.get(stream)
        latest = _latest_dates(before, event.kind()) if before is not None else None
        subject: Subject = event.mutate(before)
        self.subjects[stream] = subject
        record = self.signed.setdefault(stream, SignedRecord())
        changed = event.changed_entry()
        hash_before = None if changed is None else record.hashes.get(changed)
        lapsed = record.follow(event)
        verified = self.verified.setdefault(stream, {})
        if isinstance(event, SourceVerified):
            verified.setdefault(event.entry, []).append(
                (event.originator_version, event.record_hash)
            )
        at = _At(self, position, event, subject)
        self.authors[stream, event.originator_version] = at.user_id
        if not self.in_period(event.recorded_at, subject.site):
            return
        person = self.person(subject.site, at.user_id)
        if changed is not None:
            if isinstance(event, Subject.EntryVoided):
                person.voids += 1
            else:
                person.corrections += 1
            unverified = [by for by, seen in verified.get(changed, []) if seen == hash_before]
            for flag, earlier, what in (
                (Flag.CHANGED_AFTER_SIGNATURE, lapsed, "signature(s)"),
                (Flag.CHANGED_AFTER_SDV, unverified, "source verification(s)"),
            ):
                if earlier:
                    at.flag(
                        flag,
                        f"entry {changed} changed after the {what} of entry "
                        f"{', '.join(str(number) for number in earlier)}, which no longer "
                        "cover(s) it",
                        entry=changed,
                    )
        if getattr(type(event), "ABOUT_RECORDS", False):
            return
        person.entries += 1
        self.check_entry(at, latest)

    def check_entry(self, at: _At, latest: date | None) -> None:
        """The flags of one new record: when it was entered, and the date it is about."""
        week = self.settings.week_of(at.subject.site)
        if not week.holds(at.event.recorded_at):
            local = at.event.recorded_at.astimezone(week.time_zone)
            at.flag(
                Flag.OUTSIDE_WORKING_HOURS,
                f"recorded {local:%a %Y-%m-%d %H:%M} local time; the site works {week.describe()}",
            )
        dated = at.subject.dated_on(at.subject.entries[at.event.originator_version])
        if dated is None:
            return
        entered = at.event.recorded_at.astimezone(week.time_zone).date()
        lag = (entered - dated).days
        if lag > self.settings.entry_lag_days:
            at.flag(
                Flag.LATE_ENTRY,
                f"about {dated}, entered {entered}: {lag} days later (the study allows "
                f"{self.settings.entry_lag_days})",
            )
        if latest is not None and dated < latest:
            at.flag(
                Flag.BACKDATED,
                f"about {dated}, before {latest}, the date of a {at.event.kind()} already "
                "entered for the subject",
            )

    # -- logins -----------------------------------------------------------------------------

    def follow_login(self, position: int, event: AuthenticationLog.Attempted) -> None:
        if event.outcome != SUCCEEDED:
            return
        previous = self.last_login.get(event.user_id)
        self.last_login[event.user_id] = event.occurred_at
        if not self.in_period(event.occurred_at, None):
            return
        account = self.accounts.get(f"accounts/{event.user_id}")
        sites = account.sites if account is not None and account.sites else ("",)
        for site in sites:
            self.person(site, event.user_id).logins += 1
        if previous is None or event.occurred_at - previous <= timedelta(
            days=self.settings.dormant_days
        ):
            return
        days = (event.occurred_at - previous).days
        for site in sites:
            self.findings.append(
                Finding(
                    Flag.DORMANT_LOGIN, site, event.user_id, "", 0, event.kind(), position,
                    instant_to_wire(event.recorded_at),
                    f"signed in over {event.channel} {days} days after the account's previous "
                    f"sign-in or opening (the study flags more than {self.settings.dormant_days})",
                )
            )  # fmt: skip

    # -- what is judged over the whole period ------------------------------------------------

    def rate_findings(self) -> Iterator[Finding]:
        """A person whose corrections or voids at a site exceed the study's rate."""
        limits = (
            (Flag.CORRECTION_RATE, "corrections", self.settings.correction_rate_percent),
            (Flag.VOID_RATE, "voids", self.settings.void_rate_percent),
        )
        for person in self.people.values():
            for flag, name, limit in limits:
                changes = getattr(person, name)
                rate = person.rate(changes)
                if changes and (rate is None or rate > limit):
                    made = f"{rate}% of" if rate is not None else "with no"
                    yield Finding(
                        flag, person.site, person.user_id, "", 0, "", 0, "",
                        f"{changes} {name}, {made} the {person.entries} entries they made "
                        f"(the study flags above {limit}%)",
                    )  # fmt: skip

    def sae_findings(self) -> Iterator[Finding]:
        """Each serious adverse event notified late in the period, or still overdue."""
        as_of = min(self.today, self.period.last) if self.period.last else self.today
        for subject in self.subjects.values():
            for name, clock in notification_clocks(subject, as_of).items():
                if clock.status is ClockStatus.LATE and clock.first_notified_on is not None:
                    if not self.period.holds(clock.first_notified_on):
                        continue
                elif clock.status is not ClockStatus.OVERDUE:
                    continue
                reported = subject.entries[subject.adverse_events()[name]["reported_in"]]
                author = self.authors[subject.stream, reported.version]
                yield Finding(
                    Flag.SAE_PAST_CLOCK, subject.site, author, subject.subject_code,
                    reported.version, reported.kind, 0, "",
                    f"adverse event {name}: {clock.status.value}, {clock.days_late} day(s) "
                    f"past its clock ({'; '.join(clock.reasons)})",
                )  # fmt: skip


@dataclass(frozen=True)
class _At:
    """One event of a subject being reviewed: who made it, and how to flag it."""

    reviewer: _Reviewer
    position: int
    event: Subject.Event
    subject: Subject

    @property
    def user_id(self) -> str:
        return signer_of(self.event.authorship.body()).user_id

    def flag(self, flag: Flag, detail: str, *, entry: int | None = None) -> None:
        self.reviewer.findings.append(
            Finding(
                flag=flag,
                site=self.subject.site,
                user_id=self.user_id,
                subject=self.subject.subject_code,
                entry=self.event.originator_version if entry is None else entry,
                kind=self.event.kind(),
                position=self.position,
                recorded_at=instant_to_wire(self.event.recorded_at),
                detail=detail,
            )
        )


def _latest_dates(subject: Subject, kind: str) -> date | None:
    """The latest date the live entries of ``kind`` already made for the subject are about."""
    dates = [subject.dated_on(e) for e in subject.entries_by_kind().get(kind, []) if e.is_live]
    return max((d for d in dates if d is not None), default=None)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()
