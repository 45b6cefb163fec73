"""A subject as it stood at a past time or log position, folded from the log (issue 6).

"As of" means the store's own clock and order: every event of the subject *recorded* at or
before the instant (``event.recorded_at``, the server's time when it made the event), or stored
at or before the log position. The state is the subject folded from those events, exactly as
the application folds it today; the summary is :func:`projections.subject_summary.summarise`
of it, so a replay as of now equals the current summary.

Folding 2,000 events takes well over 100 ms (decoding dominates), so long streams keep a
**replay cache**: every ``CACHE_INTERVAL`` versions, the folded state written beside the log in
``replay_cache``. It is a cache, never evidence, and it does not weaken verification:

- ``sealtrail verify`` never reads it: events, hash chains, leaves and checkpoints are checked
  from their own tables, so a cache row can neither hide nor cause a finding;
- each row is sealed by the server's key over the stream, the version, the chain hash of the
  event at that version and the SHA-256 of the state's bytes, and is used only if that seal
  holds *and* the log still holds that chain hash at that version; anything else is ignored
  (and rewritten) and the state is folded from the events themselves;
- rows are written on read, when a replay folds past a multiple of the interval, and a failure
  to write one (a read-only database) costs speed, not the answer.

Finding the version for a time is a search over the stream's versions, fifteen read per query
(three queries for 2,000 versions): the server stamps each event when it makes it, after
loading the version before, so within a stream recording times rise with versions. The version
for a position is one indexed query.

A replayer keeps the states it has checked (or folded itself) in memory, by stream, version and
chain hash, and uses one again only while the log still holds that chain hash at that version;
a fold is given a copy (:meth:`Subject.copy_for_command`) that shares nothing it changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any, cast
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from eventsourcing.persistence import JSONTranscoder
from sqlalchemy import Column, Engine, Integer, LargeBinary, MetaData, String, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from domain.errors import SubjectNotFound
from domain.quantities import Quantity
from domain.signed import SignedAggregate, stream_id
from domain.subject import KIND_INDEX, Entry, RecordSignature, Subject
from domain.wire import recorded_instant
from infrastructure.application.sealtrail import SealTrail
from infrastructure.bootstrap import Store
from infrastructure.errors import SubjectNotYetRecorded
from infrastructure.store.event_store import SealedEventStore
from infrastructure.store.positions import log_position, stored_events_at, version_at_position
from infrastructure.store.schema_lock import schema_changes_serialised
from projections.subject_summary import Summary, summarise
from signatures.errors import ChainBroken

__all__ = [
    "CACHE_INTERVAL",
    "MAX_POSITION",
    "Replayed",
    "SubjectNotYetRecorded",
    "SubjectReplayer",
    "end_of_day",
    "position_asked_in",
    "replayer_for",
]

CACHE_INTERVAL = 100
"""A cached state every this many versions: a replay folds at most this many events minus one."""

MAX_POSITION = 2**63 - 1
"""The largest log position either backend can hold (a 64-bit integer)."""


def position_asked_in(text: str) -> int | None:
    """``text`` as a log position (ASCII digits, from 1 to :data:`MAX_POSITION`); None if it is
    not one. The digits are counted before they are read: Python refuses to read an integer of
    more than 4,300 digits with a ValueError, which a page or a command would answer as a fault.
    """
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_POSITION)):
        return None
    position = int(text)
    return position if 1 <= position <= MAX_POSITION else None


IMMUTABLE_VALUES = (Quantity, Decimal, date, datetime, UUID, Enum)
"""Decoded values that may be shared between entries: nothing can change them in place."""

PROBES = 15
"""Versions read per query while looking for the version at a time."""

STATES_KEPT = 64
"""Checked states a replayer keeps decoded in memory (about 0.5-3 MB each for long records)."""

SEAL_CONTEXT = b"sealtrail replay cache v2\n"
"""Domain separation: a replay-cache seal can never be taken for any other server signature."""

# The aggregate's bookkeeping that a cached state must not carry: the pending events (none, in
# a folded subject), the entries (written as rows) and the index derived from them.
NOT_STATE = frozenset({"_pending_events", "entries", KIND_INDEX})

log = logging.getLogger(__name__)

metadata = MetaData()

replay_cache = Table(
    "replay_cache",
    metadata,
    Column("stream_id", String(32), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("chain_head", String(64), nullable=False),
    Column("state", LargeBinary, nullable=False),
    Column("seal", LargeBinary, nullable=False),
)


def end_of_day(day: date) -> datetime:
    """The last instant of a calendar day in UTC: a date ``as of`` includes the whole day."""
    return datetime.combine(day, time.max, tzinfo=UTC)


@dataclass(frozen=True)
class Replayed:
    """A subject as it stood, and what it stood as of."""

    subject: Subject
    stream: str
    as_of_time: datetime | None
    as_of_position: int | None
    position: int
    """The log position of the subject's last event at that point."""
    events_folded: int
    """Events decoded and applied for this answer (the rest came from the cache)."""
    cached_version: int | None
    """The cached version the fold started from, if any."""

    @property
    def version(self) -> int:
        """The subject's version then: its last event's."""
        return self.subject.version

    @property
    def recorded_at(self) -> datetime:
        """When the store recorded the last event counted."""
        return self.subject.entries[self.subject.version].recorded_at

    def as_of(self) -> dict[str, Any]:
        """What the state is as of, for people and scripts."""
        return {
            "time": None if self.as_of_time is None else recorded_instant(self.as_of_time),
            "position": self.as_of_position,
            "last_event": {
                "version": self.version,
                "position": self.position,
                "recorded_at": recorded_instant(self.recorded_at),
            },
        }

    def summary(self) -> Summary:
        """The subject's summary as it stood."""
        return summarise(self.subject)


