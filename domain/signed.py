"""Aggregates whose every event is signed by its author and chained to the event before it.

This is how eventsourcing 8 kept ``__previous_hash__`` on its events, brought back for 9.x:
the aggregate tracks the hash of its last event (its chain head); each new event records that
hash as ``previous_hash`` and the author's :class:`~domain.authorship.Authorship`; the event's
own hash is derived from those (see :mod:`signatures.chain`). The event store refuses to store
an event whose signature or link does not hold, so the chain in the store is the chain here.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Sequence
from dataclasses import field, fields
from datetime import datetime
from functools import lru_cache
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

from domain.authorship import Authorship, authorship_in_force, idempotency_key_in_force
from domain.errors import VersionConflict, VersionNotSigned
from domain.wire import recorded_instant, to_wire
from signatures.chain import GENESIS_HASH, event_hash
from signatures.errors import ContentMismatch, EventReplayed
from signatures.log_leaf import event_leaf

EarlierInStream = Callable[[], Sequence["SignedAggregate.Event"]]
"""The events before a new one in its stream, read only when called."""

# Stream ids are name-based (RFC 9562 UUIDv5) so anyone can derive a subject's id from its code.
STREAM_NAMESPACE = uuid.UUID("5d4e1b8e-2f6c-5a43-9d0e-7c1a3b9f6e21")


@lru_cache(maxsize=65_536)
def stream_id(stream: str) -> uuid.UUID:
    """The aggregate id of a named stream, e.g. ``NCT01297972/RP-101``."""
    return uuid.uuid5(STREAM_NAMESPACE, stream)


def signed_version(body: dict[str, Any]) -> int | None:
    """The version of its stream a signed body says the event takes; None if it says none.

    Bodies recorded before the version was signed say none; the store takes none such now.
    """
    version = body.get("version")
    if version is None:
        return None
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise VersionNotSigned(
            "the signed version is a whole number from 1, not %(version)r", version=version
        )
    return version


def check_signed_version(body: dict[str, Any], version: int) -> None:
    """Check that the author signed the place the event takes: version ``version`` of its stream.

    The signature then binds the event to its place, so a copy of it stored anywhere else is
    named by ``verify`` (:class:`~signatures.errors.EventReplayed`). The event store runs this
    on every event it is handed; the events already recorded are only held to
    :meth:`SignedAggregate.Event.check_at_signed_place`, which lets a body say no version.

    Raises:
        VersionNotSigned: the body says no version (or not a whole number from 1).
        VersionConflict: the author signed another version (the stream moved on, or a copy).
    """
    signed = signed_version(body)
    if signed is None:
        raise VersionNotSigned(
            "the signed body must say the version the event takes (here "
            "%(version)s): see docs/signing.md",
            version=version,
        )
    if signed != version:
        raise VersionConflict(
            "the author signed version %(signed)s; the event would be version "
            "%(version)s of its stream: reload and sign again",
            signed=signed,
            version=version,
        )


@lru_cache(maxsize=1024)
def _data_fields(kind: type[SignedAggregate.Event]) -> tuple[str, ...]:
    """The names of an event class's fields that its author writes in ``data`` (not the
    bookkeeping ones), in declaration order: looked up once per class, not once per event."""
    return tuple(f.name for f in fields(kind) if f.name not in kind.BOOKKEEPING)


class SignedAggregate(Aggregate):
    """Base of every aggregate in sealtrail's store."""

    chain_head: str
    _stream: str

    class Event(Aggregate.Event):
        """An event of a signed aggregate: its stream, its chain link and its authorship."""

        stream: str
        previous_hash: str
        authorship: Authorship = field(default_factory=authorship_in_force, init=False)
        idempotency_key: str | None = field(default_factory=idempotency_key_in_force, init=False)

        # Fields of the event that are bookkeeping, not what the author wrote in ``data``.
        BOOKKEEPING: ClassVar[frozenset[str]] = frozenset(
            {
                "originator_id",
                "originator_version",
                "originator_topic",
                "timestamp",
                "stream",
                "previous_hash",
                "authorship",
                "idempotency_key",
            }
        )

        MEANINGS: ClassVar[tuple[str, ...]] = ("authorship",)
        """What a signature of this kind of event may mean (21 CFR 11.50(a)(3)): its author's
        authorship, unless the kind declares other meanings."""

        @staticmethod
        def stream_of(body: dict[str, Any]) -> str:
            """The stream a signed body addresses; each aggregate says how."""
            raise NotImplementedError

        @classmethod
        def kind(cls) -> str:
            """The event's kind as authors name it in the signed body."""
            return cls.__name__

        @property
        def event_hash(self) -> str:
            """This event's chain hash (see :mod:`signatures.chain`)."""
            return event_hash(
                self.previous_hash, self.authorship.signed_bytes, self.authorship.signature
            )

        @property
        def recorded_at(self) -> datetime:
            """When the store recorded the event (the server's clock)."""
            return self.timestamp

        def leaf_data(self, position: int, chain_hash: str | None = None) -> bytes:
            """What this event's leaf in the Merkle log commits to (:mod:`signatures.log_leaf`).

            ``chain_hash`` is :attr:`event_hash` if the caller has computed it already (verify
            has: it needs it for the chain too).
            """
            return event_leaf(
                position=position,
                stream_id=self.originator_id.hex,
                version=self.originator_version,
                recorded_at=recorded_instant(self.recorded_at),
                event_hash=self.event_hash if chain_hash is None else chain_hash,
            )

        def signed_data(self) -> dict[str, Any]:
            """The event's own fields, written as the author's ``data`` object must read.

            An optional field left empty is absent from ``data`` (never ``null``), so an author
            signs only what they answered.
            """
            return {
                name: to_wire(value)
                for name in _data_fields(type(self))
                if (value := getattr(self, name)) is not None
            }

        def check_matches_body(self, body: dict[str, Any]) -> None:
            """Check that this stored event says exactly what its author signed.

            Raises:
                ContentMismatch: kind, stream, identity or data differ from the signed body.
            """
            if body.get("kind") != self.kind():
                raise ContentMismatch(
                    "the author signed a %(kind)r, the store holds a %(kind2)r",
                    kind=body.get("kind"),
                    kind2=self.kind(),
                )
            if self.stream_of(body) != self.stream:
                raise ContentMismatch(
                    "the author signed a record of %(stream_of)r, the store files it "
                    "under %(stream)r",
                    stream_of=self.stream_of(body),
                    stream=self.stream,
                )
            if stream_id(self.stream) != self.originator_id:
                # The event names its stream, but its row is in another (moved there whole).
                raise ContentMismatch(
                    "the author signed a record of %(stream)r, the store files it in "
                    "another stream (id %(originator_id)s)",
                    stream=self.stream,
                    originator_id=self.originator_id,
                )
            if body.get("data") != self.signed_data():
                raise ContentMismatch("the stored fields differ from the data the author signed")
            self.check_at_signed_place(body)

        def check_against_stream(self, earlier: EarlierInStream) -> None:
            """The store's check of a new event against the events before it in its stream.

            The sealed event store runs it on every event it is handed, before the save;
            ``earlier()`` reads the stream's stored events and those earlier in the same save,
            in version order, and is called only by an event kind that needs them. Most kinds
            check nothing here; a kind that does says so by overriding this.

            Raises:
                DomainError or VerificationError: the event must not be stored.
            """
            del earlier

        def check_at_signed_place(self, body: dict[str, Any]) -> None:
            """Check that this stored event is at the version of its stream its author signed.

            A body recorded before the version was signed says none; such an event is checked
            for copies by its signature instead (``sealtrail verify``, docs/signing.md).

            Raises:
                EventReplayed: the event is stored at another version than the one signed.
            """
            try:
                signed = signed_version(body)
            except VersionNotSigned as error:
                raise ContentMismatch(error.template, **error.parameters) from None
            if signed is not None and signed != self.originator_version:
                raise EventReplayed(
                    "the author signed version %(signed)s of the stream; this copy is "
                    "stored as version %(originator_version)s",
                    signed=signed,
                    originator_version=self.originator_version,
                )

        def mutate(self, aggregate: Any) -> Any:
            aggregate = super().mutate(aggregate)
            aggregate._stream = self.stream
            aggregate.chain_head = self.event_hash
            if self.idempotency_key is not None:
                aggregate.__dict__.setdefault("idempotency_keys", {})[self.idempotency_key] = (
                    self.originator_version
                )
            return aggregate

    class Created(Event, Aggregate.Created):
        """The first event of a stream; it commits to the genesis hash."""

    @classmethod
    def _create(cls, event_class: Any, *, id: uuid.UUID | None = None, **kwargs: Any) -> Any:
        stream = kwargs["stream"]
        return super()._create(
            event_class, id=id or stream_id(stream), previous_hash=GENESIS_HASH, **kwargs
        )

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        super().trigger_event(
            event_class, stream=self.stream, previous_hash=self.chain_head, **kwargs
        )

    def copy_for_command(self) -> Any:
        """A copy to run a command on that shares nothing the command's events change.

        The store keeps one folded aggregate per stream in memory. A command must not change
        that one before its events are stored (a refused save would leave it half changed), and
        a deep copy of a long record costs more than the rest of a write. Events only ever add
        to an aggregate's containers (and replace, never edit, what they already hold), so a
        copy of its attributes with its own copy of each container is enough.
        """
        copied = copy.copy(self)
        copied._pending_events = []
        keys = self.__dict__.get("idempotency_keys")
        if keys is not None:
            copied.__dict__["idempotency_keys"] = dict(keys)
        return copied

    def version_for_idempotency_key(self, key: str) -> int | None:
        """The version recorded under a client's retry key, if one was."""
        keys: dict[str, int] = self.__dict__.get("idempotency_keys", {})
        return keys.get(key)

    @property
    def stream(self) -> str:
        """The stream's name, e.g. ``NCT01297972/RP-101`` or ``accounts/coord1``."""
        return self._stream
