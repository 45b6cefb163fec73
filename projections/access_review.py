"""Whose access is due for review, and which roles end soon: computed from account events.

The report of the periodic user access review (:mod:`domain.access_review`): each account that
holds a role or a site and was not named by an ``AccessReviewed`` within the protocol's period
(or never), and each role whose end has come or comes within the protocol's warning. Pure: the
accounts as folded from their events, the reviews, the instant asked and the protocol's
schedule in, rows out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.access_review import AccessReviewSchedule
from domain.account import SYSTEM_USER, Account
from domain.attribution import signer_of
from domain.wire import instant_to_wire


@dataclass(frozen=True)
class LastReview:
    """The latest review that named an account: when it was recorded, and by whom."""

    reviewed_at: datetime
    reviewed_by: str


def in_review_scope(account: Account, site: str | None = None) -> bool:
    """Whether a review (of ``site``, or of every site) covers ``account``: a person's account
    that holds a role or a site (and acts for ``site``, when one is named)."""
    if account.user_id == SYSTEM_USER or (account.role is None and not account.sites):
        return False
    return site is None or account.acts_for(site)


def last_reviews(reviews: Iterable[Account.AccessReviewed]) -> dict[str, LastReview]:
    """For each account any review named, the latest such review."""
    latest: dict[str, LastReview] = {}
    for review in reviews:
        for seen in review.accounts:
            user_id = str(seen.get("user_id"))
            known = latest.get(user_id)
            if known is None or review.recorded_at > known.reviewed_at:
                signer = signer_of(review.authorship.body())
                latest[user_id] = LastReview(review.recorded_at, signer.user_id)
    return latest


def access_review_report(
    accounts: Iterable[Account],
    reviews: Iterable[Account.AccessReviewed],
    now: datetime,
    schedule: AccessReviewSchedule,
) -> dict[str, Any]:
    """The accounts due for review and the roles ending, as of ``now``.

    An account is due when it holds a role or a site (the server's own is not reviewed) and no
    review named it within ``schedule.period_days`` before ``now``; a role is listed when it
    has an end no later than ``schedule.lapse_warning_days`` after ``now`` (lapsed when the end
    has come).
    """
    latest = last_reviews(reviews)
    since = now - timedelta(days=schedule.period_days)
    warn_until = now + timedelta(days=schedule.lapse_warning_days)
    due, ending = [], []
    for account in accounts:
        if not in_review_scope(account):
            continue
        last = latest.get(account.user_id)
        if last is None or last.reviewed_at < since:
            due.append(_due_row(account, last))
        if account.role_until is not None and account.role_until <= warn_until:
            ending.append(_ending_row(account, now))
    return {
        "as_of": instant_to_wire(now),
        "period_days": schedule.period_days,
        "lapse_warning_days": schedule.lapse_warning_days,
        "not_reviewed": due,
        "roles_ending": ending,
    }


def _due_row(account: Account, last: LastReview | None) -> dict[str, Any]:
    return {
        "user_id": account.user_id,
        "role": account.role and account.role.value,
        "sites": list(account.sites),
        "last_reviewed_at": last and instant_to_wire(last.reviewed_at),
        "last_reviewed_by": last and last.reviewed_by,
    }


def _ending_row(account: Account, now: datetime) -> dict[str, Any]:
    assert account.role is not None and account.role_until is not None
    return {
        "user_id": account.user_id,
        "role": account.role.value,
        "sites": list(account.sites),
        "until": instant_to_wire(account.role_until),
        "lapsed": account.role_lapsed(now),
    }
