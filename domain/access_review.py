"""The periodic review of who has which access (ICH E6(R3) 4.2.2, EMA guideline on computerised
systems and electronic data in clinical trials (2023), user access management).

An administrator reviews every site's accounts, a site's investigator their own site's. The
review is a signed ``AccessReviewed`` event on the reviewer's own account: each account seen,
with the role, end, sites and live keys it held as the reviewer saw them, and the changes the
reviewer decided. What was seen must be what the store held when the review was recorded, so
a review names the access it approved, not a stale copy of it. The protocol file says how often
each account's access is reviewed and how early a role's end is announced.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from domain.errors import AccessReviewInvalid, AccessReviewStale, ProtocolDefinitionInvalid
from domain.text import says_nothing

if TYPE_CHECKING:
    from domain.account import Account

AccountSeen = Mapping[str, Any]
"""One account as a reviewer saw it: ``user_id``, ``role`` and ``until`` (when it has them),
``sites`` and ``keys`` (the ids of its live keys)."""


@dataclass(frozen=True)
class AccessReviewSchedule:
    """``[access_review]`` of the protocol file: the review's period and the lapse warning."""

    period_days: int
    """An account's access is reviewed at least once in this many days."""
    lapse_warning_days: int
    """A role ending within this many days is announced by the report."""

    def __post_init__(self) -> None:
        if self.period_days < 1 or self.lapse_warning_days < 0:
            raise ProtocolDefinitionInvalid(
                "access_review: period_days is 1 or more, lapse_warning_days 0 or more"
            )


def access_as_seen(account: Account, at: datetime) -> dict[str, Any]:
    """What a reviewer sees of ``account`` at ``at``: its role and end (when it has them), its
    sites and the ids of its keys valid then, in the form an ``AccessReviewed`` signs."""
    seen: dict[str, Any] = {"user_id": account.user_id}
    if account.role is not None:
        seen["role"] = account.role
    if account.role_until is not None:
        seen["until"] = account.role_until
    seen["sites"] = list(account.sites)
    seen["keys"] = sorted(key.key_id for key in account.keys.values() if key.is_valid_at(at))
    return seen


def check_review(accounts: Sequence[AccountSeen], changes: Sequence[str]) -> None:
    """A review names at least one account, each once; each change decided says something.

    Raises:
        AccessReviewInvalid: no account, an account named twice, or an empty change.
    """
    if not accounts:
        raise AccessReviewInvalid("an access review names at least one account it reviewed")
    named = [str(seen.get("user_id")) for seen in accounts]
    twice = sorted({user_id for user_id in named if named.count(user_id) > 1})
    if twice:
        raise AccessReviewInvalid(
            "an access review names each account once: %(join)s", join=", ".join(twice)
        )
    if any(says_nothing(str(change)) for change in changes):
        raise AccessReviewInvalid("each change decided says what it is")


def check_seen_as_held(
    accounts: Sequence[AccountSeen],
    site: str | None,
    find_account: Callable[[str], Account | None],
    at: datetime,
) -> None:
    """Each account seen exists, is within the review's scope (acts for ``site``, when the
    review is of one site) and held at ``at`` exactly the access the reviewer saw.

    Raises:
        AccessReviewInvalid: an account that does not exist, or outside the review's site.
        AccessReviewStale: an account whose access changed since the reviewer saw it.
    """
    for seen in accounts:
        user_id = str(seen.get("user_id"))
        account = find_account(user_id)
        if account is None:
            raise AccessReviewInvalid("no account %(user_id)r to review", user_id=user_id)
        if site is not None and not account.acts_for(site):
            raise AccessReviewInvalid(
                "%(user_id)s does not act for site %(site)r: outside this review of the site",
                user_id=user_id,
                site=site,
            )
        if dict(seen) != access_as_seen(account, at):
            raise AccessReviewStale(
                "%(user_id)s's access is not as the review saw it (it changed "
                "since): read the accounts again and review what they hold now",
                user_id=user_id,
            )
