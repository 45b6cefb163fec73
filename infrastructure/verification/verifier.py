"""``sealtrail verify``: re-check the whole store from its log, on every core.

1. Accounts first (one pass over the account events and the screenings only): who had which
   key, valid when; each account as it stood after each of its events; each subject's site.
2. Every event, in ranges of the log spread over a process pool: decoded, attributed to its
   signer with the key valid when it was recorded, its fields compared with what was signed
   (:func:`domain.attribution.attribute`, the very check the store ran on the way in), its
   stored version compared with the one its author signed (``event-replayed``: a copy), and
   its signer's authority to sign it, as their account stood then (``not-authorised``:
   :class:`domain.authority.AuthorityLedger`, the permission rules the store applied on the
   way in). Each worker returns what the rest needs of each event: its stream, version, chain
   hashes and Merkle leaf hash.
3. In log order, in this process: versions in sequence and each event committing to the hash of
   the one before (per subject); the Merkle tree rebuilt from the events and compared with the
   stored leaves, interior nodes and every stored checkpoint (its signed note, and the size and
   root stored beside it); and, given one kept outside the store, that the log still extends it
   (what catches truncation and rollback); and every electronic signature over records
   (``RecordsSigned``) against the hashes of the records of its stream as they stood when it was
   made (``signature-not-linked``: a signature moved to other records or another stream); and
   no signature of a body that signs no version (recorded before bodies did) seen twice
   (``event-replayed``).
4. Once all of that holds, the views (the projections' tables that the API serves): each
   derived again from the events, in memory, up to the position the store's view has reached,
   and compared row by row with the stored one (``view-mismatch``: a row edited, added or
   removed in the database).

Every problem is a :class:`Finding`; nothing stops at the first. A finding names the stream an
event is stored under (its row's stream id), never the stream its own content claims: an event
moved into another subject's stream is named where it was found.
"""

from __future__ import annotations

import base64
import itertools
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from cryptography import x509
from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic
from sqlalchemy import Connection, Engine, column, func, select, table

from domain.account import Account, RegisteredKey
from domain.attribution import attribute
from domain.authority import AuthorityLedger
from domain.errors import KeyCustodyViolated, SignerNotAuthorised
from domain.permissions import check_logged_key_custody
from domain.signed import SignedAggregate
from domain.subject import Subject
from infrastructure.settings import Settings
from infrastructure.store.account_index import ACCOUNT_TOPICS
from infrastructure.store.log_reader import open_log_reader
from infrastructure.store.merkle_log import checkpoints, merkle_leaves, merkle_nodes
from infrastructure.store.timestamps import timestamps_up_to, trusted_certificates
from infrastructure.verification.log_checks import (
    EventFacts,
    Finding,
    StreamChecks,
    is_named,
    named_by,
    record_facts,
    signed_body,
    unplaced_signature,
)
from infrastructure.verification.time_checks import (
    CosignedTime,
    RecordingTimes,
    TimeEvidence,
    check_recording_times,
    check_timestamps,
)
from infrastructure.verification.tree_checks import LeafMatch, NodeCheck, StoredNode
from infrastructure.verification.view_checks import check_views
from infrastructure.verification.witness_checks import WitnessPolicy
from infrastructure.verification.witnesses import check_witnesses
from signatures.checkpoint import Checkpoint, verify_checkpoint
from signatures.errors import VerificationError
from signatures.keys import public_key_from_text
from signatures.merkle import EMPTY_ROOT, FrontierTree, leaf_hash
from signatures.verifier_keys import NOTE_SIGNATURE, VerifierKey

RANGE = 2_000
PAGE = 500
IN_FLIGHT = 2
"""Ranges sent to each worker ahead of the one this process waits for."""
STORED_PAGE = 5_000
"""Stored leaves and nodes read a page at a time (a server-side cursor on PostgreSQL)."""
SCREENING_TOPIC = get_topic(Subject.Screened)

Progress = Callable[[int], None]


@dataclass(frozen=True)
class VerificationReport:
    """How many events were checked and what was found."""

    events: int
    findings: list[Finding]
    notes: tuple[str, ...] = ()
    """What was not checked, and why (no time-stamps to check event times by...): not findings."""

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return not self.findings


