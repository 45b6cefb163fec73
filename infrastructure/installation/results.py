"""One check's outcome, as ``sealtrail check-install`` prints it and its record keeps it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """What a check found."""

    PASS = "PASS"  # noqa: S105 - a check's outcome, not a password
    """The installation is as it must be."""
    WARN = "WARN"
    """Not checked, by choice of the installation (said why); no failure."""
    FAIL = "FAIL"
    """The installation is not as it must be, or the check could not establish it."""
    SKIP = "SKIP"
    """Not run, because a check it needs failed (the line above says which)."""


@dataclass(frozen=True)
class CheckResult:
    """A check's name, status and what it found, in one line."""

    name: str
    status: Status
    detail: str

    @property
    def failed(self) -> bool:
        """True for FAIL and SKIP: what was not established fails the run."""
        return self.status in (Status.FAIL, Status.SKIP)

    def line(self, width: int) -> str:
        """``name  STATUS  detail``, the name padded to ``width``."""
        return f"{self.name:<{width}}  {self.status.value:<4}  {self.detail}"

    def as_dict(self) -> dict[str, str]:
        """The record's form."""
        return {"name": self.name, "status": self.status.value, "detail": self.detail}


def passed(name: str, detail: str) -> CheckResult:
    """A check that passed."""
    return CheckResult(name, Status.PASS, detail)


def failed(name: str, detail: str) -> CheckResult:
    """A check that failed."""
    return CheckResult(name, Status.FAIL, detail)
