"""Verification throughput and append cost of a large store (issue 3, point 7).

(a) **Verify**: events per second of the store's full verifier (``Store.verifier().verify()``:
    accounts pass, every event decoded, attributed and its Ed25519 signature checked on a pool
    of one worker a core, each range checked in log order as it comes back: versions, chains,
    the stored Merkle leaves and nodes, the roots at every stored checkpoint) on a SQLite store
    of ``--events`` events (1,000,000 by default), against the raw rate of as many Ed25519
    verifications with the fastest verifier here (PyNaCl, i.e. libsodium) on
    ``os.cpu_count()`` processes (as many as the verifier's workers) verifying pre-made
    (message, signature, key) triples, measured in the same run: half of them just before the
    verifier, half just after. Goal (issue 21): >= 0.5. The verifier runs in a process of its
    own; the peak resident set of that process and of each worker is printed, and the CPU time
    an event (all its processes) against the CPU time of a raw verification: the ratio the
    wall clock would give on cores the benchmark had to itself.
(b) **Append**: the cost of ``Records.record`` of one signed event (median over ``--appends``
    appends in each of ``--rounds`` rounds, alternating between the stores, each round on a new
    subject after 20 untimed appends) with 10,000 and with ``--events`` events already in the
    log. Goal: ratio <= 1.2.
(c) **Incremental verification** (issue 20): ``verify --since`` of the newest 10,000 events of
    the big store (a checkpoint of its first ``n - 10,000`` events kept, as ``sealtrail
    checkpoint`` printed it then) against the full verify of the 10,000-event store, both on
    every core, alternating, ``--rounds`` rounds each (medians). Goal: ratio <= 1.5, and no part
    of the incremental check reading the whole log.

Building the store. ``--builders`` processes (one per core) each take whole subjects
(``--per-subject`` events each): they sign every event body for real (RFC 8785, Ed25519, with
a key registered on a real coordinator account), make the events with the domain (``Subject``
methods inside ``domain.authorship.authored``) and save ``--batch`` events of one subject per
``Application.save``. Every batch goes through the sealed event store (attribution, signature
and chain checks on every event) and the Merkle recorder, and a checkpoint is sealed when due
after each save, as ``Records.record`` does. Skipped are only the per-event ``record`` round
trip (loads, one commit per event, receipt) and the sealed store's account lookup per event:
no account changes during the build, so each builder loads the coordinator's account once.

The big store is kept under ``benchmarks/.cache/store-EVENTS`` (git ignores it), or where
``--store PATH`` says: a later run reuses it and builds only what is missing
(``bench-manifest.json`` there records the subjects; each run's appends add ~1,300 events of
their own); ``--temporary`` builds it in a temporary directory removed at the end. The
10,000-event store is always built afresh. The load averages are printed: other work on the
machine skews every figure.

Run: ``.venv/bin/python benchmarks/verify.py`` (about ten minutes on two cores: five to build,
five to measure), ``--events 20000`` for a quick run, ``--only incremental`` for (c) alone,
``--only verify`` for (a) alone.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import multiprocessing
import os
import pstats
import queue
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import nacl.signing
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.schemas.submissions import submission_from
from benchmarks.stores import PRINTED_NAME, machine, open_coordinator, open_new_store
from domain.authorship import Authorship, authored
from domain.clinical import ReticulocyteMethod, SeriousnessCriterion
from domain.protocol import protocol_for
from domain.quantities import Quantity
from domain.signed import stream_id
from domain.subject import RECORDERS, Subject, subject_stream
from domain.vocabulary import AdverseEventCategory, AdverseEventOutcome, Relatedness, Sex
from domain.wire import to_wire
from infrastructure.application.bodies import signed_event_body
from infrastructure.application.commands import RecordEvent, Submission
from infrastructure.bootstrap import Store, open_store
from infrastructure.settings import Settings
from infrastructure.store.event_store import SealedEventStore
from infrastructure.store.log_reader import open_log_reader
from infrastructure.store.merkle_log import StoredTree
from infrastructure.verification.since import SinceCheck, SinceReport, read_kept_checkpoint
from infrastructure.verification.verifier import EventChecker
from signatures.authorship import sign_body
from signatures.checkpoint import Checkpoint, sign_checkpoint
from signatures.keys import (
    generate_private_key,
    key_id,
    private_key_from_pem,
    private_key_to_pem,
)
from signatures.merkle import root

STUDY = "NCT01297972"
SITE = "RP"
USER_ID = "bench.verify.coordinator"
SMALL_STORE = 10_000
VERIFY_GOAL = 0.5
APPEND_GOAL = 1.2
INCREMENTAL_GOAL = 1.5
CACHE = Path(__file__).resolve().parent / ".cache"
OPENSSL_SAMPLE = 100_000
"""cryptography's (OpenSSL's) raw rate is context only: timed over this many signatures at most."""
MANIFEST = "bench-manifest.json"
KEY_FILE = "bench-coordinator.pem"
ELIGIBLE = {**{f"IN{n}": True for n in range(1, 4)}, **{f"EX{n}": False for n in range(1, 10)}}
ANALYTES = (("haemoglobin", "g/dL"), ("neutrophils", "10^9/L"), ("platelets", "10^9/L"))
DAY_ONE = date(2011, 1, 3)


# -- the synthetic subjects --------------------------------------------------------------------


def site_codes(sites: int) -> tuple[str, ...]:
    """The codes of a store's ``sites`` sites: Ribeirão Preto's first, then S02, S03..."""
    return (SITE, *(f"S{number:02d}" for number in range(2, sites + 1)))


def site_of(number: int, sites: int = 1) -> str:
    """The site that screened synthetic subject ``number`` (the subjects take turns)."""
    return site_codes(sites)[number % sites]


def subject_code(number: int, sites: int = 1) -> str:
    """The study code of synthetic subject ``number``."""
    return f"{site_of(number, sites)}-B{number:07d}"


def planned_event(number: int, step: int, sites: int = 1) -> tuple[str, dict[str, Any]]:
    """Kind and typed fields of event ``step`` (0-based) of subject ``number``.

    Screening, consent, eligibility, enrolment, two MSC infusions and an adverse event, then
    blood counts (three analytes, values varying, one a day) for as long as the subject runs.
    """
    screened_on = DAY_ONE + timedelta(days=number % 365)
    if step == 0:
        sex = Sex.FEMALE if number % 2 else Sex.MALE
        return "Screened", {
            "site": site_of(number, sites),
            "sex": sex,
            "age": 18 + number % 40,
            "screened_on": screened_on,
        }
    if step == 1:
        return "ConsentObtained", {"tcle_version": "2.0", "consented_on": screened_on}
    if step == 2:
        return "EligibilityAssessed", {
            "criteria": ELIGIBLE,
            "assessed_on": screened_on + timedelta(days=3),
        }
    if step == 3:
        return "Enrolled", {"enrolled_on": screened_on + timedelta(days=7)}
    if step in (4, 5):
        vital_signs = {"heart_rate": Quantity(Decimal(70 + number % 30), "/min")}
        return "MscInfusionGiven", {
            "infusion_number": step - 3,
            "dose": Quantity(Decimal(f"2.{(number + step) % 10}"), "10^6 cells/kg"),
            "product_lot": f"MSC-2011-{(number + step) % 1000:03d}",
            "donor_code": f"D-{number % 20:02d}",
            "viability": Quantity(Decimal("94.5"), "%"),
            "given_at": datetime.combine(screened_on, datetime.min.time(), UTC)
            + timedelta(days=7 * (step - 2), hours=13),
            "vital_signs_before": vital_signs,
            "vital_signs_after": vital_signs,
            "infusion_reaction": False,
        }
    if step == 6:
        serious = number % 3 == 0
        return "AdverseEventReported", {
            "adverse_event": "AE-01",
            "term": "Febrile neutropenia",
            "category": AdverseEventCategory.FEBRILE_NEUTROPENIA,
            "grade": 3 if serious else 1 + number % 3,
            "serious": serious,
            "seriousness": (SeriousnessCriterion.HOSPITALISATION,) if serious else (),
            "relatedness_msc": Relatedness.UNLIKELY,
            "relatedness_ratg": Relatedness.POSSIBLE,
            "relatedness_cyclosporine": Relatedness.UNRELATED,
            "expected": True,
            "onset_on": screened_on + timedelta(days=30),
            "learned_on": screened_on + timedelta(days=30),
            "outcome": AdverseEventOutcome.RECOVERING,
        }
    analyte, unit = ANALYTES[step % len(ANALYTES)]
    value = Decimal((number * 7 + step * 13) % 1500) / 10
    return "BloodCountRecorded", {
        "collected_on": screened_on + timedelta(days=step),
        "results": {analyte: Quantity(value, unit)},
        "reticulocyte_method": ReticulocyteMethod.AUTOMATED,
    }


def body_for(
    code: str, kind: str, fields: dict[str, Any], signer_key_id: str, version: int
) -> dict[str, Any]:
    """The body the coordinator signs for one event, version ``version`` of its subject (the
    site's client makes the same)."""
    return signed_event_body(
        {"study": STUDY, "subject": code},
        version=version,
        kind=kind,
        data=to_wire(fields),
        signer=(USER_ID, PRINTED_NAME),
        key_id=signer_key_id,
    )


# -- building a store --------------------------------------------------------------------------


@dataclass
class BenchStore:
    """A store (its home on disk, its database a SQLite file there unless ``database_url``
    says otherwise), the coordinator's key, and how many synthetic subjects it was given, at
    how many sites."""

    home: Path
    private_key: Ed25519PrivateKey
    per_subject: int
    subjects: int = 0
    build_seconds: float = 0.0
    built_now: int = 0
    database_url: str | None = None
    sites: int = 1

    @property
    def settings(self) -> Settings:
        return settings_for(self.home, self.database_url)

    def save_manifest(self) -> None:
        manifest = {"per_subject": self.per_subject, "subjects": self.subjects}
        if self.sites != 1:
            manifest["sites"] = self.sites
        (self.home / MANIFEST).write_text(json.dumps(manifest))


def settings_for(home: Path, database_url: str | None = None) -> Settings:
    """The settings of a store kept in ``home``: its SQLite file there, or ``database_url``."""
    return Settings.from_environ(
        {
            "SEALTRAIL_HOME": str(home),
            "SEALTRAIL_DATABASE_URL": database_url or f"sqlite:///{home / 'store.sqlite3'}",
        }
    )


def prepare(
    home: Path, per_subject: int, database_url: str | None = None, sites: int = 1
) -> BenchStore:
    """Create (or reopen) the store under ``home`` with the coordinator's account and key.

    With ``database_url``, the store's database is that one, which the caller made empty; a
    store reopened keeps the number of sites it was made with."""
    home.mkdir(parents=True, exist_ok=True)
    settings = settings_for(home, database_url)
    manifest_path = home / MANIFEST
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        key = private_key_from_pem((home / KEY_FILE).read_bytes())
        return BenchStore(
            home,
            key,
            int(manifest["per_subject"]),
            int(manifest["subjects"]),
            database_url=database_url,
            sites=int(manifest.get("sites", 1)),
        )
    if (home / "store.sqlite3").exists():
        raise SystemExit(f"{home} holds a store this benchmark did not make (no {MANIFEST})")
    key = generate_private_key()
    (home / KEY_FILE).write_bytes(private_key_to_pem(key))
    store = open_new_store(settings)
    try:
        open_coordinator(store, key, user_id=USER_ID, sites=site_codes(sites))
    finally:
        store.close()
    bench = BenchStore(home, key, per_subject, database_url=database_url, sites=sites)
    bench.save_manifest()
    return bench


def event_count(store: Store) -> int:
    return store.app.recorder.max_notification_id() or 0


def recorded_version(store: Store, number: int, sites: int = 1) -> int:
    """How many events subject ``number`` has in the store."""
    originator_id = stream_id(subject_stream(STUDY, subject_code(number, sites)))
    last = store.app.recorder.select_events(originator_id, desc=True, limit=1)
    return last[0].originator_version if last else 0


def plan(bench: BenchStore, target: int) -> list[tuple[int, int]]:
    """(subject, first missing step) for every subject to build, until ``target`` is reached.

    Subjects a previous run planned but did not finish are completed first; whole subjects
    are added after them until the log would hold at least ``target`` events.
    """
    store = open_store(bench.settings)
    try:
        projected = event_count(store)
        tasks = []
        for number in range(bench.subjects):
            done = recorded_version(store, number, bench.sites)
            if done < bench.per_subject:
                tasks.append((number, done))
                projected += bench.per_subject - done
    finally:
        store.close()
    number = bench.subjects
    while projected < target:
        tasks.append((number, 0))
        projected += bench.per_subject
        number += 1
    bench.subjects = number
    return tasks


@dataclass(frozen=True)
class BuildProgress:
    """Where a build stands: subjects done of those planned, events built, seconds so far."""

    done: int
    planned: int
    built: int
    seconds: float


def print_progress(progress: BuildProgress) -> None:
    print(
        f"  {progress.done:,}/{progress.planned:,} subjects, {progress.built:,} events "
        f"({progress.built / progress.seconds:,.0f}/s)",
        flush=True,
    )


def fill(
    bench: BenchStore,
    target: int,
    batch: int,
    workers: int,
    progress: Callable[[BuildProgress], None] = print_progress,
    every: int = 100,
) -> None:
    """Build subjects on ``workers`` processes until the log holds ``target`` events, telling
    ``progress`` every ``every`` subjects and at the end."""
    tasks = plan(bench, target)
    if not tasks:
        return
    bench.save_manifest()
    started = time.perf_counter()
    with builder_pool(
        min(workers, len(tasks)),
        _start_builder,
        bench.settings,
        private_key_to_pem(bench.private_key),
        bench.per_subject,
        batch,
        bench.sites,
    ) as pool:
        for done, built in enumerate(pool.map(_build_subject, tasks), start=1):
            bench.built_now += built
            if done % every == 0 or done == len(tasks):
                seconds = time.perf_counter() - started
                progress(BuildProgress(done, len(tasks), bench.built_now, seconds))
    bench.build_seconds += time.perf_counter() - started


def builder_pool(
    workers: int, initializer: Callable[..., None], *initargs: Any
) -> ProcessPoolExecutor:
    """The builders' processes, each started with ``initializer(*initargs)``."""
    return ProcessPoolExecutor(
        max_workers=workers,
        # Not fork: nothing of this process's connections may leak into the builders.
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=initializer,
        initargs=initargs,
    )


def record_steps(
    subject: Subject | None,
    number: int,
    steps: range,
    private_key: Ed25519PrivateKey,
    sites: int,
) -> Subject:
    """Steps ``steps`` of synthetic subject ``number``, each signed by the coordinator and
    recorded by the domain on ``subject`` (made by the screening, step 0)."""
    code = subject_code(number, sites)
    signer = key_id(private_key.public_key())
    planned = [planned_event(number, step, sites) for step in steps]
    signed = [
        sign_body(private_key, body_for(code, kind, fields, signer, step + 1))
        for step, (kind, fields) in zip(steps, planned, strict=True)
    ]
    for (kind, fields), (signed_body, signature) in zip(planned, signed, strict=True):
        with authored(Authorship(signed_body, signature)):
            if kind == "Screened":
                subject = Subject.screen(protocol=protocol_for(STUDY), subject_code=code, **fields)
            else:
                assert subject is not None
                RECORDERS[kind](subject, **fields)
    assert subject is not None
    return subject


@dataclass
class _Builder:
    store: Store
    private_key: Ed25519PrivateKey
    per_subject: int
    batch: int
    sites: int


_builder: _Builder | None = None


def _start_builder(
    settings: Settings, pem: bytes, per_subject: int, batch: int, sites: int
) -> None:
    """Each builder process opens the store once and keeps it for all its subjects."""
    global _builder
    store = open_store(settings)
    _look_up_accounts_once(store)
    _builder = _Builder(store, private_key_from_pem(pem), per_subject, batch, sites)


def _build_subject(task: tuple[int, int]) -> int:
    """Sign, make (with the domain) and save one subject's events from ``first`` on."""
    number, first = task
    assert _builder is not None
    app = _builder.store.app
    subject: Subject | None = None
    if first > 0:
        code = subject_code(number, _builder.sites)
        subject = app.repository.get(stream_id(subject_stream(STUDY, code)))
    for start in range(first, _builder.per_subject, _builder.batch):
        steps = range(start, min(start + _builder.batch, _builder.per_subject))
        subject = record_steps(subject, number, steps, _builder.private_key, _builder.sites)
        recordings = app.save(subject)
        last_leaf = app.checkpoints.leaf_index(recordings[-1].notification.id)
        app.checkpoints.seal_if_due(tree_size=last_leaf + 1)
    return _builder.per_subject - first


def _look_up_accounts_once(store: Store) -> None:
    """Let the sealed event store load each account once for the whole build.

    ``SealedEventStore.admit`` looks the signer's account up for every event (a fast-forward
    query and a deep copy, ~0.3 ms: most of a bulk save). No account changes while the build
    runs, so the same account is handed back each time; every check still runs on every event.
    """
    lookup = store.app.find_account
    found: dict[str, Any] = {}

    def find_account(user_id: str) -> Any:
        if user_id not in found:
            found[user_id] = lookup(user_id)
        return found[user_id]

    event_store = store.app.events
    assert isinstance(event_store, SealedEventStore)
    event_store._accounts = find_account


# -- (a) verification --------------------------------------------------------------------------


@dataclass
class VerifyResult:
    """The full verifier's run, the time of its phases and the peak memory of its processes."""

    events: int
    findings: list[str]
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)
    peak_kib: int = 0
    """The verifying process's peak resident set (``ru_maxrss``)."""
    worker_peaks_kib: list[int] = field(default_factory=list)
    """Each pool worker's peak resident set (``VmHWM``), as last seen."""
    cpu_seconds: float = 0.0
    """CPU time of the verifying process during ``verify()`` and of its workers (as last seen,
    once a second: up to a second of each worker's may be missed)."""

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    @property
    def ok(self) -> bool:
        return not self.findings