@dataclass(frozen=True)
class ExternalCheckpoint:
    """A checkpoint note kept outside the store, and where it came from."""

    note: str
    source: str


@dataclass(frozen=True)
class LogBound:
    """The log as it stood when a verify began: what that verify answers for."""

    last_position: int
    leaves: int
    newest_checkpoint: int | None
    first_position: int = 1
    """The smallest position of an event: below 1 only if someone wrote a row the store never
    assigns (the application still reads it as its stream's event)."""


def _count(largest_leaf_index: Any) -> int:
    return 0 if largest_leaf_index is None else int(largest_leaf_index) + 1


def _position_column(settings: Settings) -> str:
    # eventsourcing's log position: SQLite's rowid, PostgreSQL's notification_id.
    return "rowid" if settings.is_sqlite else "notification_id"


class LogVerifier:
    """Walks the log of a store and reports every finding."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        notifications: Callable[..., Sequence[Notification]],
        last_position: Callable[[], int | None],
        decode: Callable[[Notification], Any],
        anchor: RegisteredKey,
        origin: str,
        workers: int | None = None,
        range_size: int = RANGE,
        events_table: str | None = None,
    ) -> None:
        self._settings = settings
        self._events_table = events_table
        self._engine = engine
        self._notifications = notifications
        self._last_position = last_position
        self._decode = decode
        self._anchor = anchor
        self._origin = origin
        self._workers = workers or os.cpu_count() or 1
        self._range_size = range_size

    @property
    def settings(self) -> Settings:
        """The settings of the store verified (its home keeps the last verification)."""
        return self._settings

    def approximate_count(self) -> int:
        """The last log position: the length of a progress bar (PostgreSQL's ids have gaps)."""
        return self._last_position() or 0

    def verify(
        self,
        progress: Progress | None = None,
        external: ExternalCheckpoint | None = None,
        witnesses: WitnessPolicy | None = None,
    ) -> VerificationReport:
        """Check the whole log, as it stood when the check began.

        A store may take writes while it is verified (``verify`` from cron, on a live primary
        or a replica that replays): the events, their leaves and nodes, and the checkpoints are
        read at different moments, and what was written in between is not the log's to answer
        for yet. So one statement first reads, at one instant, the last event's position, the
        number of leaves and the largest checkpoint; everything after that is left for the next
        verify. Nothing a writer does between the reads can then read as a finding.
        """
        bound = self._bound()
        accounts, ledger, custody = self._accounts()
        # What the events are held to is read first (the checkpoints' signed notes, the
        # witnesses' cosignatures, the time-stamps), so that each event is checked as it comes
        # back from the pool and then dropped: memory holds per-stream state, not the log.
        stored = self._read_checkpoints(bound.newest_checkpoint)
        kept = None if external is None else self._read_note(external.note, external.source)
        witness_findings, cosigned = check_witnesses(
            self._engine,
            self._origin,
            public_key_from_text(self._anchor.public_key),
            accounts,
            ledger,
            bound.newest_checkpoint,
            witnesses,
        )
        time = self.time_evidence(stored.signed, cosigned)
        sizes = {checkpoint.size for _, _, _, checkpoint, _ in stored.rows if checkpoint}
        if kept is not None and kept[0] is not None:
            sizes.add(kept[0].size)
        in_order = _InOrder(RecordingTimes(time.stamped, cosigned), sizes)
        with self._engine.connect() as connection:
            tree_check = _StoredTreeCheck(connection, bound.leaves)
            for range_facts, range_findings in self._event_ranges(
                accounts, ledger, progress, bound.last_position, bound.first_position
            ):
                in_order.event_findings += range_findings
                for fact in range_facts:
                    in_order.add(fact)
                    tree_check.leaves.add(fact)
                tree_check.leaves.advance()
            tree_findings = tree_check.finish()
        findings = in_order.event_findings + custody + in_order.streams.findings + tree_findings
        findings += in_order.times.findings
        findings = named_by(findings, in_order.names)
        findings += self._checkpoint_findings(stored, in_order) + time.findings
        if kept is not None and external is not None:
            checkpoint, note_findings = kept
            findings += note_findings
            if checkpoint is not None:
                findings += _against_log(in_order, checkpoint, external.source)
        findings += witness_findings
        if not findings:
            # Views derived from a log that fails its own checks would say nothing reliable:
            # they are compared once the events they come from hold.
            findings += check_views(self._engine, self._notifications, self._decode)
        return VerificationReport(in_order.count, findings, tuple(time.notes))

    def check_times(
        self,
        signed_notes: Mapping[int, str],
        facts: Sequence[EventFacts],
        cosigned: Sequence[CosignedTime] = (),
        *,
        first_leaf: int = 0,
    ) -> tuple[list[Finding], TimeEvidence]:
        """The time-stamps of the checkpoints whose notes are ``signed_notes`` (by size, each
        signed by the server's key), and the recording times of ``facts`` (leaves from
        ``first_leaf`` on) between those and the trusted witnesses' ``cosigned`` times: the
        events' findings, and the evidence (the time-stamps' findings, and the notes)."""
        time = self.time_evidence(signed_notes, cosigned)
        return check_recording_times(facts, time.stamped, cosigned, first_leaf=first_leaf), time

    def time_evidence(
        self, signed_notes: Mapping[int, str], cosigned: Sequence[CosignedTime] = ()
    ) -> TimeEvidence:
        """The time-stamps of the checkpoints whose notes are ``signed_notes``: their findings,
        the notes (what is not vouched for), and the times that hold, by tree size."""
        smallest, newest = min(signed_notes, default=0), max(signed_notes, default=None)
        time = check_timestamps(
            signed_notes,
            timestamps_up_to(self._engine, newest, smallest),
            self._trusted_authorities(),
            log_key=VerifierKey(
                self._origin, NOTE_SIGNATURE, public_key_from_text(self._anchor.public_key)
            ),
        )
        if not time.stamped and not cosigned:
            time.notes.append(
                "events' recording times not checked against an outside clock: no checkpoint "
                "carries a time-stamp that holds, nor a cosignature by a witness given with "
                "--witness (docs/timestamps.md)"
            )
        return time

    def _trusted_authorities(self) -> list[x509.Certificate] | None:
        path = self._settings.tsa_certificates
        return None if path is None else trusted_certificates(path)

    # -- the passes ---------------------------------------------------------------------------

    def _pages(
        self, start: int, topics: tuple[str, ...] | None
    ) -> Iterator[Sequence[Notification]]:
        while True:
            page = self._notifications(start, PAGE, topics=topics or ())
            if page:
                yield page
            if len(page) < PAGE:
                return
            start = page[-1].id + 1

    def _accounts(
        self, events: Iterable[Notification] | None = None
    ) -> tuple[dict[str, Account], AuthorityLedger, list[Finding]]:
        """Every account as the log leaves it; each as it stood after each of its events, and
        each subject's site (the ledger the authority of each event is asked of); and the
        key-custody findings met on the way (each key event checked against the accounts as
        they stood just before it).

        ``events`` are the account events in log order and the screenings wanted; by default
        every one in the log.
        """
        accounts: dict[UUID, Account] = {}
        by_user: dict[str, Account] = {}
        ledger = AuthorityLedger()
        findings: list[Finding] = []
        if events is None:
            pages: Iterable[Sequence[Notification]] = self._pages(
                1, (*ACCOUNT_TOPICS, SCREENING_TOPIC)
            )
        else:
            pages = [list(events)]
        for page in pages:
            for notification in page:
                try:
                    event = self._decode(notification)
                    if not isinstance(event, Account.Event):
                        ledger.record_screening(event)
                        continue
                    before = accounts.get(event.originator_id)
                    try:
                        check_logged_key_custody(event, before, by_user)
                    except KeyCustodyViolated as error:
                        findings.append(
                            Finding(
                                notification.id,
                                event.stream,
                                event.originator_version,
                                error.kind,
                                str(error),
                            )
                        )
                    after = event.mutate(before)
                    accounts[event.originator_id] = after
                    by_user[after.user_id] = after
                    ledger.record_account(notification.id, after)
                except Exception:  # noqa: S112 - the event pass reports this event
                    continue
        return {account.user_id: account for account in accounts.values()}, ledger, findings

    def _bound(self) -> LogBound:
        """The last position, the number of leaves and the largest checkpoint, at one instant
        (one statement reads one snapshot, on both databases)."""
        if self._events_table is None:
            last = self._last_position() or 0
            with self._engine.connect() as connection:
                leaves, newest = connection.execute(
                    select(
                        select(func.max(merkle_leaves.c.leaf_index)).scalar_subquery(),
                        select(func.max(checkpoints.c.tree_size)).scalar_subquery(),
                    )
                ).one()
            return LogBound(last, _count(leaves), newest)
        position = table(self._events_table, column(_position_column(self._settings))).c[
            _position_column(self._settings)
        ]
        with self._engine.connect() as connection:
            last, leaves, newest, lowest = connection.execute(
                select(
                    select(func.max(position)).scalar_subquery(),
                    select(func.max(merkle_leaves.c.leaf_index)).scalar_subquery(),
                    select(func.max(checkpoints.c.tree_size)).scalar_subquery(),
                    select(func.min(position)).scalar_subquery(),
                )
            ).one()
        return LogBound(int(last or 0), _count(leaves), newest, min(int(lowest or 1), 1))

    def _event_ranges(
        self,
        accounts: dict[str, Account],
        ledger: AuthorityLedger,
        progress: Progress | None,
        last: int,
        first: int = 1,
    ) -> Iterator[tuple[list[EventFacts], list[Finding]]]:
        """Each range of the log checked (on the pool), in log order, as it comes back."""
        ranges = self._ranges(last, first)
        if self._workers <= 1 or len(ranges) <= 1:
            checker = EventChecker(
                self._notifications, self._decode, accounts, self._anchor, ledger
            )
            for start, stop in ranges:
                checked = checker.check_range(start, stop)
                if progress is not None:
                    progress(len(checked[0]))
                yield checked
            return
        with ProcessPoolExecutor(
            max_workers=self._workers,
            # Not fork: the parent holds connection pools and their threads.
            mp_context=multiprocessing.get_context("forkserver"),
            initializer=_start_worker,
            initargs=(self._settings, accounts, self._anchor, ledger),
        ) as pool:
            # A few ranges in flight, not the whole log (``pool.map`` would send every range
            # at once): when this process checks more slowly than the workers, their results
            # would wait here, a backlog growing with the log. Two a worker keep each busy.
            waiting = iter(ranges)
            in_flight = deque(
                pool.submit(_check_range_in_worker, bounds)
                for bounds in itertools.islice(waiting, IN_FLIGHT * self._workers)
            )
            while in_flight:
                checked = in_flight.popleft().result()
                following = next(waiting, None)
                if following is not None:
                    in_flight.append(pool.submit(_check_range_in_worker, following))
                if progress is not None:
                    progress(len(checked[0]))
                yield checked

    def _ranges(self, last: int, first: int = 1) -> list[tuple[int, int]]:
        """Ranges of positions from ``first`` to ``last``. Positions below 1, which the store
        never assigns, are one range however far apart (a row written there by hand is read
        by the application as its stream's event, so it is checked like any other)."""
        size = self._range_size
        below = [(first, 0)] if first < 1 else []
        start = max(first, 1)
        return below + [(at, min(at + size - 1, last)) for at in range(start, last + 1, size)]

    def _read_checkpoints(self, newest: int | None) -> _StoredCheckpoints:
        """Every stored checkpoint (up to size ``newest``) and its signed note, read; and the
        notes signed by the server's key, by size (what their time-stamps are over)."""
        with self._engine.connect() as connection:
            rows = (
                connection.execute(
                    select(checkpoints.c.tree_size, checkpoints.c.root, checkpoints.c.note)
                    .where(checkpoints.c.tree_size <= newest)
                    .order_by(checkpoints.c.tree_size)
                ).all()
                if newest is not None
                else []
            )
        stored = _StoredCheckpoints()
        for size, stored_root, note in rows:
            source = f"stored checkpoint of size {size}"
            checkpoint, note_findings = self._read_note(str(note), source)
            stored.rows.append((int(size), bytes(stored_root), source, checkpoint, note_findings))
            if checkpoint is not None:
                stored.signed[int(size)] = str(note)
        return stored

    @staticmethod
    def _checkpoint_findings(stored: _StoredCheckpoints, log: _InOrder) -> list[Finding]:
        """Every stored checkpoint: its signed note, the row beside it, and the log against it.

        The size and root columns are what ``/v1/checkpoints/latest`` serves beside the note, so
        they must say what the note signed.
        """
        findings: list[Finding] = []
        for size, stored_root, source, checkpoint, note_findings in stored.rows:
            findings += note_findings
            if checkpoint is None:
                continue
            if (checkpoint.size, checkpoint.root) != (size, stored_root):
                findings.append(
                    Finding.of_log(
                        "checkpoint-row-mismatch",
                        f"{source}: the row says size {size}, root "
                        f"{_b64(stored_root)}; its signed note says size "
                        f"{checkpoint.size}, root {_b64(checkpoint.root)}",
                    )
                )
            findings += _against_log(log, checkpoint, source, kept_outside=False)
        return findings

    def _read_note(self, note: str, source: str) -> tuple[Checkpoint | None, list[Finding]]:
        """The checkpoint of a note signed by the server's key under the log's origin."""
        try:
            checkpoint = verify_checkpoint(
                note, self._origin, public_key_from_text(self._anchor.public_key)
            )
        except VerificationError as error:
            return None, [Finding.of_log(error.kind, f"{source}: {error}")]
        return checkpoint, []

    # -- what ``verify --since`` shares (infrastructure/verification/since.py) --------------------

    @property
    def engine(self) -> Engine:
        """The connection pool of the store verified."""
        return self._engine

    @property
    def events_table(self) -> str:
        """The name of the table of events."""
        if self._events_table is None:
            raise RuntimeError("this verifier was not told the events table")
        return self._events_table

    @property
    def position_column(self) -> str:
        """The events table's column that is the log position."""
        return _position_column(self._settings)

    @property
    def origin(self) -> str:
        """The log's origin, the name its checkpoints are signed under."""
        return self._origin

    @property
    def anchor_key(self) -> str:
        """The server's public key (text), which signs the log's checkpoints."""
        return self._anchor.public_key

    def bound(self) -> LogBound:
        """The log as it stands now (:meth:`verify` explains why it is read at one instant)."""
        return self._bound()

    def fold_accounts(
        self, events: Iterable[Notification]
    ) -> tuple[dict[str, Account], AuthorityLedger, list[Finding]]:
        """The accounts and the authority ledger from these account events and screenings."""
        return self._accounts(events)

    def check_events(
        self,
        accounts: dict[str, Account],
        ledger: AuthorityLedger,
        progress: Progress | None,
        last: int,
        first: int,
    ) -> tuple[list[EventFacts], list[Finding]]:
        """Every event from position ``first`` to ``last``, on the pool as :meth:`verify` does."""
        facts: list[EventFacts] = []
        findings: list[Finding] = []
        for range_facts, range_findings in self._event_ranges(
            accounts, ledger, progress, last, first
        ):
            facts += range_facts
            findings += range_findings
        return facts, findings

    def event_checker(self, accounts: dict[str, Account], ledger: AuthorityLedger) -> EventChecker:
        """A checker of single events, in this process."""
        return EventChecker(self._notifications, self._decode, accounts, self._anchor, ledger)

    def checkpoints_between(
        self, smallest: int, largest: int | None
    ) -> list[tuple[int, bytes, str]]:
        """The stored checkpoints of sizes ``smallest`` to ``largest``, smallest first."""
        if largest is None:
            return []
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(checkpoints.c.tree_size, checkpoints.c.root, checkpoints.c.note)
                .where(checkpoints.c.tree_size >= smallest, checkpoints.c.tree_size <= largest)
                .order_by(checkpoints.c.tree_size)
            ).all()
        return [(int(size), bytes(root_hash), str(note)) for size, root_hash, note in rows]

    def read_note(self, note: str, source: str) -> tuple[Checkpoint | None, list[Finding]]:
        """The checkpoint of a note signed by the server's key under the log's origin."""
        return self._read_note(note, source)


