"""People who act on the store, their roles, sites and signing keys, as signed events.

Identity lives in the same log as the clinical records (21 CFR 11.10(d) and ICH E6(R3) 4.2.2:
who could change what belongs in the audit trail). Passwords are not records and live apart.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import Any

from domain.errors import DomainError
from domain.signed import SignedAggregate

SYSTEM_USER = "system"
"""The server itself: signs account administration done at its console, and receipts."""


class Role(Enum):
    """What a person may do (the permission matrix is in ``api.authorisation``)."""

    SITE_COORDINATOR = "site_coordinator"
    INVESTIGATOR = "investigator"
    MONITOR = "monitor"
    AUDITOR = "auditor"
    SPONSOR_DATA_MANAGER = "sponsor_data_manager"
    ADMINISTRATOR = "administrator"
    SYSTEM = "system"


class KeyAlreadyRegistered(DomainError):
    """The same public key is registered twice for an account (answered 409)."""

    title = "Key already registered"


class KeyNotRegistered(DomainError):
    """A revocation names a key the account never had (answered 404)."""

    title = "Key not registered"


@dataclass(frozen=True)
class RegisteredKey:
    """A public key registered for an account, with its period of validity."""

    key_id: str
    public_key: str
    valid_from: datetime
    registered_at: datetime
    revoked_at: datetime | None = None

    @property
    def effective_from(self) -> datetime:
        """A key never signs before it was registered, whatever ``valid_from`` claims."""
        return max(self.valid_from, self.registered_at)

    def is_valid_at(self, moment: datetime) -> bool:
        """True from :attr:`effective_from` (inclusive) until ``revoked_at`` (exclusive)."""
        return self.effective_from <= moment and (
            self.revoked_at is None or moment < self.revoked_at
        )


def account_stream(user_id: str) -> str:
    """An account's stream name: ``accounts/<user id>``."""
    return f"accounts/{user_id}"


class Account(SignedAggregate):
    """One person's (or the server's) account. User ids are never reused."""

    class Event(SignedAggregate.Event):
        """An event of an account's stream; the signed body addresses it by ``account``."""

        @staticmethod
        def stream_of(body: dict[str, Any]) -> str:
            return account_stream(str(body.get("account")))

    class Opened(Event, SignedAggregate.Created):
        """An account was created with a printed name, a role and the sites it acts for."""

        printed_name: str
        role: Role
        sites: tuple[str, ...]

    class KeyRegistered(Event):
        """A public key was registered for the account, valid from a given instant."""

        key_id: str
        public_key: str
        valid_from: datetime

        def apply(self, account: Account) -> None:
            account.keys[self.key_id] = RegisteredKey(
                self.key_id, self.public_key, self.valid_from, registered_at=self.timestamp
            )

    class KeyRevoked(Event):
        """A key stopped being valid at a stated instant, for a stated reason."""

        key_id: str
        revoked_at: datetime
        reason: str

        def apply(self, account: Account) -> None:
            key = account.keys[self.key_id]
            account.keys[self.key_id] = replace(key, revoked_at=self.revoked_at)

    def __init__(self, printed_name: str, role: Role, sites: tuple[str, ...]) -> None:
        self.printed_name = printed_name
        self.role = role
        self.sites = tuple(sites)
        self.keys: dict[str, RegisteredKey] = {}

    @property
    def user_id(self) -> str:
        """The account's user id, e.g. ``coord1``."""
        return self.stream.split("/", 1)[1]

    @classmethod
    def open(
        cls, *, user_id: str, printed_name: str, role: Role, sites: tuple[str, ...]
    ) -> Account:
        """Create an account."""
        account: Account = cls._create(
            cls.Opened,
            stream=account_stream(user_id),
            printed_name=printed_name,
            role=role,
            sites=tuple(sites),
        )
        return account

    def register_key(self, *, key_id: str, public_key: str, valid_from: datetime) -> None:
        """Register a public signing key for this account."""
        if key_id in self.keys:
            raise KeyAlreadyRegistered(f"{key_id} is already registered for {self.user_id}")
        self.trigger_event(
            self.KeyRegistered, key_id=key_id, public_key=public_key, valid_from=valid_from
        )

    def revoke_key(self, *, key_id: str, revoked_at: datetime, reason: str) -> None:
        """Revoke a key from a stated instant; later signatures with it are refused."""
        if key_id not in self.keys:
            raise KeyNotRegistered(f"{key_id} is not registered for {self.user_id}")
        self.trigger_event(self.KeyRevoked, key_id=key_id, revoked_at=revoked_at, reason=reason)

    def acts_for(self, site: str) -> bool:
        """True if the account may act on subjects of ``site``."""
        return site in self.sites
