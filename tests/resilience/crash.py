"""The crash test: writers under sustained load killed with SIGKILL at random moments.

A gunicorn server with several workers serves a fresh store; writer threads (each a site
coordinator with a subject of its own) sign and submit events as fast as the server answers,
each with an ``Idempotency-Key``, and retry a request the crash interrupted with the same key
and the same signed bytes, as ``sealtrail submit`` does. Every round, after a random pause and
at least one more acknowledged write (so the load is sustained on a slow machine too), one
worker is killed with SIGKILL (the master starts another); every ``--restart-every`` rounds the
master and all its workers are killed at once and the server is started again on the same store.

Afterwards, with the server stopped:

- every event acknowledged with 201 is stored at the position its receipt names, with the
  receipt's version, chain hash and Merkle leaf, and the receipt verifies with the server's key;
- nothing is half-written: the events and the Merkle leaves agree one for one, in log order;
- no idempotency key is carried by two events (a retried request never recorded twice);
- ``sealtrail verify`` exits 0.

Run it by hand (SQLite in a temporary directory, or a scratch PostgreSQL database that is
created and dropped)::

    .venv/bin/python -m tests.resilience.crash --backend sqlite --rounds 20
    .venv/bin/python -m tests.resilience.crash --backend postgres \\
        --postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/test

It prints what it did and exits 0 when everything held, 1 otherwise.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from infrastructure.bootstrap import open_store
from infrastructure.settings import Settings
from tests.conftest import consent, make_settings, screening
from tests.resilience.harness import (
    Author,
    HttpSite,
    Server,
    duplicated_keys,
    half_written_problems,
    prepare_store,
    receipt_problems,
    scratch_postgres_database,
    sealtrail_verify,
    server_environment,
)

GIVE_UP_AFTER = 60.0
"""Seconds a writer keeps retrying one request before the run counts it as lost."""


@dataclass
class Writer:
    """One coordinator writing to a subject of her own, and what happened to her requests."""

    site: HttpSite
    subject: str
    acknowledged: list[dict[str, Any]] = field(default_factory=list)
    interrupted: int = 0
    unexpected: list[str] = field(default_factory=list)

    def run(self, stop: threading.Event) -> None:
        """Write until told to stop; finish (retry) the request in flight first."""
        sequence = 0
        while not stop.is_set() and not self.unexpected:
            if not self.acknowledged:
                kind, data = "Screened", screening()
            else:
                kind, data = "ConsentObtained", consent()
            key = f"{self.subject}.{sequence}"
            response = self.submit_until_answered(
                self.site.author.signed(
                    self.subject, kind, data, version=len(self.acknowledged) + 1
                ),
                key,
            )
            if response is None:
                return
            if response.status_code == 201:
                self.acknowledged.append(response.json())
                sequence += 1
            else:
                self.unexpected.append(f"{key}: {response.status_code} {response.text[:300]}")

    def submit_until_answered(self, signed: dict[str, Any], key: str) -> requests.Response | None:
        """Send until the server answers; a crash in between is retried with the same key."""
        deadline = time.monotonic() + GIVE_UP_AFTER
        while time.monotonic() < deadline:
            try:
                return self.site.submit(signed, idempotency_key=key)
            except requests.RequestException:
                # The worker died under the request (or the server is restarting): the event
                # may or may not be stored, and the same key makes the retry safe either way.
                self.interrupted += 1
                time.sleep(random.uniform(0.02, 0.2))
        self.unexpected.append(f"{key}: no answer within {GIVE_UP_AFTER} s")
        return None


@dataclass
class CrashReport:
    """What a crash run did and what it found."""

    rounds: int = 0
    workers_killed: int = 0
    server_restarts: int = 0
    acknowledged: int = 0
    interrupted: int = 0
    events: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every property held."""
        return not self.problems

    def summary(self) -> str:
        """One paragraph for a person."""
        verdict = "OK" if self.ok else "FAILED"
        lines = [
            f"{verdict}: {self.rounds} rounds, {self.workers_killed} workers and "
            f"{self.server_restarts} whole servers killed with SIGKILL; "
            f"{self.acknowledged} writes acknowledged, {self.interrupted} requests interrupted "
            f"and retried; {self.events} events in the log",
            *self.problems,
        ]
        return "\n".join(lines)


