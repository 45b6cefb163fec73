"""What an audit-trail review looks for, as the protocol file sets it (``[audit_review]``).

Each site keeps its own working week in its own time zone; an entry recorded outside it is one
a reviewer looks at. The thresholds (lag from the clinical date to its entry, correction and
void rates, days without a login) are the study's, so that two reviews of the same period
flag the same things.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.errors import AuditReviewInvalid

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
"""The days of a working week as the protocol file names them (Monday first, as ISO 8601)."""


@dataclass(frozen=True)
class WorkingWeek:
    """When a site works: the days, the hours of each, in the site's own time zone.

    Attributes:
        time_zone: the site's time zone (IANA).
        days: the working days, as :data:`WEEKDAYS` names them.
        start: the first working minute of a working day, local time.
        end: when the working day ends, local time (an entry at ``end`` is outside).
    """

    time_zone: ZoneInfo
    days: frozenset[str]
    start: time
    end: time

    def holds(self, moment: datetime) -> bool:
        """True when ``moment`` (an aware instant) falls in working hours at the site."""
        local = moment.astimezone(self.time_zone)
        return WEEKDAYS[local.weekday()] in self.days and self.start <= local.time() < self.end

    def describe(self) -> str:
        """The week as a reviewer reads it: ``Mon-Fri 07:00-19:00 America/Sao_Paulo``."""
        days = ",".join(day for day in WEEKDAYS if day in self.days)
        return f"{days} {self.start:%H:%M}-{self.end:%H:%M} {self.time_zone.key}"


@dataclass(frozen=True)
class AuditReviewSettings:
    """The study's thresholds of an audit-trail review, and each site's working week.

    Attributes:
        entry_lag_days: calendar days from a record's clinical date to its entry above which
            the entry is flagged.
        correction_rate_percent: corrections per 100 entries a person made at a site above
            which their corrections are flagged.
        void_rate_percent: the same for voids.
        dormant_days: days since an account's previous login (or its opening) above which a
            login is flagged.
        working_week: the week of a site the file does not list (the study's time zone).
        sites: each listed site's own week, by site code.
    """

    entry_lag_days: int
    correction_rate_percent: Decimal
    void_rate_percent: Decimal
    dormant_days: int
    working_week: WorkingWeek
    sites: Mapping[str, WorkingWeek]

    def week_of(self, site: str) -> WorkingWeek:
        """The working week of ``site``: its own, else the study's."""
        return self.sites.get(site, self.working_week)


def check_review_period(first: date | None, last: date | None) -> None:
    """A review's period runs forward: its first day is not after its last.

    Raises:
        AuditReviewInvalid: ``first`` is after ``last``.
    """
    if first is not None and last is not None and first > last:
        raise AuditReviewInvalid(
            "the period begins on %(first)s, after it ends (%(last)s)", first=first, last=last
        )