class EventChecker:
    """Checks one range of the log: decoding, attribution, signature, content, authority."""

    def __init__(
        self,
        notifications: Callable[..., Sequence[Notification]],
        decode: Callable[[Notification], Any],
        accounts: dict[str, Account],
        anchor: RegisteredKey,
        ledger: AuthorityLedger,
    ) -> None:
        self._notifications = notifications
        self._decode = decode
        self._accounts = accounts
        self._anchor = anchor
        self._ledger = ledger
        # One object per stream id and per name, whatever row they were read from: pickle sends
        # an object it has sent before as a reference, so a range's facts go back to the
        # verifying process with each stream's id and name once, not once an event.
        self._stream_ids: dict[UUID, UUID] = {}
        self._names: dict[str, str] = {}

    def check_range(self, start: int, stop: int) -> tuple[list[EventFacts], list[Finding]]:
        """Check the events at positions ``start`` to ``stop`` inclusive."""
        facts: list[EventFacts] = []
        findings: list[Finding] = []
        position = start
        while position <= stop:
            page = self._notifications(position, PAGE, stop=stop)
            for notification in page:
                fact, finding = self.check(notification)
                facts.append(fact)
                if finding is not None:
                    findings.append(finding)
            if len(page) < PAGE:
                break
            position = page[-1].id + 1
        return facts, findings

    def check(
        self, notification: Notification, *, attributed: bool = True
    ) -> tuple[EventFacts, Finding | None]:
        """Check one stored event; what the in-order checks need of it, and its finding.

        Without ``attributed``, only read it (an event whose leaf is all that is asked of it).
        """
        originator = notification.originator_id
        assert isinstance(originator, UUID)
        originator = self._stream_ids.setdefault(originator, originator)
        version = notification.originator_version
        try:
            event = self._decode(notification)
        except Exception as error:
            return EventFacts(notification.id, originator, version), Finding(
                notification.id,
                str(originator),
                version,
                "undecodable",
                f"the stored event cannot be read: {error}",
            )
        if not isinstance(event, SignedAggregate.Event):
            return EventFacts(notification.id, originator, version), Finding(
                notification.id,
                str(originator),
                version,
                "unsigned",
                f"{type(event).__qualname__} carries no signature",
            )
        body = signed_body(event)
        chain_hash = event.event_hash
        fact = EventFacts(
            notification.id,
            originator,
            version,
            # An event moved into another stream carries that other stream's name: not this one's.
            self._names.setdefault(event.stream, event.stream)
            if is_named(event.stream, originator)
            else None,
            event.previous_hash,
            chain_hash,
            leaf_hash(event.leaf_data(notification.id, chain_hash)),
            *record_facts(event),
            unplaced_signature=unplaced_signature(event, body),
            recorded_at=event.recorded_at,
            kind=event.kind(),
        )
        if not attributed:
            return fact, None
        try:
            attribute(event, self._accounts.get, self._anchor, body)
            if body is not None:
                self._ledger.check(event, notification.id, body)
        except (VerificationError, SignerNotAuthorised) as error:
            return fact, Finding(notification.id, str(originator), version, error.kind, str(error))
        return fact, None


