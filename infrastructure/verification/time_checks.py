"""Time the store can vouch for: checkpoints' RFC 3161 time-stamps, and events' recording times
between them.

A token that holds says the checkpoint's signed note existed at its time (give or take its
accuracy). So every event the checkpoint covers was recorded before that time (an **upper
bound**), and every event after the checkpoint was appended after its tree was cut, which is
before the token was asked for, at most :data:`STAMP_SLACK` earlier (a **lower bound**; the
checkpoint is stamped as it is sealed, never later: :mod:`infrastructure.store.timestamps`).
An event whose recording time lies outside those bounds was recorded by a server whose clock
said otherwise than the authority's: a clock set back to backdate an entry, or set ahead.

Both ``verify`` and ``packet verify`` run these checks; neither asks any network.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography import x509

from infrastructure.verification.log_checks import EventFacts, Finding
from signatures.errors import VerificationError
from signatures.timestamps import (
    STAMPING_TIMEOUT_SECONDS,
    StampAttempt,
    StampedTime,
    check_timestamp,
)

CLOCK_TOLERANCE = timedelta(seconds=2)
"""Authorities commonly give whole seconds (a token's time is up to a second early), and the
server's clock and the authority's differ by their synchronisation error (docs/deployment.md)."""
STAMP_SLACK = timedelta(seconds=STAMPING_TIMEOUT_SECONDS) + CLOCK_TOLERANCE
"""How long before a token's time an event after its checkpoint may honestly have been recorded:
the checkpoint's tree is cut, signed and sent, and the authority may take up to the timeout."""
OUT_OF_BOUNDS = "recorded-time-out-of-bounds"


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
) -> TimeEvidence:
    """Check the token of each checkpoint (``notes``: tree size -> the signed note, already
    checked against the server's key) against the trusted certificates, offline.

    ``trusted`` None: no certificate to check by (``SEALTRAIL_TSA_CERTS`` unset): said as a note,
    as are checkpoints sealed without an authority and those whose authority failed.
    """
    evidence = TimeEvidence()
    unstamped = [size for size in notes if size not in attempts]
    if unstamped:
        evidence.notes.append(
            f"{len(unstamped)} of {len(notes)} checkpoints carry no time-stamp (sealed with no "
            "time-stamping authority configured, SEALTRAIL_TSA_URL): their times rest on the "
            "server's clock alone"
        )
    for size in sorted(set(notes) & set(attempts)):
        attempt = attempts[size]
        if attempt.response is None:
            evidence.notes.append(
                f"{where} of size {size} is not time-stamped: the authority failed when it was "
                f"sealed ({attempt.requested_at.isoformat()}): {attempt.failure}"
            )
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


def check_recording_times(
    facts: Sequence[EventFacts], stamped: Mapping[int, StampedTime]
) -> list[Finding]:
    """Each event (``facts`` in log order: the n-th is leaf n) recorded between the time-stamps
    of the checkpoints around it; the findings name the event, its kind, time and bounds."""
    if not stamped:
        return []
    sizes = sorted(stamped)
    findings: list[Finding] = []
    for leaf, fact in enumerate(facts):
        if fact.recorded_at is None:
            continue  # an unreadable event, already a finding
        after = bisect.bisect_right(sizes, leaf)  # the first stamped checkpoint covering it
        lower = sizes[after - 1] if after > 0 else None
        upper = sizes[after] if after < len(sizes) else None
        problem = _outside(fact.recorded_at, lower, upper, stamped)
        if problem is not None:
            findings.append(
                Finding(
                    fact.position,
                    str(fact.stream_id),
                    fact.version,
                    OUT_OF_BOUNDS,
                    f"{fact.kind} recorded at {fact.recorded_at.isoformat()}, {problem}",
                )
            )
    return findings


def _outside(
    recorded: datetime,
    lower: int | None,
    upper: int | None,
    stamped: Mapping[int, StampedTime],
) -> str | None:
    if lower is not None:
        floor = stamped[lower].earliest - STAMP_SLACK
        if recorded < floor:
            return (
                f"before {floor.isoformat()}: it comes after the checkpoint of size {lower}, "
                f"time-stamped {stamped[lower].time.isoformat()} by {stamped[lower].authority} "
                f"(less {STAMP_SLACK.total_seconds():g} s for the stamping)"
            )
    if upper is not None:
        ceiling = stamped[upper].latest + CLOCK_TOLERANCE
        if recorded > ceiling:
            return (
                f"after {ceiling.isoformat()}: the checkpoint of size {upper} covers it and was "
                f"time-stamped {stamped[upper].time.isoformat()} by {stamped[upper].authority}"
            )
    return None
