"""An account as the administration pages show it: its role's standing and its keys' validity,
judged now (``/admin`` and each change's page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from api.web.account import key_state
from domain.account import Account, RegisteredKey

ROLE_STANDINGS = ("in force", "awaiting training", "lapsed", "no role")
"""Where an account's role stands now, as the page says it."""


@dataclass(frozen=True)
class AccountLine:
    """An account as the page shows it, judged now."""

    account: Account
    role_standing: str
    """One of :data:`ROLE_STANDINGS`."""
    keys: list[tuple[RegisteredKey, str]]
    """Its keys, newest first, each with ``valid``, ``not yet valid`` or ``ended``."""


def account_line(account: Account, now: datetime) -> AccountLine:
    """``account`` with its role's standing and its keys' validity at ``now``."""
    if account.role is None:
        standing = "no role"
    elif account.role_lapsed(now):
        standing = "lapsed"
    elif account.role_in_force(now) is None:
        standing = "awaiting training"
    else:
        standing = "in force"
    keys = sorted(account.keys.values(), key=lambda key: key.registered_at, reverse=True)
    return AccountLine(account, standing, [(key, key_state(key, now)) for key in keys])