@dataclass
class _StoredCheckpoints:
    """The stored checkpoints as read: (size, root, source, its checkpoint if its note holds,
    the note's findings), by size; and the notes that hold, by size."""

    rows: list[tuple[int, bytes, str, Checkpoint | None, list[Finding]]] = field(
        default_factory=list
    )
    signed: dict[int, str] = field(default_factory=dict)


class _InOrder:
    """What a verify checks of the events in log order, one event at a time: versions and
    chains per stream, recording times, each stream's name, and the tree rebuilt from the
    events' leaves, kept as its frontier with its root at every size a checkpoint asks."""

    def __init__(self, times: RecordingTimes, sizes: Iterable[int]) -> None:
        self.event_findings: list[Finding] = []
        self.streams = StreamChecks()
        self.times = times
        self._names: dict[UUID, str] = {}
        self.count = 0
        self.tree = FrontierTree()
        self._wanted = set(sizes)
        self.roots: dict[int, bytes] = {0: EMPTY_ROOT}

    @property
    def names(self) -> dict[str, str]:
        """Each stream's name (the last its own events gave it), by its id in text."""
        return {str(stream): name for stream, name in self._names.items()}

    def add(self, fact: EventFacts) -> None:
        """The next event of the log."""
        self.count += 1
        self.streams.add(fact)
        self.times.add(fact)
        if fact.stream is not None:
            self._names[fact.stream_id] = fact.stream
        if fact.leaf_hash is not None:
            self.tree.append_hash(fact.leaf_hash)
            if self.tree.size in self._wanted:
                self.roots[self.tree.size] = self.tree.root()


