"""Time the store can vouch for: checkpoints' RFC 3161 time-stamps, and events' recording times
between them and the times trusted witnesses cosigned the checkpoints.

A token that holds says the checkpoint's signed note existed at its time (give or take its
accuracy). So every event the checkpoint covers was recorded before that time (an **upper
bound**), and every event after the checkpoint was appended after its tree was cut, which is
before the token was asked for, at most :data:`STAMP_SLACK` earlier (a **lower bound**; the
checkpoint is stamped as it is sealed, never later: :mod:`infrastructure.store.timestamps`).
An event whose recording time lies outside those bounds was recorded by a server whose clock
said otherwise than the authority's: a clock set back to backdate an entry, or set ahead.

A cosignature by a witness the auditor names (``verify --witness``) says the same of the
checkpoint's existence, so it is an upper bound too; it is no lower bound, since a witness
cosigns whenever it next asks, perhaps long after the sealing, while later events are recorded.

A failure kept in a token's place, for a checkpoint whose signed note says it is time-stamped,
is the server's word only with the server's signed statement of it
(:mod:`signatures.stamp_failures`): written by hand in the place of a token deleted, it would
take that token's bounds away unseen.

Both ``verify`` and ``packet verify`` run these checks; neither asks any network.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509

from infrastructure.verification.log_checks import EventFacts, Finding
from signatures.checkpoint import parse_note
from signatures.errors import VerificationError
from signatures.stamp_failures import check_stamp_failure, stamp_failure
from signatures.timestamps import (
    STAMPED_EXTENSION,
    STAMPING_TIMEOUT_SECONDS,
    StampAttempt,
    StampedTime,
    announces_stamp,
    check_timestamp,
)
from signatures.verifier_keys import VerifierKey

CLOCK_TOLERANCE = timedelta(seconds=2)
"""Authorities commonly give whole seconds (a token's time is up to a second early), and the
server's clock and the authority's differ by their synchronisation error (docs/deployment.md)."""
STAMP_SLACK = timedelta(seconds=STAMPING_TIMEOUT_SECONDS) + CLOCK_TOLERANCE
"""How long before a token's time an event after its checkpoint may honestly have been recorded:
the checkpoint's tree is cut, signed and sent, and the authority may take up to the timeout."""
OUT_OF_BOUNDS = "recorded-time-out-of-bounds"
TIMESTAMP_MISSING = "timestamp-missing"


@dataclass
class TimeEvidence:
    """What checking the time-stamps found: findings, notes (what is not vouched for and why),
    and the checkpoints' times that hold, by tree size."""

    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stamped: dict[int, StampedTime] = field(default_factory=dict)


def check_timestamps(
    notes: Mapping[int, str],
    attempts: Mapping[int, StampAttempt],
    trusted: Sequence[x509.Certificate] | None,
    *,
    where: str = "stored checkpoint",
    log_key: VerifierKey | None = None,
) -> TimeEvidence:
    """Check the token of each checkpoint (``notes``: tree size -> the signed note, already
    checked against the server's key) against the trusted certificates, offline.

    ``trusted`` None: no certificate to check by (``SEALTRAIL_TSA_CERTS`` unset): said as a note,
    as are checkpoints sealed without an authority and those whose authority failed.
    A checkpoint whose note says it is time-stamped and that has no attempt is
    ``timestamp-missing``: a store keeps a token or a failure for it, and a packet carries
    whichever the store kept (:mod:`infrastructure.packets.evidence`).
    ``log_key`` is the server's note key (the log's origin and the server's public key), which
    signs the statement kept with each failure (required where a failure is among
    ``attempts``): a failure of a checkpoint whose note says it is time-stamped is a finding
    unless the server's statement of it holds (one signature check per failure).
    """
    evidence = TimeEvidence()
    first_attempt = min(attempts, default=None)
    unstamped = [size for size in notes if size not in attempts]
    announced = {size for size in unstamped if announces_stamp(parse_note(notes[size])[0])}
    for size in sorted(announced):
        evidence.findings.append(
            Finding.of_log(
                TIMESTAMP_MISSING,
                f"{where} of size {size} has no time-stamp attempt, though its signed note "
                f"says it is time-stamped ({STAMPED_EXTENSION}): its token or recorded "
                "failure is gone",
            )
        )
    unstamped = [size for size in unstamped if size not in announced]
    # A store that stamps keeps an attempt for every checkpoint it seals, a failure included:
    # one missing after an earlier attempt was taken away (rows deleted by hand), which would
    # widen the recording-time bounds around it unseen. (A checkpoint sealed before its signed
    # note said so, STAMPED_EXTENSION, is judged by this alone.)
    for size in sorted(unstamped):
        if first_attempt is not None and size > first_attempt:
            evidence.findings.append(
                Finding.of_log(
                    TIMESTAMP_MISSING,
                    f"{where} of size {size} has no time-stamp attempt, though the checkpoint "
                    f"of size {first_attempt} was stamped: its token or recorded failure is gone",
                )
            )
    unstamped = [size for size in unstamped if first_attempt is None or size < first_attempt]
    if unstamped:
        evidence.notes.append(
            f"{len(unstamped)} of {len(notes)} checkpoints carry no time-stamp (sealed with no "
            "time-stamping authority configured, SEALTRAIL_TSA_URL): their times rest on the "
            "server's clock alone"
        )
    for size in sorted(set(notes) & set(attempts)):
        attempt = attempts[size]
        if attempt.response is None:
            if log_key is None:
                raise ValueError("a failure kept is judged by the server's note key (log_key)")
            judged = _failure_judged(notes[size], attempt, log_key, where)
            if isinstance(judged, Finding):
                evidence.findings.append(judged)
            else:
                evidence.notes.append(judged)
            continue
        if trusted is None:
            continue
        try:
            evidence.stamped[size] = check_timestamp(attempt.response, notes[size], trusted)
        except VerificationError as error:
            evidence.findings.append(
                Finding.of_log(error.kind, f"{where} of size {size}: time-stamp: {error}")
            )
    tokens = sum(1 for size in notes if size in attempts and attempts[size].response)
    if trusted is None and tokens:
        evidence.notes.append(
            f"{tokens} time-stamps not checked: no time-stamping authority's certificate is "
            "trusted (SEALTRAIL_TSA_CERTS unset)"
        )
    return evidence


def _failure_judged(
    note: str, attempt: StampAttempt, log_key: VerifierKey, where: str
) -> Finding | str:
    """What a failure kept for the checkpoint whose signed note is ``note`` makes: a finding,
    or the note that the checkpoint is not time-stamped. Once a checkpoint's note says it is
    time-stamped, its failure is the server's word only with the server's statement of it: a
    row without one may stand in for a token taken away, which would widen the recording-time
    bounds around it unseen. The failure of a checkpoint sealed by an older server, whose
    note does not say so, is a note as it always was."""
    announced = announces_stamp(parse_note(note)[0])
    if announced:
        kept = stamp_failure(
            log_key.name, attempt.tree_size, note, attempt.requested_at, attempt.failure or ""
        )
        try:
            check_stamp_failure(attempt.failure_statement, kept, log_key.name, log_key.public_key)
        except VerificationError as error:
            return Finding.of_log(
                error.kind,
                f"{where} of size {attempt.tree_size}: a time-stamp failure is kept in the "
                f"place of the token its signed note announces ({STAMPED_EXTENSION}): {error}",
            )
    said = (
        "the server's signed statement"
        if announced
        else "unsigned: sealed by an older server, whose failures are the database's word alone"
    )
    return (
        f"{where} of size {attempt.tree_size} is not time-stamped: the authority failed when it "
        f"was sealed ({attempt.requested_at.isoformat()}): {attempt.failure} ({said})"
    )


@dataclass(frozen=True)
class CosignedTime:
    """A cosignature by a witness the auditor trusts (``verify --witness``) that verified: the
    checkpoint of ``size`` existed at the witness's time ``timestamp`` (POSIX, whole seconds)."""

    size: int
    witness: str
    timestamp: int


@dataclass(frozen=True)
class _Bound:
    """One checkpoint's time as a bound on the events around it."""

    size: int
    time: datetime
    """Past it, an event the checkpoint covers cannot have been recorded (clock error allowed)."""
    floor: datetime | None
    """Before it, an event after the checkpoint cannot have been recorded (None: no such bound)."""
    said: str
    """How the time was vouched for: ``time-stamped ... by ...``, ``cosigned ... by ...``."""


COSIGNED_SLACK = timedelta(seconds=1) + CLOCK_TOLERANCE
"""A cosignature's time is a whole second (the witness's clock, truncated), and the witness's
clock and the server's differ by their synchronisation error (docs/witnesses.md)."""


def check_recording_times(
    facts: Sequence[EventFacts],
    stamped: Mapping[int, StampedTime],
    cosigned: Sequence[CosignedTime] = (),
    *,
    first_leaf: int = 0,
) -> list[Finding]:
    """Each event (``facts`` in log order: the n-th is leaf ``first_leaf + n``) recorded
    between the times of the checkpoints around it; the findings name the event, its kind, time
    and the bound it breaks.

    Every time vouched for outside the server bounds the events a checkpoint covers from above:
    a time-stamp and a trusted witness's cosignature alike say the checkpoint existed then. Only
    a time-stamp bounds the events after a checkpoint from below: it is asked for as the
    checkpoint is sealed, whereas a witness may cosign at any time after the sealing, while
    later events are being recorded (docs/timestamps.md).
    """
    check = RecordingTimes(stamped, cosigned, first_leaf=first_leaf)
    for fact in facts:
        check.add(fact)
    return check.findings


class RecordingTimes:
    """:func:`check_recording_times` one event at a time, as a verify reads them in log order
    (nothing of the events kept but the findings)."""

    def __init__(
        self,
        stamped: Mapping[int, StampedTime],
        cosigned: Sequence[CosignedTime] = (),
        *,
        first_leaf: int = 0,
    ) -> None:
        self.findings: list[Finding] = []
        self._bounds = _bounds(stamped, cosigned)
        self._ceilings = _tightest_ceilings(self._bounds)
        self._floors = _tightest_floors(self._bounds)
        self._sizes = [bound.size for bound in self._bounds]
        self._leaf = first_leaf

    def add(self, fact: EventFacts) -> None:
        """Check the next event of the log."""
        leaf, self._leaf = self._leaf, self._leaf + 1
        if not self._bounds or fact.recorded_at is None:
            return  # nothing vouched for; or an unreadable event, already a finding
        after = bisect.bisect_right(self._sizes, leaf)  # the first bound covering it
        lower = self._floors[after - 1] if after > 0 else None
        upper = self._ceilings[after] if after < len(self._bounds) else None
        problem = _outside(fact.recorded_at, lower, upper)
        if problem is not None:
            self.findings.append(
                Finding(
                    fact.position,
                    str(fact.stream_id),
                    fact.version,
                    OUT_OF_BOUNDS,
                    f"{fact.kind} recorded at {fact.recorded_at.isoformat()}, {problem}",
                )
            )


def _bounds(stamped: Mapping[int, StampedTime], cosigned: Sequence[CosignedTime]) -> list[_Bound]:
    """Every checkpoint's time, ordered by the checkpoint's size."""
    bounds = [
        _Bound(
            size,
            stamp.latest + CLOCK_TOLERANCE,
            stamp.earliest - STAMP_SLACK,
            f"time-stamped {stamp.time.isoformat()} by {stamp.authority}",
        )
        for size, stamp in stamped.items()
    ]
    for cosignature in cosigned:
        when = datetime.fromtimestamp(cosignature.timestamp, UTC)
        bounds.append(
            _Bound(
                cosignature.size,
                when + COSIGNED_SLACK,
                None,
                f"cosigned {when.isoformat()} by witness {cosignature.witness}",
            )
        )
    return sorted(bounds, key=lambda bound: bound.size)


def _tightest_ceilings(bounds: Sequence[_Bound]) -> list[_Bound]:
    """At each index, the bound of the earliest time among it and those after it: an event
    covered by the i-th checkpoint is covered by every later one too."""
    tightest: list[_Bound] = []
    for bound in reversed(bounds):
        tightest.append(bound if not tightest or bound.time <= tightest[-1].time else tightest[-1])
    return tightest[::-1]


def _tightest_floors(bounds: Sequence[_Bound]) -> list[_Bound | None]:
    """At each index, the bound of the latest floor among it and those before it."""
    tightest: list[_Bound | None] = []
    best: _Bound | None = None
    for bound in bounds:
        if bound.floor is not None and (best is None or bound.floor >= _floor(best)):
            best = bound
        tightest.append(best)
    return tightest


def _floor(bound: _Bound) -> datetime:
    assert bound.floor is not None
    return bound.floor


def _outside(recorded: datetime, lower: _Bound | None, upper: _Bound | None) -> str | None:
    if lower is not None and recorded < _floor(lower):
        return (
            f"before {_floor(lower).isoformat()}: it comes after the checkpoint of size "
            f"{lower.size}, {lower.said} (less {STAMP_SLACK.total_seconds():g} s for the "
            "stamping)"
        )
    if upper is not None and recorded > upper.time:
        return (
            f"after {upper.time.isoformat()}: the checkpoint of size {upper.size} covers it "
            f"and was {upper.said}"
        )
    return None
