"""Whether each subject's data, and each site's or the study's database, were open, frozen or
locked at a packet's checkpoint (issue 18, point 3): a file of the packet, derived from the
events like every other, so ``sealtrail packet verify`` derives it again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.account import SPONSOR_ACCOUNT, Account
from domain.subject import Subject
from domain.subject.locks import LOCK_STEPS, pending_unlock_request

LOCK_STATE = "lock-state.json"
"""Its path in the packet."""


def lock_state(
    study: str,
    subjects: Mapping[str, Subject],
    accounts: Mapping[str, Account],
    site: str | None = None,
) -> dict[str, Any] | None:
    """The databases of ``study`` locked (the study itself, or ``study/site``) and each
    subject's state, with the entry of its latest freeze, lock or unlock step and any unlock
    request awaiting the investigator (of a site copy, ``site``: its own and the study's lock
    only, as its subjects are its own); None when no subject has such a step and no database is
    locked (a packet built before locks existed derives no such file, and verifies as it
    did)."""
    sponsor = accounts.get(SPONSOR_ACCOUNT)
    shown = {study, f"{study}/{site}"} if site is not None else None
    databases = [
        scope
        for scope in (() if sponsor is None else sponsor.database_locks)
        if scope.split("/", 1)[0] == study and (shown is None or scope in shown)
    ]
    steps = {code: subject.live(*LOCK_STEPS) for code, subject in subjects.items()}
    if not databases and not any(steps.values()):
        return None
    return {
        "study": study,
        "databases_locked": sorted(databases),
        "subjects": {
            code: {
                "state": subject.lock_state.value,
                "last_step": steps[code][-1].version if steps[code] else None,
                "unlock_requested": pending_unlock_request(subject),
            }
            for code, subject in subjects.items()
        },
    }
