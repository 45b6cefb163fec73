"""The sealtrail application: eventsourcing's Application wired to the sealed event store.

It loads and saves aggregates (cosmicpython's unit of work and repository in one, as
eventsourcing has it); the services of this package decide what is loaded and saved, and why.
Storage errors become the store's errors at the services, the boundary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, Repository
from eventsourcing.persistence import JSONTranscoder, Recording
from eventsourcing.utils import strtobool

from domain.account import Account, RegisteredKey, account_stream, server_anchor
from domain.signed import SignedAggregate, stream_id
from domain.subject import Subject
from infrastructure.application.cached_aggregates import CopiedOnForward
from infrastructure.errors import AccountNotFound
from infrastructure.identity.server_key import ServerKey
from infrastructure.settings import APPLICATION_NAME, Settings
from infrastructure.store.account_index import index_account_events
from infrastructure.store.backends import protect_tables
from infrastructure.store.checkpoints import CheckpointKeeper
from infrastructure.store.event_store import SealedEventStore
from infrastructure.store.merkle_log import APPEND_ONLY_TABLES
from infrastructure.store.positions import log_positions
from infrastructure.store.recorders import SealedInserts
from infrastructure.store.transcodings import register_domain_transcodings
from signatures.keys import public_key_to_text


@dataclass(frozen=True)
class StoredRecord:
    """One event as the store holds it, with its log position."""

    position: int
    event: SignedAggregate.Event


class SealTrail(Application[UUID]):
    """The event store of a clinical trial, every event signed and chained."""

    name = APPLICATION_NAME
    env = {"AGGREGATE_CACHE_MAXSIZE": "1000"}

    def __init__(
        self, settings: Settings, server_key: ServerKey, checkpoints: CheckpointKeeper
    ) -> None:
        self.settings = settings
        self.server_key = server_key
        self.checkpoints = checkpoints
        self._anchor = server_anchor(public_key_to_text(server_key.public_key))
        super().__init__(env=settings.eventsourcing_env())
        protect_tables(self.recorder, APPEND_ONLY_TABLES)
        index_account_events(self.recorder)

    def construct_event_store(self) -> SealedEventStore:
        return SealedEventStore(
            self.mapper,
            self.recorder,
            accounts=self.find_account,
            anchor=self.anchor,
            signing_window=timedelta(seconds=self.settings.signing_window_seconds),
        )

    def construct_repository(self) -> Repository[UUID]:
        # eventsourcing's, with its settings, but a worker's threads share the kept aggregates:
        # brought forward as copies (infrastructure/application/cached_aggregates.py).
        maxsize = self.env.get(self.AGGREGATE_CACHE_MAXSIZE)
        return CopiedOnForward(
            event_store=self.events,
            snapshot_store=self.snapshots,
            cache_maxsize=int(maxsize) if maxsize else None,
            fastforward=strtobool(self.env.get(self.AGGREGATE_CACHE_FASTFORWARD, "y")),
            fastforward_skipping=strtobool(
                self.env.get(self.AGGREGATE_CACHE_FASTFORWARD_SKIPPING, "n")
            ),
            deepcopy_from_cache=strtobool(self.env.get(self.DEEPCOPY_FROM_AGGREGATE_CACHE, "y")),
        )

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)

    def anchor(self) -> RegisteredKey:
        """The server's key as a registered key valid for all time: the trust anchor."""
        return self._anchor

    def find_account(self, user_id: str, *, to_change: bool = False) -> Account | None:
        """The account of ``user_id``, or None.

        Read-only lookups (authentication, attribution) share the cached aggregate; a command
        that will change the account gets its own copy, so a failed save leaves the cache alone.
        """
        try:
            account: Account = self.repository.get(
                stream_id(account_stream(user_id)),
                projector_func=fold,
                deepcopy_from_cache=to_change,
            )
        except AggregateNotFoundError:
            return None
        return account

    def account(self, user_id: str, *, to_change: bool = False) -> Account:
        """The account of ``user_id``; AccountNotFound otherwise."""
        account = self.find_account(user_id, to_change=to_change)
        if account is None:
            raise AccountNotFound("no account %(user_id)r", user_id=user_id)
        return account

    def find_subject(self, stream: str, *, to_change: bool = False) -> Subject | None:
        """The subject of a stream (``<study>/<code>``), or None if never screened.

        A reader gets a deep copy of the cached subject. A command (``to_change``) gets
        :meth:`Subject.copy_for_command`'s copy, which costs the length of its record in
        pointers rather than in objects: what the command changes, the cached subject and a
        refused save never see.
        """
        try:
            subject: Subject = self.repository.get(
                stream_id(stream), projector_func=fold, deepcopy_from_cache=not to_change
            )
        except AggregateNotFoundError:
            return None
        return subject.copy_for_command() if to_change else subject

    def account_and_subject(self, user_id: str, stream: str) -> tuple[Account, Subject | None]:
        """The account of ``user_id`` and the subject of ``stream``, as :meth:`account` and
        :meth:`find_subject` (``to_change``) give them, brought up to date by one read.

        Each cached aggregate is asked for its stream's events after its version, a stream not
        cached for all of its events, both in one statement. Nothing newer (the usual case): the
        cached one is current. Newer events of a cached one: it is fast-forwarded as
        :meth:`find_account` and :meth:`find_subject` do (the repository's lock, one more read).

        Raises:
            AccountNotFound: no account ``user_id``.
        """
        account_id, subject_id = stream_id(account_stream(user_id)), stream_id(stream)
        cached = {key: self._cached(key) for key in (account_id, subject_id)}
        assert isinstance(self.recorder, SealedInserts)
        newer = self.recorder.select_after(
            {
                key: 0 if aggregate is None else aggregate.version
                for key, aggregate in cached.items()
            }
        )
        found: dict[UUID, Any] = {}
        for key, aggregate in cached.items():
            if key not in newer:
                found[key] = aggregate
            elif aggregate is not None:  # changed since it was cached
                found[key] = self.repository.get(
                    key, projector_func=fold, deepcopy_from_cache=False
                )
            else:  # not cached: made from its events, and cached as the repository would
                found[key] = fold(None, map(self.mapper.to_domain_event, newer[key]))
                assert self.repository.cache is not None
                self.repository.cache.put(key, found[key])
        account, subject = found[account_id], found[subject_id]
        if account is None:
            raise AccountNotFound("no account %(user_id)r", user_id=user_id)
        assert isinstance(account, Account) and isinstance(subject, Subject | None)
        return account, None if subject is None else subject.copy_for_command()

    def keep_saved(self, *subjects: Subject) -> None:
        """Cache subjects a command has just saved, as they now stand in the store.

        eventsourcing (with fast-forward on) leaves the aggregate it loaded in its cache, so the
        next load of the subject would read back the event just written; a command's copy
        (:meth:`Subject.copy_for_command`) shares no container with the cached one, and the
        services hand a saved one to nothing else, so it can take the cached one's place.
        """
        cache = self.repository.cache
        if cache is not None:
            for subject in subjects:
                cache.put(subject.id, subject)

    def _cached(self, originator_id: UUID) -> Any:
        """The aggregate the repository's cache holds for a stream, or None."""
        cache = self.repository.cache
        if cache is None:
            return None
        try:
            return cache.get(originator_id)
        except KeyError:
            return None

    def subject_at(self, originator_id: UUID, version: int) -> Subject:
        """A subject as it stood at a version: a fresh copy, rebuilt from its events."""
        subject: Subject = self.repository.get(originator_id, version=version)
        return subject

    def stored_record(self, originator_id: UUID, version: int) -> StoredRecord:
        """One stored event and its position."""
        event = next(iter(self.events.get(originator_id, gt=version - 1, lte=version)))
        assert isinstance(event, SignedAggregate.Event)
        position = log_positions(self.recorder, originator_id, [version])[version]
        return StoredRecord(position, event)

    def leaf_index(self, position: int) -> int:
        """The Merkle leaf of a log position (stored with the event, or by the checkpoints)."""
        assert isinstance(self.events, SealedEventStore)
        stored_here = self.events.leaf_index_stored(position)
        return stored_here if stored_here is not None else self.checkpoints.leaf_index(position)


def stored_records(recordings: list[Recording[UUID]]) -> list[StoredRecord]:
    """Stored records from what a save returned."""
    records = []
    for recording in recordings:
        assert isinstance(recording.domain_event, SignedAggregate.Event)
        records.append(StoredRecord(recording.notification.id, recording.domain_event))
    return records


def fold(aggregate: Any, events: Iterable[Any]) -> Any:
    """Apply stored events to an aggregate (or create it from the first), in order.

    What eventsourcing's ``project_aggregate`` does, without its per-event ``isinstance``
    check against a runtime Protocol, which costs more than applying the event; every event
    of this store is a :class:`SignedAggregate.Event`, whose ``mutate`` is the fold step.
    """
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate
