"""A key rotated while its owner writes: the store never acknowledges what its own verify refuses.

Real processes throughout: gunicorn serving the store, two sessions of one coordinator posting a
stream of events signed with the key they hold, and ``sealtrail key rotate`` run by the
administrator at a console of its own (one process, :mod:`tests.resilience.console_process`),
several times. Every event the server answered 201 must pass ``sealtrail verify`` and ``packet
verify``; the rotation instant, the key check on the way in and the one in verify must agree to
the microsecond, whatever the processes' timing.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from domain.account import Role
from infrastructure.application.commands import OpenAccount, Training
from infrastructure.bootstrap import open_store
from infrastructure.packets.build import build_packet
from infrastructure.packets.verify import verify_packet
from infrastructure.settings import Settings
from signatures.keys import generate_private_key, key_id, public_key_to_pem, public_key_to_text
from tests.cli_stores import ADMIN_PASSWORD
from tests.conftest import make_settings, require_postgres
from tests.resilience.console_process import ConsoleProcess
from tests.resilience.harness import (
    REPOSITORY,
    Author,
    HttpSite,
    Server,
    scratch_postgres_database,
    server_environment,
)

ROTATIONS = 3
WRITE_BEFORE_ROTATION = 0.8
"""Seconds of writing with each key before it is rotated."""

pytestmark = pytest.mark.slow


@dataclass
class Written:
    """One write: which key signed it, and the answer."""

    key_id: str
    status: int
    receipt: dict[str, Any] | None


@dataclass
class Writers:
    """Sessions of one coordinator writing as fast as the server answers, with a shared key."""

    sites: list[HttpSite]
    author: Author
    written: list[Written] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, site: HttpSite) -> None:
        while not self.stop.is_set():
            author = self.author  # one key for the whole write, even if the test swaps it now
            site.author = author
            response = site.record(
                f"RP-{uuid.uuid4().hex[:10]}",
                "Screened",
                {"site": "RP", "sex": "F", "age": 34, "screened_on": "2011-02-14"},
            )
            written = Written(
                key_id(author.private_key.public_key()),
                response.status_code,
                response.json() if response.status_code == 201 else None,
            )
            assert response.status_code in (201, 422), response.text
            with self.lock:
                self.written.append(written)

    @contextmanager
    def running(self) -> Iterator[None]:
        threads = [threading.Thread(target=self.run, args=(site,)) for site in self.sites]
        for thread in threads:
            thread.start()
        try:
            yield
        finally:
            self.stop.set()
            for thread in threads:
                thread.join(timeout=60)


def console(settings: Settings) -> ConsoleProcess:
    """The administrator's console on the store, a process of its own, kept open."""
    return ConsoleProcess(server_environment(settings), str(REPOSITORY))


def as_admin(admin: ConsoleProcess, home: Path, *args: str) -> None:
    """A console command signed by the administrator (key and password of ``initialise``); it
    succeeds."""
    done = admin.run(
        *args, "--as", "admin", "--key", str(home / "admin.pem"), SEALTRAIL_PASSWORD=ADMIN_PASSWORD
    )
    assert done.returncode == 0, done.stderr


def initialise(admin: ConsoleProcess, settings: Settings) -> Author:
    """``sealtrail init``, the administrator's own password, and a coordinator with a key."""
    done = admin.run("init")
    assert done.returncode == 0, done.stderr
    one_time = done.stdout.split("one-time password: ")[1].split()[0]
    changed = admin.run(
        "user",
        "password",
        "admin",
        SEALTRAIL_PASSWORD=one_time,
        SEALTRAIL_NEW_PASSWORD=ADMIN_PASSWORD,
    )
    assert changed.returncode == 0, changed.stderr
    store = open_store(settings)
    try:
        private_key = generate_private_key()
        store.administration.open_account(
            OpenAccount(
                user_id="coord1",
                printed_name="Ana Souza",
                role=Role.SITE_COORDINATOR,
                sites=("RP",),
                training=Training("GCP and sealtrail data entry", date(2011, 1, 10)),
                public_key=public_key_to_text(private_key.public_key()),
            )
        )
        password = f"pw-{uuid.uuid4().hex}"
        store.credentials.set_password("coord1", password)
        return Author("coord1", "Ana Souza", private_key, password)
    finally:
        store.close()


def rotate(admin: ConsoleProcess, author: Author, home: Path, round_: int) -> Author:
    """``sealtrail key rotate`` at the administrator's console; the author with the new key."""
    private_key = generate_private_key()
    public_file = home / f"coord1-{round_}.pub.pem"
    public_file.write_bytes(public_key_to_pem(private_key.public_key()))
    as_admin(
        admin,
        home,
        "key",
        "rotate",
        "--user",
        "coord1",
        "--key-id",
        key_id(author.private_key.public_key()),
        "--public-key",
        str(public_file),
    )
    return Author(author.user_id, author.printed_name, private_key, author.password)


@contextmanager
def database(backend: str, home: Path) -> Iterator[str | None]:
    if backend == "postgres":
        with scratch_postgres_database(require_postgres(), "sealtrail_test_rotation") as url:
            yield url
    else:
        yield None


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
WORKERS = 2
THREADS = 4
"""Threads per worker: gthread workers whose writes share commits. Sync workers (one thread) are
not run as well: every way a sync worker's write can meet the race is met here too. Its write
is a group of one, and groups of one form here whenever a single write is waiting, and the two
workers still race each other as two processes do. Running both cost about 20 s of CPU a race
test, measured, in a suite held to 10 minutes on 2 cores."""
WRITERS = WORKERS * THREADS
"""Sessions writing at once: one per thread of the workers, so that a worker's threads write at
once."""


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_event_acknowledged_while_its_key_was_rotated_is_refused_by_verify(
    backend: str, tmp_path: Path
) -> None:
    with database(backend, tmp_path) as url:
        settings = make_settings(tmp_path, url)
        with console(settings) as admin:
            author = initialise(admin, settings)
            server = Server(
                server_environment(settings),
                tmp_path / "gunicorn.log",
                workers=WORKERS,
                threads=THREADS,
            )
            with server:
                writers = Writers([HttpSite(server.url, author) for _ in range(WRITERS)], author)
                with writers.running():
                    for round_ in range(ROTATIONS):
                        time.sleep(WRITE_BEFORE_ROTATION)
                        writers.author = rotate(admin, writers.author, tmp_path, round_)
                    time.sleep(WRITE_BEFORE_ROTATION)
                for site in writers.sites:
                    site.close()
            verified = admin.run("verify", "--json")
        store = open_store(settings)
        try:
            keys = store.app.account("coord1").keys
            packet = verify_packet(build_packet(store, documents=False), redraw_documents=False)
        finally:
            store.close()

    acknowledged = [w for w in writers.written if w.status == 201]
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["findings"] == []
    assert [f.kind for f in packet.findings] == []
    # The race was run, not dodged: each rotated key signed acknowledged events up to the very
    # second its rotation took effect, the one the old truncation cut back into.
    ends = {k.key_id: k.revoked_at for k in keys.values() if k.revoked_at is not None}
    assert len(ends) == ROTATIONS
    close_calls = [
        w
        for w in acknowledged
        if w.key_id in ends
        and w.receipt is not None
        and (ends[w.key_id] - datetime.fromisoformat(w.receipt["server_time"])).total_seconds()
        <= 1.0
    ]
    assert close_calls, "no event was acknowledged within a second of a rotation"
    assert len(acknowledged) > 20
