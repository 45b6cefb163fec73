"""Attributing a signed event to a person: which key, valid when, under which printed name.

The store runs this before it accepts an event and ``sealtrail verify`` runs it again on every
stored event, so a write that was refused could never have been stored, and a stored event that
no longer passes is named.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.account import SYSTEM_USER, Account, RegisteredKey
from domain.signed import SignedAggregate
from domain.wire import instant_from_wire, instant_to_wire
from signatures.authorship import verify_signature
from signatures.errors import (
    ContentMismatch,
    KeyNotValid,
    KeyRevokedRetroactively,
    MeaningInvalid,
    SigningTimeInvalid,
    UnknownKey,
)
from signatures.keys import public_key_from_text

CLOCK_SKEW = timedelta(minutes=5)
"""How far a signer's clock may be from the server's: a signature may claim a time this much
after the store recorded the event, or this much before the signer's key took effect."""

MEANINGS = ("authorship", "review", "approval", "responsibility")
"""Meanings of a signature (21 CFR 11.50(a)(3)); ordinary entries are signed as authorship."""


@dataclass(frozen=True)
class Signer:
    """The signature manifestation of 21 CFR 11.50, as the author signed it."""

    user_id: str
    printed_name: str
    key_id: str
    signed_at: str
    meaning: str


def signer_of(body: dict[str, Any]) -> Signer:
    """Read the signer's manifestation from a signed body.

    Raises:
        ContentMismatch: a part of the manifestation is missing or malformed.
    """
    signer = body.get("signer")
    if not isinstance(signer, dict):
        raise ContentMismatch("the signed body has no signer")
    fields = {
        "user_id": signer.get("user_id"),
        "printed_name": signer.get("printed_name"),
        "key_id": body.get("key_id"),
        "signed_at": body.get("signed_at"),
        "meaning": body.get("meaning"),
    }
    present = {name: value for name, value in fields.items() if isinstance(value, str) and value}
    missing = sorted(fields.keys() - present.keys())
    if missing:
        raise ContentMismatch(
            "the signature manifestation lacks %(missing)s", missing=", ".join(missing)
        )
    if present["meaning"] not in MEANINGS:
        raise ContentMismatch("%(meaning)r is not a signature meaning", meaning=present["meaning"])
    return Signer(**present)


KEY_NOT_VALID = {
    True: "%(key_id)s of %(user_id)s was not valid at %(recorded_at)s (valid from "
    "%(effective_from)s, revoked at %(revoked_at)s)",
    False: "%(key_id)s of %(user_id)s was not valid at %(recorded_at)s (valid from "
    "%(effective_from)s)",
}
"""What a key not valid when its event was recorded says, by whether the key was revoked."""

AccountLookup = Callable[[str], Account | None]


def attribute(
    event: SignedAggregate.Event,
    accounts: AccountLookup,
    anchor: RegisteredKey,
    body: dict[str, Any] | None = None,
) -> Signer:
    """Check that ``event`` is what its author signed, with a key valid when it was recorded.

    ``anchor`` is the server's own key, the trust anchor for events the server signs. ``body``
    is the event's signed body if the caller has already parsed it (verify has).

    Raises:
        ContentMismatch: the stored record differs from the signed body, or the printed name
            differs from the account's.
        UnknownKey: the signer has no such key (or no account).
        KeyNotValid: the key was not yet valid, or already revoked, when the event was recorded.
        KeyRevokedRetroactively: the key was revoked from before the event by a change stated
            as retroactive.
        SignatureInvalid: the signature does not verify.
        SigningTimeInvalid: the signature claims a time after the event was recorded.
        EventReplayed: the event is stored at another version than its author signed.
    """
    if body is None:
        body = event.authorship.body()
    signer = signer_of(body)
    check_meaning(signer.meaning, type(event))
    key = _key_for(signer, accounts, anchor)
    if not key.is_valid_at(event.recorded_at):
        if key.revoked_retroactively and key.effective_from <= event.recorded_at:
            assert key.revoked_at is not None
            raise KeyRevokedRetroactively(
                "%(key_id)s of %(user_id)s was not valid at %(recorded_at)s: "
                "disowned retroactively from %(revoked_at)s",
                key_id=signer.key_id,
                user_id=signer.user_id,
                recorded_at=event.recorded_at.isoformat(),
                revoked_at=key.revoked_at.isoformat(),
            )
        raise KeyNotValid(
            KEY_NOT_VALID[key.revoked_at is not None],
            key_id=signer.key_id,
            user_id=signer.user_id,
            recorded_at=event.recorded_at.isoformat(),
            effective_from=key.effective_from.isoformat(),
            revoked_at=key.revoked_at.isoformat() if key.revoked_at else None,
        )
    verify_signature(
        public_key_from_text(key.public_key),
        event.authorship.signed_bytes,
        event.authorship.signature,
    )
    # Only once the signature holds is the body evidence worth comparing the record with.
    event.check_matches_body(body)
    _check_signing_time(signer, event, key)
    return signer


