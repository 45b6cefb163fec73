"""The delegation of authority log: which of a site's tasks its principal investigator gave to
whom, and for which period (ICH E6(R3) 2.3: the investigator supervises every person to whom
they delegate trial-related activities, and keeps a record of it).

Each delegation is a signed event on the delegate's account (:class:`domain.account.Account`),
so the account's stream answers "who could do what, where, when" beside its role, sites and
training. The tasks are a coded vocabulary (:class:`Task`). Who is the site's principal
investigator is itself a delegation: the administrator designates an investigator of the site
with the task ``principal_investigator``, and from then on that investigator delegates the
site's other tasks. Whether a write needs a delegation, and from which date, the study's
protocol says (``[delegation]`` of its file, :class:`DelegationRule`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from domain.errors import DelegationInvalid


class Task(Enum):
    """A task of the site that is delegated, by its code in the log."""

    PRINCIPAL_INVESTIGATOR = "principal_investigator"
    DATA_ENTRY = "data_entry"
    CONSENT = "consent"
    AE_ASSESSMENT = "ae_assessment"
    SIGNING = "signing"

    @property
    def title(self) -> str:
        """How the printed log names the task."""
        return TASK_TITLES[self]


TASK_TITLES = {
    Task.PRINCIPAL_INVESTIGATOR: "Principal investigator: responsible for the site; delegates",
    Task.DATA_ENTRY: "Data entry (case report forms, answers to queries)",
    Task.CONSENT: "Obtaining informed consent",
    Task.AE_ASSESSMENT: "Adverse event assessment",
    Task.SIGNING: "Signing clinical records (investigators only)",
}

DESIGNATION = frozenset({Task.PRINCIPAL_INVESTIGATOR})
"""The one delegation an administrator signs: who the site's principal investigator is."""


def tasks_from_codes(codes: object) -> tuple[Task, ...]:
    """Tasks from their codes, each once, in the vocabulary's order.

    Raises:
        DelegationInvalid: no task, a code that is no task, or the same task twice.
    """
    if not isinstance(codes, list | tuple) or not codes:
        raise DelegationInvalid("a delegation names at least one task")
    known = {task.value: task for task in Task}
    tasks = []
    for code in codes:
        if not isinstance(code, str) or code not in known:
            raise DelegationInvalid(
                "%(code)r is not a task; the tasks are %(tasks)s", code=code, tasks=", ".join(known)
            )
        tasks.append(known[code])
    if len(set(tasks)) != len(tasks):
        raise DelegationInvalid("a delegation names each task once")
    return tuple(task for task in Task if task in tasks)


@dataclass(frozen=True)
class Delegation:
    """Tasks at one site, from ``starts_on`` to ``ends_on`` (UTC days, both included; no end: until
    ended), delegated by ``delegated_by``; ``ended_at`` (and why) once a later event ended it."""

    site: str
    tasks: tuple[Task, ...]
    starts_on: date
    ends_on: date | None
    delegated_by: str
    signed_at: datetime
    ended_at: datetime | None = None
    end_reason: str | None = None

    def covers(self, task: Task, on: date) -> bool:
        """Whether this delegation gives ``task`` on day ``on``."""
        return task in self.tasks and self.in_period(on)

    def in_period(self, on: date) -> bool:
        """Whether day ``on`` is within the period and the delegation was not ended."""
        if self.ended_at is not None:
            return False
        return self.starts_on <= on and (self.ends_on is None or on <= self.ends_on)


EARLIEST_START = date(1970, 1, 1)
"""No delegation starts before the beginning of the trail's time (the same day a key's validity
can start from): a date before it is a typing error, not a delegation made on paper."""
LONGEST_PERIOD_YEARS = 100
"""No delegation lasts longer than a working life; a delegation meant to last until it is ended
states no end, rather than a far-off one (9999-12-31) that reads as a date in the log."""


def check_period(starts_on: date, ends_on: date | None) -> None:
    """Refuse a period that starts before :data:`EARLIEST_START`, ends before it starts, or
    lasts longer than :data:`LONGEST_PERIOD_YEARS`.

    Raises:
        DelegationInvalid: the period is not one a person could work in.
    """
    if starts_on < EARLIEST_START:
        raise DelegationInvalid(
            "a delegation starts on or after %(earliest_start)s, not %(starts_on)s",
            earliest_start=EARLIEST_START.isoformat(),
            starts_on=starts_on.isoformat(),
        )
    if ends_on is None:
        return
    if ends_on < starts_on:
        raise DelegationInvalid(
            "the period ends (%(ends_on)s) before it starts (%(starts_on)s)",
            ends_on=ends_on.isoformat(),
            starts_on=starts_on.isoformat(),
        )
    if ends_on.year - starts_on.year > LONGEST_PERIOD_YEARS:
        raise DelegationInvalid(
            "a delegation lasts at most %(longest_period_years)s years, not "
            "until %(ends_on)s; state no end for one that lasts until it is ended",
            longest_period_years=LONGEST_PERIOD_YEARS,
            ends_on=ends_on.isoformat(),
        )


def check_tasks_given_by(tasks: tuple[Task, ...], *, by_administrator: bool) -> None:
    """An administrator designates the principal investigator and nothing else; an
    investigator delegates every task but that one.

    Raises:
        DelegationInvalid: tasks the signer does not give.
    """
    if by_administrator and frozenset(tasks) != DESIGNATION:
        raise DelegationInvalid(
            "an administrator designates the site's principal investigator "
            "(task principal_investigator, alone); the investigator delegates the other tasks"
        )
    if not by_administrator and Task.PRINCIPAL_INVESTIGATOR in tasks:
        raise DelegationInvalid(
            "the principal investigator is designated by an administrator, not delegated"
        )


@dataclass(frozen=True)
class DelegationRule:
    """From which day (UTC, as every day of a delegation) a recording role's write at a site
    needs a delegation of the write's task; None: this study does not require one."""

    required_from: date | None = None

    def applies_on(self, day: date) -> bool:
        """Whether a write on ``day`` needs a delegation."""
        return self.required_from is not None and day >= self.required_from