def run_verifier(settings: Settings) -> VerifyResult:
    """``store.verifier().verify()`` on every core, in a process of its own (so that its peak
    memory is the verifier's alone), its phases timed inside it; the peak resident set of that
    process and of each of its pool's workers."""
    result, children = in_own_process(_verify_in_process, settings, name="verifying")
    assert isinstance(result, VerifyResult)
    result.worker_peaks_kib = children.peaks_kib
    result.cpu_seconds += children.cpu_seconds
    return result


@dataclass
class Children:
    """What the processes a measured process started used: each one's peak resident set
    (``VmHWM``) and their CPU time, as last seen (once a second)."""

    peaks_kib: list[int]
    cpu_seconds: float


def in_own_process(
    target: Callable[..., None], *args: Any, name: str = "measured"
) -> tuple[Any, Children]:
    """Run ``target(*args, results)`` in a process of its own (spawned: nothing of this one's
    memory in it), so that the peak memory it measures of itself is its work's alone; what it
    puts on ``results``, and what its own children used (``name`` names the process if it
    fails).

    Raises:
        RuntimeError: the process ended without a result (an exception, or killed: out of
            memory, say), with its exit code.
    """
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=target, args=(*args, results))
    process.start()
    peaks: dict[int, int] = {}
    cpu: dict[int, float] = {}
    while process.is_alive():
        for pid in _descendants(process.pid or 0):
            peaks[pid] = max(peaks.get(pid, 0), peak_kib(pid))
            if pid != process.pid:
                cpu[pid] = max(cpu.get(pid, 0.0), _cpu_seconds(pid))
        try:
            result = results.get(timeout=1.0)
            break
        except queue.Empty:
            continue
    else:
        raise RuntimeError(f"the {name} process ended with code {process.exitcode}")
    process.join()
    peaks_kib = sorted(peak for pid, peak in peaks.items() if pid != process.pid and peak)
    return result, Children(peaks_kib, sum(cpu.values()))