def _against_log(
    log: _InOrder, checkpoint: Checkpoint, source: str, *, kept_outside: bool = True
) -> list[Finding]:
    """The log rebuilt from its events must still extend the checkpoint."""
    size = log.tree.size
    if checkpoint.size > size:
        kind = "log-truncated" if kept_outside else "checkpoint-beyond-log"
        return [
            Finding.of_log(
                kind,
                f"{source} covers {checkpoint.size} events; the log holds {size}: "
                "events it covered were removed (cut off the end, or taken out of the log "
                "and its tree rebuilt)",
            )
        ]
    if log.roots.get(checkpoint.size) != checkpoint.root:
        kind = "log-rewritten" if kept_outside else "checkpoint-mismatch"
        return [
            Finding.of_log(
                kind,
                f"{source}: the first {checkpoint.size} events of the log no longer hash "
                "to its root",
            )
        ]
    return []


class _StoredTreeCheck:
    """The stored leaves (the first ``leaves``) against the events, and the stored nodes (those
    over the first ``leaves`` leaves: a node over leaves written after the bound was read
    belongs to the next verify) against the stored leaves, read on ``connection`` a page at a
    time as the events come."""

    def __init__(self, connection: Connection, leaves: int) -> None:
        self.nodes = NodeCheck(
            {level: _stored_nodes(connection, level, leaves) for level in _levels(connection)}
        )
        stored_leaves = connection.execution_options(yield_per=STORED_PAGE).execute(
            select(merkle_leaves.c.leaf_index, merkle_leaves.c.position, merkle_leaves.c.leaf_hash)
            .where(merkle_leaves.c.leaf_index < leaves)
            .order_by(merkle_leaves.c.leaf_index)
        )
        self.leaves = LeafMatch(
            ((int(index), int(position), value) for index, position, value in stored_leaves),
            on_leaf=self.nodes.add,
        )

    def finish(self) -> list[Finding]:
        """The leaves' findings, then the nodes'."""
        return self.leaves.finish() + self.nodes.finish()