class SubjectReplayer:
    """Folds a subject's events up to a time or position, through the sealed replay cache."""

    def __init__(self, app: SealTrail, engine: Engine, *, interval: int = CACHE_INTERVAL) -> None:
        self.app = app
        self.engine = engine
        self.interval = interval
        transcoder = app.mapper.transcoder
        if not isinstance(transcoder, JSONTranscoder):  # pragma: no cover - set by SealTrail
            raise TypeError("the replay cache writes states with eventsourcing's JSON transcoder")
        self._transcoder = transcoder
        self._decoders = {name: t.decode for name, t in transcoder.names.items()}
        # Sealed states this process has checked and decoded (or folded itself), by stream and
        # version, with the chain hash they were checked against: decoding a long record's
        # state costs more than the rest of a replay, and a state never changes.
        self._states: OrderedDict[tuple[UUID, int], tuple[str, Subject]] = OrderedDict()
        self._states_lock = threading.Lock()
        with schema_changes_serialised(app.settings):  # workers may start together
            metadata.create_all(engine)

    # -- the answer ------------------------------------------------------------------------------

    def replay(
        self, stream: str, *, as_of: datetime | None = None, position: int | None = None
    ) -> Replayed:
        """The subject of ``stream`` as of a time (recorded at or before) or a log position.

        Raises:
            ValueError: neither or both of ``as_of`` and ``position`` given.
            SubjectNotFound: the stream has no events at all.
            SubjectNotYetRecorded: it has, but none at or before that time or position.
        """
        if (as_of is None) == (position is None):
            raise ValueError("give exactly one of as_of and position")
        originator_id = stream_id(stream)
        last = self._newest(originator_id)
        if last is None:
            raise SubjectNotFound("%(stream)s has not been screened", stream=stream)
        if position is not None:
            version = version_at_position(self.app.recorder, originator_id, position)
            if version == 0:
                first = log_position(self.app.recorder, originator_id, 1)
                raise SubjectNotYetRecorded(
                    "%(stream)s was first recorded at log position %(first)s, after %(position)s",
                    stream=stream,
                    first=first,
                    position=position,
                )
        else:
            assert as_of is not None
            version = self._version_at(originator_id, last, as_of, stream)
        subject, folded, cached = self.subject_at(originator_id, version)
        return Replayed(
            subject=subject,
            stream=stream,
            as_of_time=as_of,
            as_of_position=position,
            position=log_position(self.app.recorder, originator_id, version),
            events_folded=folded,
            cached_version=cached,
        )

    def _newest(self, originator_id: UUID) -> SignedAggregate.Event | None:
        stored = self.app.recorder.select_events(originator_id, desc=True, limit=1)
        return self._decode(stored[0]) if stored else None

    def _event(self, originator_id: UUID, version: int) -> SignedAggregate.Event:
        (stored,) = self.app.recorder.select_events(originator_id, gt=version - 1, lte=version)
        return self._decode(stored)

    def _decode(self, stored: Any) -> SignedAggregate.Event:
        event = self.app.mapper.to_domain_event(stored)
        assert isinstance(event, SignedAggregate.Event)
        return event

    def _version_at(
        self, originator_id: UUID, last: SignedAggregate.Event, as_of: datetime, stream: str
    ) -> int:
        """The last version recorded at or before ``as_of`` (a search over the versions)."""
        if last.recorded_at <= as_of:
            return last.originator_version
        first = self._event(originator_id, 1)
        if first.recorded_at > as_of:
            raise SubjectNotYetRecorded(
                "%(stream)s was first recorded at %(recorded_instant)s, after "
                "%(recorded_instant2)s",
                stream=stream,
                recorded_instant=recorded_instant(first.recorded_at),
                recorded_instant2=recorded_instant(as_of),
            )
        low, high = 1, last.originator_version  # recorded(low) <= as_of < recorded(high)
        while high - low > 1:
            # Several versions per query (a round trip costs more than decoding an event):
            # three queries for 2,000 versions rather than eleven.
            step = max(1, (high - low) // (PROBES + 1))
            probes = list(range(low + step, high, step))[:PROBES]
            was = (low, high)
            for event in events_at(self.app, originator_id, probes):
                if event.recorded_at <= as_of:
                    low = max(low, event.originator_version)
                else:
                    high = min(high, event.originator_version)
            if (low, high) == was:
                raise SubjectNotFound(
                    "versions %(probes)s-%(probes2)s are not in the store",
                    probes=probes[0],
                    probes2=probes[-1],
                )
        return low

    # -- the fold --------------------------------------------------------------------------------

    def subject_at(self, originator_id: UUID, version: int) -> tuple[Subject, int, int | None]:
        """The subject at ``version``, how many events were folded, and the cached start."""
        cached = self._nearest_cached(originator_id, version)
        subject: Subject | None = cached
        start = 0 if cached is None else cached.version
        folded = 0
        to_cache: list[tuple[int, str, bytes]] = []
        events = self.app.events.get(originator_id, gt=start, lte=version)
        for event in events:
            # eventsourcing's projector checks a runtime Protocol per event, which costs more
            # than the mutation itself; these are the store's own events.
            assert isinstance(event, SignedAggregate.Event)
            subject = cast(Subject, event.mutate(subject))
            folded += 1
            if subject.version % self.interval == 0:
                to_cache.append((subject.version, subject.chain_head, self._encode(subject)))
                self._remember(originator_id, subject.chain_head, subject.copy_for_command())
        if subject is None or subject.version != version:
            raise SubjectNotFound(
                "version %(version)s of the stream is not in the store", version=version
            )
        self._store(originator_id, to_cache)
        return subject, folded, None if cached is None else start

    def _encode(self, subject: Subject) -> bytes:
        state = {name: value for name, value in vars(subject).items() if name not in NOT_STATE}
        state["entries"] = [
            [
                e.version,
                e.kind,
                e.fields,
                e.recorded_at,
                e.corrected_by,
                e.voided_by,
                e.record_hash,
                [astuple(signature) for signature in e.signatures],
            ]
            for e in subject.entries.values()
        ]
        return self._transcoder.encode(state)

    def _decode_state(self, data: bytes) -> Subject:
        decoders = self._decoders
        # A long record repeats its values (units, dates, common results): each distinct
        # immutable value is decoded once and shared, as equal strings would be.
        decoded: dict[tuple[str, Any], Any] = {}

        def typed(value: dict[str, Any]) -> Any:
            # The transcoder's own hook, minus its generality: this runs for every object.
            name = value.get("_type_")
            if name is None or len(value) != 2 or "_data_" not in value:
                return value
            data = value["_data_"]
            key = (name, tuple(data.items()) if type(data) is dict else data)
            try:
                return decoded[key]
            except KeyError:
                pass
            except TypeError:  # an unhashable value (a list): decoded afresh each time
                return decoders[name](data)
            result = decoders[name](data)
            if isinstance(result, IMMUTABLE_VALUES):
                decoded[key] = result
            return result

        state = json.loads(data, object_hook=typed)
        rows = state.pop("entries")
        subject: Subject = object.__new__(Subject)
        subject.__dict__.update(state)
        subject.__dict__["_pending_events"] = []
        subject.entries = {
            row[0]: Entry(
                version=row[0],
                kind=row[1],
                fields=row[2],
                recorded_at=row[3],
                corrected_by=row[4],
                voided_by=row[5],
                record_hash=row[6],
                signatures=[RecordSignature(*signature) for signature in row[7]],
            )
            for row in rows
        }
        return subject

    # -- the cache -------------------------------------------------------------------------------

    def _seal_message(
        self, originator_id: UUID, version: int, chain_head: str, data: bytes
    ) -> bytes:
        digest = hashlib.sha256(data).hexdigest()
        return SEAL_CONTEXT + f"{originator_id.hex}\n{version}\n{chain_head}\n{digest}\n".encode()

    def _nearest_cached(self, originator_id: UUID, version: int) -> Subject | None:
        """The newest sealed state at or before ``version`` that the log still backs.

        A row whose seal does not hold, or whose chain hash the log does not hold at its
        version, is passed over (the fold then starts from an older row, or from nothing).
        """
        # States are kept only at multiples of the interval: one this process has checked at
        # the newest multiple needs no query for the row (the log still vouches for it).
        newest_possible = version - version % self.interval
        if newest_possible:
            known = self._recalled(originator_id, newest_possible, None)
            if known is not None:
                return known
        while version >= self.interval:
            query = (
                select(
                    replay_cache.c.version,
                    replay_cache.c.chain_head,
                    replay_cache.c.state,
                    replay_cache.c.seal,
                )
                .where(replay_cache.c.stream_id == originator_id.hex)
                .where(replay_cache.c.version <= version)
                .order_by(replay_cache.c.version.desc())
                .limit(1)
            )
            with self.engine.connect() as connection:
                row = connection.execute(query).first()
            if row is None:
                return None
            cached_version, chain_head = int(row[0]), str(row[1])
            known = self._recalled(originator_id, cached_version, chain_head)
            if known is not None:
                return known
            data, seal = bytes(row[2]), bytes(row[3])
            if self._backed(originator_id, cached_version, chain_head, data, seal):
                subject = self._decode_state(data)
                copy = subject.copy_for_command()  # before another thread can see it
                self._remember(originator_id, chain_head, subject)
                return copy
            version = cached_version - 1
        return None

    def _recalled(
        self, originator_id: UUID, version: int, chain_head: str | None
    ) -> Subject | None:
        """A copy of a state this process checked before (for ``chain_head``, if given), if
        the log still holds its chain hash at its version."""
        key = (originator_id, version)
        with self._states_lock:
            known = self._states.get(key)
        if known is None or chain_head not in (None, known[0]):
            return None
        events = self.app.events
        assert isinstance(events, SealedEventStore)
        try:
            if events.stored_hash(originator_id, version) != known[0]:
                return None
        except ChainBroken:  # the version is not in the log
            return None
        with self._states_lock:
            if key in self._states:
                self._states.move_to_end(key)
            # The fold changes what it is given: it gets a copy that shares nothing it changes.
            return known[1].copy_for_command()

    def _remember(self, originator_id: UUID, chain_head: str, subject: Subject) -> None:
        """Keep a checked state, the newest used last out."""
        with self._states_lock:
            self._states[(originator_id, subject.version)] = (chain_head, subject)
            self._states.move_to_end((originator_id, subject.version))
            while len(self._states) > STATES_KEPT:
                self._states.popitem(last=False)

    def _backed(
        self, originator_id: UUID, version: int, chain_head: str, data: bytes, seal: bytes
    ) -> bool:
        """The server sealed this state, and the log holds its chain hash at its version."""
        message = self._seal_message(originator_id, version, chain_head, data)
        try:
            self.app.server_key.public_key.verify(seal, message)
        except InvalidSignature:
            log.warning("replay cache %s@%s: the seal does not hold", originator_id, version)
            return False
        events = self.app.events
        assert isinstance(events, SealedEventStore)
        if events.stored_hash(originator_id, version) != chain_head:
            log.warning("replay cache %s@%s: not the log's chain", originator_id, version)
            return False
        return True

    def _store(self, originator_id: UUID, states: Iterable[tuple[int, str, bytes]]) -> None:
        rows = [
            {
                "stream_id": originator_id.hex,
                "version": version,
                "chain_head": chain_head,
                "state": data,
                "seal": self.app.server_key.private_key.sign(
                    self._seal_message(originator_id, version, chain_head, data)
                ),
            }
            for version, chain_head, data in states
        ]
        if not rows:
            return
        insert = (sqlite.insert if self.engine.dialect.name == "sqlite" else postgresql.insert)(
            replay_cache
        )
        statement = insert.on_conflict_do_update(
            index_elements=["stream_id", "version"],
            set_={name: insert.excluded[name] for name in ("chain_head", "state", "seal")},
        )
        try:
            with self.engine.begin() as connection:
                connection.execute(statement, rows)
        except SQLAlchemyError as error:  # a cache: a failed write costs speed, not the answer
            log.warning("replay cache not written: %s", " ".join(str(error).split())[:200])


_REPLAYERS: weakref.WeakKeyDictionary[SealTrail, SubjectReplayer] = weakref.WeakKeyDictionary()
_REPLAYERS_LOCK = threading.Lock()


def replayer_for(store: Store) -> SubjectReplayer:
    """The store's replayer (one per open store, so the cache table is made once)."""
    with _REPLAYERS_LOCK:
        replayer = _REPLAYERS.get(store.app)
        if replayer is None:
            replayer = _REPLAYERS[store.app] = SubjectReplayer(store.app, store.engine)
        return replayer


# -- positions -------------------------------------------------------------------------------------


def events_at(
    app: SealTrail, originator_id: UUID, versions: Sequence[int]
) -> list[SignedAggregate.Event]:
    """These versions of a stream (those it has), decoded, in one query."""
    events = []
    for stored in stored_events_at(app.recorder, originator_id, versions):
        event = app.mapper.to_domain_event(stored)
        assert isinstance(event, SignedAggregate.Event)
        events.append(event)
    return events