def _wait_for_an_acknowledgement(team: list[Writer], acked_before: int) -> None:
    """Until the team has more acknowledged writes than ``acked_before`` (or GIVE_UP_AFTER)."""
    deadline = time.monotonic() + GIVE_UP_AFTER
    while sum(len(w.acknowledged) for w in team) <= acked_before:
        if time.monotonic() > deadline:
            return  # the check after the run says what went wrong
        time.sleep(0.01)


def run(
    settings: Settings,
    *,
    rounds: int = 20,
    workers: int = 3,
    writers: int = 4,
    restart_every: int = 5,
    pause: tuple[float, float] = (0.15, 0.6),
    seed: int | None = None,
    log: Path,
    say: Callable[[str], None] = lambda _: None,
) -> CrashReport:
    """Prepare a store, crash its server ``rounds`` times under load, then check the store."""
    rng = random.Random(seed)
    authors: list[Author] = prepare_store(settings, [f"writer{n}" for n in range(writers)])
    # Checkpoints are sealed often, so that crashes also land between a write and its sealing.
    environment = server_environment(settings, SEALTRAIL_CHECKPOINT_EVERY="25")
    server = Server(environment, log, workers=workers)
    report = CrashReport()
    server.start()
    stop = threading.Event()
    team = [
        Writer(HttpSite(server.url, author), f"CR-{number:02d}")
        for number, author in enumerate(authors)
    ]
    threads = [threading.Thread(target=writer.run, args=(stop,)) for writer in team]
    try:
        for thread in threads:
            thread.start()
        for number in range(rounds):
            # Sustained load, however slow the machine: each kill comes after a random pause
            # and after at least one more write was acknowledged since the last one.
            acked_before = sum(len(w.acknowledged) for w in team)
            time.sleep(rng.uniform(*pause))
            _wait_for_an_acknowledgement(team, acked_before)
            if restart_every and (number + 1) % restart_every == 0:
                server.kill()
                report.server_restarts += 1
                server.start()
            else:
                victims = server.worker_pids()
                if victims:
                    server.kill_worker(rng.choice(victims))
                    report.workers_killed += 1
            report.rounds += 1
            say(f"round {number + 1}/{rounds}: {sum(len(w.acknowledged) for w in team)} acked")
        time.sleep(pause[1])  # let the last replacement worker take requests too
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=GIVE_UP_AFTER + 30)
        server.stop()
        for writer in team:
            writer.site.close()
    receipts = [receipt for writer in team for receipt in writer.acknowledged]
    report.acknowledged = len(receipts)
    report.interrupted = sum(writer.interrupted for writer in team)
    for writer in team:
        report.problems.extend(writer.unexpected)
    report.problems.extend(check(settings, receipts, [writer.subject for writer in team], report))
    return report


def check(
    settings: Settings,
    receipts: list[dict[str, Any]],
    subjects: list[str],
    report: CrashReport,
) -> list[str]:
    """Every property the crash test promises, checked on the store itself."""
    problems: list[str] = []
    store = open_store(settings)
    try:
        problems.extend(receipt_problems(store, receipts))
        problems.extend(half_written_problems(store))
        written = [
            subject for subject in subjects if store.app.find_subject(f"NCT01297972/{subject}")
        ]
        for key, count in duplicated_keys(store, written).items():
            problems.append(f"idempotency key {key} was recorded {count} times")
        report.events = store.app.recorder.max_notification_id() or 0
    finally:
        store.close()
    verified = sealtrail_verify(settings)
    if verified.returncode != 0:
        problems.append(f"sealtrail verify exited {verified.returncode}: {verified.stdout[-2000:]}")
    else:
        report.events = int(verified.stdout.split("OK: ", 1)[1].split(" ", 1)[0])
    return problems


def main(argv: list[str] | None = None) -> int:
    """The command line of the crash script."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="a server where a scratch database may be created and dropped",
    )
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--writers", type=int, default=4, help="concurrent writing clients")
    parser.add_argument("--restart-every", type=int, default=5, help="kill the whole server")
    parser.add_argument("--seed", type=int, default=None)
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sealtrail-crash-") as scratch:
        home = Path(scratch)

        def go(database_url: str | None) -> CrashReport:
            return run(
                make_settings(home, database_url),
                rounds=arguments.rounds,
                workers=arguments.workers,
                writers=arguments.writers,
                restart_every=arguments.restart_every,
                seed=arguments.seed,
                log=home / "gunicorn.log",
                say=print,
            )

        if arguments.backend == "postgres":
            with scratch_postgres_database(arguments.postgres_url) as url:
                report = go(url)
        else:
            report = go(None)
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