def _levels(connection: Connection) -> list[int]:
    """The levels the stored nodes are at, each found through the (level, index) key."""
    levels: list[int] = []
    level = connection.execute(select(func.min(merkle_nodes.c.level))).scalar()
    while level is not None:
        levels.append(int(level))
        level = connection.execute(
            select(func.min(merkle_nodes.c.level)).where(merkle_nodes.c.level > level)
        ).scalar()
    return levels


def _stored_nodes(connection: Connection, level: int, leaves: int) -> Iterator[StoredNode]:
    """The stored nodes of one level over the first ``leaves`` leaves, in index order."""
    statement = (
        select(merkle_nodes.c.level, merkle_nodes.c.node_index, merkle_nodes.c.hash)
        .where(merkle_nodes.c.level == level)
        .order_by(merkle_nodes.c.node_index)
    )
    if level >= 0:
        # (index + 1) << level <= leaves, through the key.
        statement = statement.where(merkle_nodes.c.node_index < leaves >> level)
    rows = connection.execution_options(yield_per=STORED_PAGE).execute(statement)
    return ((int(at), int(index), value) for at, index, value in rows)


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


_worker_checker: EventChecker | None = None


def _start_worker(
    settings: Settings,
    accounts: dict[str, Account],
    anchor: RegisteredKey,
    ledger: AuthorityLedger,
) -> None:
    """Each worker opens the store's recorder once and checks the ranges it is given."""
    global _worker_checker
    notifications, decode = open_log_reader(settings)
    _worker_checker = EventChecker(notifications, decode, accounts, anchor, ledger)


def _check_range_in_worker(bounds: tuple[int, int]) -> tuple[list[EventFacts], list[Finding]]:
    assert _worker_checker is not None
    return _worker_checker.check_range(*bounds)