def check_meaning(meaning: str, kind: type[SignedAggregate.Event]) -> None:
    """A signature means what its kind of event declares (``MEANINGS``): review, approval and
    responsibility for a signature over records, made through the signing ceremony; every other
    event is signed as its author's (authorship).

    Raises:
        MeaningInvalid: the meaning does not belong to this kind of event.
    """
    if meaning in kind.MEANINGS:
        return
    if kind.MEANINGS == SignedAggregate.Event.MEANINGS:
        raise MeaningInvalid(
            "a %(kind)s is signed as authorship; %(meaning)r is given only to a "
            "signature over records, through the signing ceremony (POST "
            "/v1/signatures)",
            kind=kind.kind(),
            meaning=meaning,
        )
    raise MeaningInvalid(
        "a %(kind)s means %(join)s, not %(meaning)r",
        kind=kind.kind(),
        join=", ".join(kind.MEANINGS),
        meaning=meaning,
    )


def signing_time(signer: Signer) -> datetime:
    """The instant the signer says they signed at.

    Raises:
        ContentMismatch: ``signed_at`` is not a UTC instant.
    """
    try:
        return instant_from_wire(signer.signed_at)
    except ValueError:
        raise ContentMismatch(
            "signed_at %(signed_at)r is not a UTC instant", signed_at=signer.signed_at
        ) from None


def check_signed_within(signer: Signer, received_at: datetime, window: timedelta) -> None:
    """On the way in: a signature is not older than the signing window when the store gets it.

    A signature's time is part of what it says (21 CFR 11.50); one claimed long before the
    server sees it is a back-dated claim, or one held back, and either way not contemporaneous.

    Raises:
        SigningTimeInvalid: signed more than ``window`` before ``received_at``.
    """
    if signing_time(signer) < received_at - window:
        raise SigningTimeInvalid(
            "signed at %(signed_at)s, more than %(window)s s before the server "
            "received it at %(received_at)s (the signing window)",
            signed_at=signer.signed_at,
            window=int(window.total_seconds()),
            received_at=instant_to_wire(received_at),
        )


def _check_signing_time(signer: Signer, event: SignedAggregate.Event, key: RegisteredKey) -> None:
    """A signature cannot be made after the store recorded it, nor before its key took effect
    (11.50: the time is part of it), give or take the signer's clock allowance."""
    signed_at = signing_time(signer)
    if signed_at > event.recorded_at + CLOCK_SKEW:
        raise SigningTimeInvalid(
            "signed at %(signed_at)s, after the store recorded it at %(recorded_at)s",
            signed_at=signer.signed_at,
            recorded_at=instant_to_wire(event.recorded_at),
        )
    if signed_at < key.effective_from - CLOCK_SKEW:
        raise SigningTimeInvalid(
            "signed at %(signed_at)s, before the key %(key_id)s took effect at %(effective_from)s",
            signed_at=signer.signed_at,
            key_id=signer.key_id,
            effective_from=key.effective_from.isoformat(),
        )


def _key_for(signer: Signer, accounts: AccountLookup, anchor: RegisteredKey) -> RegisteredKey:
    if signer.user_id == SYSTEM_USER:
        if signer.key_id != anchor.key_id:
            raise UnknownKey(
                "%(key_id)s is not the server's key (%(key_id2)s)",
                key_id=signer.key_id,
                key_id2=anchor.key_id,
            )
        return anchor
    account = accounts(signer.user_id)
    if account is None:
        raise UnknownKey("no account %(user_id)r is registered", user_id=signer.user_id)
    if account.printed_name != signer.printed_name:
        raise ContentMismatch(
            "signed as %(printed_name)r, the account's printed name is %(printed_name2)r",
            printed_name=signer.printed_name,
            printed_name2=account.printed_name,
        )
    key = account.keys.get(signer.key_id)
    if key is None:
        raise UnknownKey(
            "%(key_id)s is not registered for %(user_id)s",
            key_id=signer.key_id,
            user_id=signer.user_id,
        )
    return key
