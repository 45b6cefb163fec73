"""A site's delegation of authority log, as sites keep it on paper: one line per delegation,
who to, which tasks, for which period, delegated by whom, and when and why it ended.

Computed from the accounts as their signed events fold them (:mod:`domain.delegation`): the
same lines on the API (CSV), the console (CSV or a signed PDF) and in any replay.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from domain.account import Account
from domain.delegation import Delegation
from domain.wire import instant_to_wire

COLUMNS = (
    "site",
    "user_id",
    "printed_name",
    "role",
    "tasks",
    "starts_on",
    "ends_on",
    "delegated_by",
    "delegated_by_name",
    "signed_at",
    "ended_at",
    "end_reason",
)


@dataclass(frozen=True)
class DelegationLine:
    """One delegation of the log, with the names of the two people it binds."""

    user_id: str
    printed_name: str
    role: str
    delegation: Delegation
    delegated_by_name: str

    def status_on(self, day: date) -> str:
        """In force, ended (and why), expired or not yet begun, on ``day``."""
        held = self.delegation
        if held.ended_at is not None:
            return f"ended: {held.end_reason}"
        if held.in_period(day):
            return "in force"
        return "not yet begun" if day < held.starts_on else "expired"

    def as_text(self) -> dict[str, str]:
        """The line as the CSV's cells."""
        held = self.delegation
        return {
            "site": held.site,
            "user_id": self.user_id,
            "printed_name": self.printed_name,
            "role": self.role,
            "tasks": " ".join(task.value for task in held.tasks),
            "starts_on": held.starts_on.isoformat(),
            "ends_on": "" if held.ends_on is None else held.ends_on.isoformat(),
            "delegated_by": held.delegated_by,
            "delegated_by_name": self.delegated_by_name,
            "signed_at": _instant(held.signed_at),
            "ended_at": _instant(held.ended_at),
            "end_reason": held.end_reason or "",
        }


def delegation_log(accounts: Iterable[Account], site: str) -> list[DelegationLine]:
    """Every delegation ever made at ``site``, in the order they were signed."""
    everyone = list(accounts)
    names = {account.user_id: account.printed_name for account in everyone}
    lines = [
        DelegationLine(
            account.user_id,
            account.printed_name,
            "" if account.role is None else account.role.value,
            delegation,
            names.get(delegation.delegated_by, delegation.delegated_by),
        )
        for account in everyone
        for delegation in account.delegations
        if delegation.site == site
    ]
    return sorted(lines, key=lambda line: (line.delegation.signed_at, line.user_id))


def _instant(moment: datetime | None) -> str:
    return "" if moment is None else instant_to_wire(moment)