def _verify_in_process(settings: Settings, results: Any) -> None:
    import infrastructure.verification.verifier as verifier_module

    store = open_store(settings)
    try:
        verifier = store.verifier()
        phases: dict[str, float] = {}
        for name in ("_accounts", "_read_checkpoints"):
            _time_phase(verifier, name, phases)
        _time_phase(verifier_module, "check_views", phases)
        started, cpu_started = time.perf_counter(), time.process_time()
        report = verifier.verify()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        phases[REST] = seconds - sum(phases.values())
    finally:
        store.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    findings = [str(finding) for finding in report.findings[:10]]
    results.put(VerifyResult(report.events, findings, seconds, phases, peak, cpu_seconds=cpu))


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (the verifier, its forkserver and its workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def _cpu_seconds(pid: int) -> float:
    """A process's CPU time so far (user and system), 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_kib(pid: int) -> int:
    """A process's peak resident set so far (``VmHWM``), 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _time_phase(owner: Any, name: str, phases: dict[str, float]) -> None:
    method = getattr(owner, name, None)
    if method is None:
        return  # an earlier verifier, measured for comparison (PYTHONPATH=its checkout)

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            phases[name.lstrip("_")] = phases.get(name.lstrip("_"), 0.0) + (
                time.perf_counter() - started
            )

    setattr(owner, name, timed)


def _raw_verifier(
    library: str, share: int, distinct: int, ready: Any, results: Any, seed: int
) -> None:
    """One process of the raw rate: make triples, wait for the others, verify ``share``.

    The messages are event bodies of the benchmark's own subjects in canonical form (the size
    of the stored ones), signed with four keys; the verifier objects are made beforehand.
    """
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    keys = [nacl.signing.SigningKey.generate() for _ in range(4)]
    triples: list[tuple[bytes, bytes, Any]] = []
    for index in range(distinct):
        signing_key = keys[index % len(keys)]
        raw_key = bytes(signing_key.verify_key)
        number, step = seed + index // 1000, index % 1000
        kind, fields = planned_event(number, step)
        body = body_for(subject_code(number), kind, fields, key_id(raw_key), step + 1)
        message = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        signature = signing_key.sign(message).signature
        verifier: Any = (
            nacl.signing.VerifyKey(raw_key)
            if library == "pynacl"
            else Ed25519PublicKey.from_public_bytes(raw_key)
        )
        triples.append((message, signature, verifier))
    ready.wait()
    cpu_started = time.process_time()
    done = 0
    while done < share:
        batch = triples[: share - done]
        if library == "pynacl":
            for message, signature, verify_key in batch:
                verify_key.verify(message, signature)
        else:
            for message, signature, public_key in batch:
                public_key.verify(signature, message)
        done += len(batch)
    results.put((done, time.process_time() - cpu_started))


RAW_CPU: dict[str, list[float]] = {}
"""CPU seconds a signature of each raw run (by library): what Ed25519 costs on these cores
whatever else runs on them."""


def raw_verify_rate(library: str, total: int, distinct_per_process: int = 20_000) -> float:
    """Ed25519 verifications per second on ``os.cpu_count()`` processes (``total`` in all).

    Each process makes its own triples (up to ``distinct_per_process`` distinct ones, cycled),
    then all start together; the clock runs from that start until the last one finishes.
    """
    context = multiprocessing.get_context("forkserver")
    workers = os.cpu_count() or 1
    ready = context.Barrier(workers + 1)
    results = context.Queue()
    shares = [total // workers + (1 if index < total % workers else 0) for index in range(workers)]
    processes = [
        context.Process(
            target=_raw_verifier,
            args=(library, share, min(share, distinct_per_process), ready, results, index * 10**6),
        )
        for index, share in enumerate(shares)
    ]
    for process in processes:
        process.start()
    ready.wait()
    started = time.perf_counter()
    done = [results.get() for _ in processes]
    seconds = time.perf_counter() - started
    verified = sum(count for count, _ in done)
    RAW_CPU.setdefault(library, []).append(sum(cpu for _, cpu in done) / max(verified, 1))
    for process in processes:
        process.join()
    if verified != total:
        raise RuntimeError(f"{verified} signatures verified, {total} expected")
    return total / seconds


def profile_worker_path(settings: Settings, store: Store, events: int, top: int) -> str:
    """cProfile of one worker's job (``EventChecker.check_range``) over ``events`` events."""
    verifier = store.verifier(workers=1)
    accounts, ledger, _ = verifier._accounts()
    notifications, decode = open_log_reader(settings)
    checker = EventChecker(notifications, decode, accounts, verifier._anchor, ledger)
    last = event_count(store)
    start = max(1, last // 2 - events // 2)
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    facts, findings = checker.check_range(start, start + events - 1)
    profile.disable()
    seconds = time.perf_counter() - started
    assert not findings, findings[:3]
    out = io.StringIO()
    out.write(
        f"one worker, positions {start:,}-{start + events - 1:,}: {len(facts):,} events in "
        f"{seconds:.2f} s under cProfile ({len(facts) / seconds:,.0f}/s on one core)\n"
    )
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


# -- (c) incremental verification ---------------------------------------------------------------


@dataclass
class IncrementalFigures:
    """(c): the seconds of each round of both checks, and what each checked."""

    since_seconds: list[float] = field(default_factory=list)
    full_seconds: list[float] = field(default_factory=list)
    since_report: SinceReport | None = None
    full_events: int = 0
    big_events: int = 0

    @property
    def ratio(self) -> float:
        return statistics.median(self.since_seconds) / statistics.median(self.full_seconds)


def kept_checkpoint(store: Store, size: int | None = None) -> str:
    """The checkpoint of the first ``size`` events (all by default), as ``sealtrail
    checkpoint`` printed it when the log was that long (the same signed note: the server's key,
    the log's origin)."""
    checkpoints = store.app.checkpoints
    with store.engine.connect() as connection:
        tree = StoredTree(connection)
        size = tree.size() if size is None else size
        tree_root = root(tree, size)
    checkpoint = Checkpoint(checkpoints.origin, size, tree_root)
    return sign_checkpoint(checkpoints.server_key.private_key, checkpoints.origin, checkpoint)


def measure_incremental(
    big: BenchStore, small: BenchStore, newest: int, rounds: int, day: bool
) -> IncrementalFigures:
    """``verify --since`` over the newest ``newest`` events of the big store (with ``day``,
    over a day recorded on every subject) against the full verify of the small one,
    alternating, each on a freshly opened store."""
    figures = IncrementalFigures()
    day_note = record_a_day(big, newest) if day else None
    store = open_store(big.settings)
    try:
        with store.engine.connect() as connection:
            size = StoredTree(connection).size()
        note = day_note or kept_checkpoint(store, size - newest)
        figures.big_events = size
    finally:
        store.close()
    for round_number in range(rounds):
        order = [_time_since, _time_full]
        if round_number % 2:
            order.reverse()
        for timed in order:
            timed(big, small, note, figures)
    if figures.since_report is None or not figures.since_report.ok:
        findings = figures.since_report.findings[:10] if figures.since_report else []
        raise SystemExit(f"verify --since found problems in the benchmark's store: {findings}")
    return figures


DAY_NOTE = "bench-day-kept.note"


def record_a_day(bench: BenchStore, newest: int) -> str:
    """A day of the trial on the big store: every subject gets ``newest // subjects`` more lab
    results, each through ``Records.record`` (the API's write path), so that the newest events
    continue streams begun long before, as a real day's do. The checkpoint of the log before
    them is kept in the store's home, and the day recorded once per store.

    Subject after subject (not round after round): the application caches 1,000 aggregates,
    and cycling through 1,000 subjects would reload each (1,000 events) for every record."""
    path = bench.home / DAY_NOTE
    if path.exists():
        return path.read_text()
    store = open_store(bench.settings)
    try:
        note = kept_checkpoint(store)
        signer = key_id(bench.private_key.public_key())
        started = time.perf_counter()
        for number in range(bench.subjects):
            for _ in range(max(1, newest // bench.subjects)):
                version = recorded_version(store, number, bench.sites) + 1
                kind, fields = planned_event(number, version - 1, bench.sites)
                code = subject_code(number, bench.sites)
                body = body_for(code, kind, fields, signer, version)
                _, signature = sign_body(bench.private_key, body)
                submission = submission_from(body, signature)
                store.records.record(RecordEvent(submission=submission, actor_id=USER_ID))
            if (number + 1) % 100 == 0:
                print(f"  a day: {number + 1:,}/{bench.subjects:,} subjects", flush=True)
        print(f"  a day recorded in {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        store.close()
    path.write_text(note)
    return note


def _time_since(big: BenchStore, _: BenchStore, note: str, figures: IncrementalFigures) -> None:
    store = open_store(big.settings)
    try:
        print(f"  verify --since, big store ({load()})", flush=True)
        started = time.perf_counter()
        verifier = store.verifier()
        kept = read_kept_checkpoint(note.encode(), verifier.origin, verifier.anchor_key)
        report = SinceCheck(verifier, kept).run()
        figures.since_seconds.append(time.perf_counter() - started)
        figures.since_report = report
    finally:
        store.close()


def _time_full(_: BenchStore, small: BenchStore, __: str, figures: IncrementalFigures) -> None:
    store = open_store(small.settings)
    try:
        print(f"  full verify, small store ({load()})", flush=True)
        started = time.perf_counter()
        report = store.verifier().verify()
        figures.full_seconds.append(time.perf_counter() - started)
        figures.full_events = report.events
        if not report.ok:
            raise SystemExit(f"the full verifier found problems: {report.findings[:10]}")
    finally:
        store.close()


def print_incremental(figures: IncrementalFigures, rounds: int) -> None:
    report = figures.since_report
    assert report is not None
    print(
        f"(c) Incremental verification: verify --since over the newest {report.events:,} of "
        f"{figures.big_events:,} events against the full verify of {figures.full_events:,} "
        f"events; {rounds} rounds each, alternating, on {os.cpu_count()} cores"
    )
    print(f"  {'':<52} {'median s':>9} {'min s':>7} {'max s':>7}")
    for label, seconds in (
        (f"verify --since, {figures.big_events:,}-event store", figures.since_seconds),
        (f"full verify, {figures.full_events:,}-event store", figures.full_seconds),
    ):
        print(
            f"  {label:<52} {statistics.median(seconds):>9.2f} {min(seconds):>7.2f} "
            f"{max(seconds):>7.2f}"
        )
    verdict = "met" if figures.ratio <= INCREMENTAL_GOAL else "NOT met"
    print(f"  ratio since / full: {figures.ratio:.2f} (goal <= {INCREMENTAL_GOAL}: {verdict})")


# -- (b) appends -------------------------------------------------------------------------------


def append_submissions(private_key: Ed25519PrivateKey, code: str, count: int) -> list[Submission]:
    """A new subject's screening and consent, then ``count`` lab results, signed and parsed."""
    signer = key_id(private_key.public_key())
    number = int(uuid.uuid4().int % 10**6)
    submissions = []
    for version, step in enumerate((0, 1, *range(6, 6 + count)), start=1):
        kind, fields = planned_event(number, step)
        body = body_for(code, kind, fields, signer, version)
        _, signature = sign_body(private_key, body)
        submissions.append(submission_from(body, signature))
    return submissions


def time_appends(bench: BenchStore, appends: int, warmup: int) -> list[float]:
    """Seconds of each ``Records.record`` of one signed event, on a freshly opened store."""
    code = f"{SITE}-A{uuid.uuid4().hex[:10]}"
    submissions = append_submissions(bench.private_key, code, warmup + appends)
    store = open_store(bench.settings)
    try:
        records = store.records
        for submission in submissions[: 2 + warmup]:
            records.record(RecordEvent(submission=submission, actor_id=USER_ID))
        times = []
        for submission in submissions[2 + warmup :]:
            started = time.perf_counter()
            records.record(RecordEvent(submission=submission, actor_id=USER_ID))
            times.append(time.perf_counter() - started)
        return times
    finally:
        store.close()


# -- running and reporting ---------------------------------------------------------------------


@contextmanager
def store_home(path: str | None, label: str) -> Iterator[Path]:
    if path is not None:
        yield Path(path)
        return
    with tempfile.TemporaryDirectory(prefix=f"sealtrail-verify-{label}-") as tmp:
        yield Path(tmp)


def load() -> str:
    """The load averages: another busy process on the machine skews every figure."""
    return "load average " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


PHASES = {
    "accounts": "accounts pass",
    "read_checkpoints": "stored checkpoints' notes read and checked",
    "check_views": "views derived again and compared",
}
REST = "events: pool (decode, attribute, Ed25519), in order as they come"


@dataclass
class Figures:
    """What one run measured."""

    verify: VerifyResult
    nacl_rate: float
    nacl_halves: tuple[float, float]
    openssl_rate: float
    small_events: int
    big_events: int
    small_times: list[float] = field(default_factory=list)
    big_times: list[float] = field(default_factory=list)
    profile: str = ""


def add_build_options(parser: argparse.ArgumentParser) -> None:
    """How a big store is built and its appends timed: ``--per-subject``, ``--batch``,
    ``--builders``, ``--appends``, ``--rounds`` (the benchmarks that build as this one does)."""
    parser.add_argument("--per-subject", type=int, default=1000, help="events per subject (1000)")
    parser.add_argument("--batch", type=int, default=500, help="events per save (500)")
    parser.add_argument(
        "--builders", type=int, default=os.cpu_count() or 1, help="building processes (cores)"
    )
    parser.add_argument("--appends", type=int, default=200, help="timed appends per round (200)")
    parser.add_argument("--rounds", type=int, default=3, help="append rounds per store (3)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--events", type=int, default=1_000_000, help="events in the big store (1000000)"
    )
    parser.add_argument(
        "--store",
        metavar="PATH",
        help="keep the big store here, reuse it later (benchmarks/.cache/store-EVENTS)",
    )
    parser.add_argument(
        "--temporary", action="store_true", help="build the big store afresh, remove it after"
    )
    parser.add_argument(
        "--only",
        choices=("incremental", "verify"),
        help="measure only (c), the incremental verification, or only (a), the full one",
    )
    parser.add_argument(
        "--newest", type=int, default=SMALL_STORE, help="events checked by --since (10000)"
    )
    parser.add_argument(
        "--day",
        action="store_true",
        help="(c) over a day recorded on every subject of the big store (once per store)",
    )
    add_build_options(parser)
    parser.add_argument(
        "--profile",
        type=int,
        default=20_000,
        metavar="N",
        help="cProfile one worker over N events (20000; 0: none)",
    )
    args = parser.parse_args(argv)
    if args.events < SMALL_STORE or args.per_subject < 10 or args.batch < 1 or args.builders < 1:
        parser.error(f"--events must be at least {SMALL_STORE}, --per-subject at least 10")

    print(f"sealtrail verify benchmark: {args.events:,} events, {machine()}, {load()}", flush=True)
    started = time.perf_counter()
    kept_at = None if args.temporary else (args.store or str(CACHE / f"store-{args.events}"))
    with store_home(kept_at, "big") as big_home, store_home(None, "small") as small_home:
        big = prepare(big_home, args.per_subject)
        small = prepare(small_home, args.per_subject)
        print(f"building the big store in {big_home}", flush=True)
        fill(big, args.events, args.batch, args.builders)
        if args.only != "verify":
            print("building the 10,000-event store", flush=True)
            fill(small, SMALL_STORE, args.batch, args.builders)
        figures = None if args.only == "incremental" else measure(big, small, args)
        incremental = None
        if args.only != "verify":
            print(f"(c) incremental verification ({load()})", flush=True)
            incremental = measure_incremental(big, small, args.newest, args.rounds, args.day)
    if figures is not None:
        print_report(args, big, figures, time.perf_counter() - started)
    else:
        print(f"\n{machine()}; {load()}")
    if incremental is not None:
        print()
        print_incremental(incremental, args.rounds)
    print(f"(total {time.perf_counter() - started:.0f} s)")
    return 0


def measure(big: BenchStore, small: BenchStore, args: argparse.Namespace) -> Figures:
    """(a) then (b), on stores already built."""
    store = open_store(big.settings)
    try:
        events = event_count(store)
        # The raw rate is taken on half the signatures just before the verifier and on the
        # other half just after it, so that a change in the machine's load shows.
        print(f"big store: {events:,} events; raw Ed25519 rates ({load()})", flush=True)
        nacl_before = raw_verify_rate("pynacl", events // 2)
        openssl_rate = raw_verify_rate("cryptography", min(events, OPENSSL_SAMPLE))
        print(f"full verifier ({load()})", flush=True)
        verified = run_verifier(big.settings)
        print(f"raw Ed25519 rate again ({load()})", flush=True)
        nacl_after = raw_verify_rate("pynacl", events - events // 2)
        nacl_rate = events / (events // 2 / nacl_before + (events - events // 2) / nacl_after)
        if not verified.ok:
            for finding in verified.findings:
                print(f"  FINDING: {finding}")
            raise SystemExit("the verifier found problems in the benchmark's own store")
        profile = ""
        if args.profile:
            print("profiling one worker", flush=True)
            profile = profile_worker_path(big.settings, store, min(args.profile, events), 25)
    finally:
        store.close()
    figures = Figures(
        verified,
        nacl_rate,
        (nacl_before, nacl_after),
        openssl_rate,
        count_events(small),
        events,
        profile=profile,
    )
    if args.only == "verify":
        return figures
    print(f"timing appends ({load()})", flush=True)
    figures.small_times, figures.big_times = alternate_appends(
        small, big, args.rounds, args.appends
    )
    return figures


def alternate_appends(
    small: BenchStore, big: BenchStore, rounds: int, appends: int
) -> tuple[list[float], list[float]]:
    """(b)'s seconds of each timed append to the small store and to the big one: ``rounds``
    rounds of ``appends`` on each, alternating which store goes first."""
    small_times: list[float] = []
    big_times: list[float] = []
    for round_number in range(rounds):
        order = [(small, small_times), (big, big_times)]
        if round_number % 2:
            order.reverse()
        for bench, times in order:
            times += time_appends(bench, appends, warmup=20)
    return small_times, big_times


def count_events(bench: BenchStore) -> int:
    store = open_store(bench.settings)
    try:
        return event_count(store)
    finally:
        store.close()


def print_appends(
    title: str, small: tuple[int, list[float]], big: tuple[int, list[float]]
) -> float:
    """(b)'s table, each store's events and append times, and the ratio against its goal;
    returns the ratio."""
    append_ratio = statistics.median(big[1]) / statistics.median(small[1])
    print(title)
    print(f"  {'events in the log':<22} {'median us':>10} {'p10 us':>10} {'p90 us':>10}")
    for events, times in (small, big):
        deciles = statistics.quantiles(times, n=10)
        print(
            f"  {events:<22,} {statistics.median(times) * 1e6:>10,.0f} "
            f"{deciles[0] * 1e6:>10,.0f} {deciles[-1] * 1e6:>10,.0f}"
        )
    verdict = "met" if append_ratio <= APPEND_GOAL else "NOT met"
    print(f"  ratio big / small: {append_ratio:.2f} (goal <= {APPEND_GOAL}: {verdict})")
    return append_ratio


def print_report(args: argparse.Namespace, big: BenchStore, f: Figures, total: float) -> None:
    verify = f.verify
    ratio = verify.rate / f.nacl_rate
    print()
    print(f"{machine()}; {load()}")
    if big.built_now:
        print(
            f"Built {big.built_now:,} events in {big.build_seconds:.0f} s "
            f"({big.built_now / big.build_seconds:,.0f} events/s; {args.builders} builders, "
            f"{args.batch} events per save)"
        )
    print()
    print(f"(a) Verification of {verify.events:,} events on {os.cpu_count()} cores")
    print(f"  {'':<62} {'events/s':>10} {'seconds':>8}")
    rows = [
        ("full verifier: store.verifier().verify()", verify.rate, verify.seconds),
        ("raw Ed25519 verify, PyNaCl (libsodium), all cores", f.nacl_rate, None),
        (
            "raw Ed25519 verify, cryptography (OpenSSL), all cores "
            f"({min(f.big_events, OPENSSL_SAMPLE):,})",
            f.openssl_rate,
            None,
        ),
    ]
    for label, rate, seconds in rows:
        timed = f"{seconds:>8.1f}" if seconds is not None else f"{'':>8}"
        print(f"  {label:<62} {rate:>10,.0f} {timed}")
    before, after = f.nacl_halves
    print(f"  (raw PyNaCl: {before:,.0f}/s on the half before the verifier, {after:,.0f}/s after)")
    verdict = "met" if ratio >= VERIFY_GOAL else "NOT met"
    print(f"  ratio full / raw PyNaCl: {ratio:.2f} (goal >= {VERIFY_GOAL}: {verdict})")
    raw_cpu = statistics.mean(RAW_CPU.get("pynacl", [0.0])) * 1e6
    verify_cpu = verify.cpu_seconds / verify.events * 1e6
    print(
        f"  CPU time an event: verifier {verify_cpu:,.0f} us (its process and workers), raw "
        f"PyNaCl {raw_cpu:,.0f} us a signature; ratio {raw_cpu / verify_cpu:.2f} (what the "
        "wall-clock ratio would be on cores it had to itself)"
    )
    print(
        f"  (both on {os.cpu_count()} processes: the verifier's pool has one worker a core, as "
        "the raw rate has; the verifier's own process, which checks in log order what the "
        "workers send back, runs on the same cores)"
    )
    print("  phases of the full verifier (wall seconds):")
    for name, seconds in verify.phases.items():
        print(f"    {PHASES.get(name, name):<60} {seconds:>8.1f}")
    workers = ", ".join(f"{peak / 1024:,.0f}" for peak in verify.worker_peaks_kib)
    print(
        f"  peak RSS: verifying process {verify.peak_kib / 1024:,.0f} MiB; its forkserver and "
        f"pool workers {workers or '-'} MiB each"
    )
    if args.only == "verify":
        if f.profile:
            print()
            print("cProfile of the worker path (EventChecker.check_range), by own time:")
            print(f.profile)
        return
    print()
    print_appends(
        f"(b) Append: Records.record of one signed event, {args.rounds} rounds of "
        f"{args.appends} (after 20 untimed), alternating stores",
        (f.small_events, f.small_times),
        (f.big_events, f.big_times),
    )
    if f.profile:
        print()
        print("cProfile of the worker path (EventChecker.check_range), by own time:")
        print(f.profile)
    print(f"(total {total:.0f} s)")


if __name__ == "__main__":
    sys.exit(main())
