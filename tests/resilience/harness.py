"""A real sealtrail server, sites that talk to it over HTTP, and the checks run on what it left.

Used by the resilience tests and by the crash script (``python -m tests.resilience.crash``), so
that a user can run by hand exactly what CI runs. Nothing here is a stand-in: the server is
gunicorn serving ``wsgi:app`` with several worker processes (the command docs/deployment.md
gives), the store is a SQLite file or a PostgreSQL database, every event is signed with a real
Ed25519 key, and every check reads the store itself.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import psycopg
import requests
from sqlalchemy import func, select
from sqlalchemy.engine import URL, make_url

from domain.signed import stream_id
from domain.wire import instant_to_wire
from infrastructure.bootstrap import Store, open_store
from infrastructure.identity.server_key import create_server_key, server_key_exists
from infrastructure.settings import Settings
from infrastructure.store.merkle_log import merkle_leaves
from signatures.authorship import sign_body
from signatures.errors import VerificationError
from signatures.keys import key_id
from signatures.receipts import verify_receipt
from tests.conftest import open_person

STUDY = "NCT01297972"
SITE = "RP"
REPOSITORY = Path(__file__).resolve().parents[2]
WSGI_APP = "wsgi:app"
READY_PATH = "/v1/server-key"


def subject_stream(study: str, subject: str) -> str:
    """A subject's stream name, as docs/architecture.md defines it."""
    return f"{study}/{subject}"


# -- people ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Author:
    """A site coordinator with an account, a password and a real Ed25519 key."""

    user_id: str
    printed_name: str
    private_key: Any
    password: str

    def signed(
        self, subject: str, kind: str, data: dict[str, Any], *, version: int
    ) -> dict[str, Any]:
        """``{"event": body, "signature": ...}`` as ``POST /v1/events`` takes it: version
        ``version`` of the subject's stream."""
        body = {
            "study": STUDY,
            "subject": subject,
            "version": version,
            "kind": kind,
            "data": data,
            "signer": {"user_id": self.user_id, "printed_name": self.printed_name},
            "key_id": key_id(self.private_key.public_key()),
            "signed_at": instant_to_wire(datetime.now(UTC)),
            "meaning": "authorship",
        }
        return {"event": body, "signature": sign_body(self.private_key, body)[1]}


def prepare_store(settings: Settings, user_ids: Sequence[str]) -> list[Author]:
    """``sealtrail init`` and one coordinator of site RP per user id, each with a key."""
    if not server_key_exists(settings):
        create_server_key(settings)
    store = open_store(settings)
    try:
        store.administration.initialise()
        authors = []
        for number, user_id in enumerate(user_ids):
            person = open_person(
                store, user_id, printed_name=f"Coordinator {number} (synthetic)", sites=(SITE,)
            )
            authors.append(
                Author(person.user_id, person.printed_name, person.private_key, person.password)
            )
        return authors
    finally:
        store.close()


# -- the server -----------------------------------------------------------------------------------


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_environment(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment docs/deployment.md sets, for this store."""
    environment = dict(os.environ)
    environment["SEALTRAIL_DATABASE_URL"] = settings.database_url.render_as_string(
        hide_password=False
    )
    environment["SEALTRAIL_HOME"] = str(settings.home)
    environment.update(extra)
    return environment


class Server:
    """gunicorn serving a WSGI app with ``workers`` processes, in a process group of its own."""

    def __init__(
        self,
        environment: dict[str, str],
        log: Path,
        *,
        workers: int = 4,
        app: str = WSGI_APP,
        ready_path: str = READY_PATH,
        port: int | None = None,
        threads: int = 1,
    ) -> None:
        self.environment = environment
        self.threads = threads
        self.log_path = log
        self.workers = workers
        self.app = app
        self.ready_path = ready_path
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        """The gunicorn command line of docs/deployment.md (with ``--threads`` when above 1:
        gunicorn's gthread worker)."""
        threads = ["--threads", str(self.threads)] if self.threads > 1 else []
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(self.workers),
            *threads,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "60",
            "--graceful-timeout",
            "10",
            self.app,
        ]

    def start(self, timeout: float = 60.0) -> None:
        """Start gunicorn and wait until a worker answers (the same port across restarts)."""
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command(),
            cwd=REPOSITORY,
            env=self.environment,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so that a kill takes every worker
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}: {self.tail()}")
            try:
                if requests.get(self.url + self.ready_path, timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s: {self.tail()}")

    def worker_pids(self) -> list[int]:
        """The worker processes the master has now (Linux: /proc)."""
        assert self.process is not None
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="ascii")
        except FileNotFoundError:
            return []
        return [int(child) for child in children.split()]

    def kill_worker(self, pid: int) -> None:
        """SIGKILL one worker: the master starts another in its place."""
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL the master and every worker at once: a power cut, as far as the store knows."""
        assert self.process is not None
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._close_log()

    def stop(self) -> None:
        """Shut down gracefully (SIGTERM), and kill what is left after 20 s."""
        if self.process is None or self.process.poll() is not None:
            self._close_log()
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
        with suppress(ProcessLookupError):  # workers a master left behind, if any
            os.killpg(self.process.pid, signal.SIGKILL)
        self._close_log()

    def tail(self, lines: int = 30) -> str:
        """The end of the server's log, for failure messages."""
        if not self.log_path.exists():
            return ""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- a site over HTTP -----------------------------------------------------------------------------


class HttpSite:
    """One author's session with a running server: a bearer token and signed writes."""

    def __init__(self, base_url: str, author: Author) -> None:
        self.base_url = base_url
        self.author = author
        self.http = requests.Session()
        self._token: str | None = None

    def headers(self, **extra: str) -> dict[str, str]:
        """The bearer token (fetched once) and any extra headers."""
        if self._token is None:
            response = self.http.post(
                self.base_url + "/v1/auth/token",
                json={"username": self.author.user_id, "password": self.author.password},
                timeout=30,
            )
            response.raise_for_status()
            self._token = str(response.json()["access_token"])
        return {"Authorization": f"Bearer {self._token}", **extra}

    def post(
        self,
        path: str,
        payload: Any = None,
        *,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30.0,
    ) -> requests.Response:
        """POST JSON (or raw bytes) with the token."""
        all_headers = self.headers(**(headers or {}))
        if data is not None:
            all_headers.setdefault("Content-Type", "application/json")
            return self.http.post(
                self.base_url + path, data=data, headers=all_headers, timeout=timeout
            )
        return self.http.post(
            self.base_url + path, json=payload, headers=all_headers, timeout=timeout
        )

    def get(self, path: str, timeout: float = 30.0) -> requests.Response:
        """GET with the token."""
        return self.http.get(self.base_url + path, headers=self.headers(), timeout=timeout)

    def record(
        self,
        subject: str,
        kind: str,
        data: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        if_match: int | None = None,
    ) -> requests.Response:
        """Sign and submit one event: the version after ``if_match``; 1 for a screening (a
        subject's first event, asking nothing of a server that may be down); or else after the
        last of the subject's history as the server answers it now (as ``sealtrail submit``
        does)."""
        if if_match is not None:
            version = if_match + 1
        elif kind == "Screened":
            version = 1
        else:
            version = self.next_version(subject)
        return self.submit(
            self.author.signed(subject, kind, data, version=version),
            idempotency_key=idempotency_key,
            if_match=if_match,
        )

    def next_version(self, subject: str) -> int:
        """The version the subject's next event takes, from its history (1 if not screened)."""
        response = self.get(f"/v1/studies/{STUDY}/subjects/{subject}/history")
        if response.status_code == 404:
            return 1
        response.raise_for_status()
        return max((int(entry["version"]) for entry in response.json()), default=0) + 1

    def submit(
        self,
        signed: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        if_match: int | None = None,
    ) -> requests.Response:
        """Submit an event already signed (a retry sends the very same bytes)."""
        headers = {}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        if if_match is not None:
            headers["If-Match"] = f'"{if_match}"'
        return self.post("/v1/events", signed, headers=headers)

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()


# -- what must hold afterwards ------------------------------------------------------------------


def receipt_problems(store: Store, receipts: Iterable[dict[str, Any]]) -> list[str]:
    """Every acknowledged receipt is signed by the server and names an event that is stored.

    The event must be at the receipt's log position, with its stream, version and chain hash,
    and be the receipt's leaf of the Merkle log.
    """
    problems = []
    public_key = store.app.server_key.public_key
    for receipt in receipts:
        where = f"{receipt['subject']} v{receipt['version']} @{receipt['position']}"
        try:
            verify_receipt(public_key, receipt)
        except VerificationError as error:
            problems.append(f"{where}: the receipt does not verify: {error}")
            continue
        originator = stream_id(subject_stream(receipt["study"], receipt["subject"]))
        try:
            record = store.app.stored_record(originator, int(receipt["version"]))
        except (StopIteration, KeyError):
            problems.append(f"{where}: acknowledged but not in the store")
            continue
        if record.position != receipt["position"]:
            problems.append(f"{where}: stored at position {record.position}")
        if record.event.event_hash != receipt["event_hash"]:
            problems.append(f"{where}: stored with another chain hash")
        if store.app.checkpoints.leaf_index(record.position) != receipt["leaf_index"]:
            problems.append(f"{where}: the Merkle log gives it another leaf")
    return problems


def log_positions(store: Store) -> list[int]:
    """Every event's log position, in log order."""
    positions: list[int] = []
    start = 1
    while True:
        page = store.app.recorder.select_notifications(start, 1000)
        if not page:
            return positions
        positions.extend(notification.id for notification in page)
        start = page[-1].id + 1


def half_written_problems(store: Store) -> list[str]:
    """The events and the Merkle leaves agree one for one, in the same order."""
    positions = log_positions(store)
    with store.engine.connect() as connection:
        leaves = connection.execute(
            select(merkle_leaves.c.leaf_index, merkle_leaves.c.position).order_by(
                merkle_leaves.c.leaf_index
            )
        ).all()
        count = connection.execute(select(func.count()).select_from(merkle_leaves)).scalar_one()
    problems = []
    if count != len(positions):
        problems.append(f"{len(positions)} events but {count} Merkle leaves")
    if [int(row.leaf_index) for row in leaves] != list(range(len(leaves))):
        problems.append("the leaf indexes are not 0, 1, 2, ...")
    if [int(row.position) for row in leaves] != positions:
        problems.append("the leaves do not name the events' positions in log order")
    return problems


def duplicated_keys(store: Store, subjects: Iterable[str]) -> dict[str, int]:
    """Idempotency keys that more than one event of these subjects carries."""
    counted: Counter[str] = Counter()
    for subject in subjects:
        for record in store.reads.history(subject_stream(STUDY, subject)):
            key = record.event.idempotency_key
            if key is not None:
                counted[key] += 1
    return {key: count for key, count in counted.items() if count > 1}


def sealtrail_verify(settings: Settings) -> subprocess.CompletedProcess[str]:
    """``sealtrail verify`` as a user runs it, on this store."""
    command = Path(sys.executable).parent / "sealtrail"
    return subprocess.run(
        [str(command), "verify"],
        env=server_environment(settings),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


# -- PostgreSQL databases for the script ---------------------------------------------------------


@contextmanager
def scratch_postgres_database(admin_url: str, prefix: str = "sealtrail_crash") -> Iterator[str]:
    """A fresh database on the server of ``admin_url``, dropped afterwards."""
    admin: URL = make_url(admin_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    conninfo = (
        f"host={admin.host or '127.0.0.1'} port={admin.port or 5432} "
        f"user={admin.username or 'postgres'} dbname={admin.database or 'postgres'}"
    )
    if admin.password:
        conninfo += f" password={admin.password}"
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(drivername="postgresql+psycopg", database=name).render_as_string(
            hide_password=False
        )
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
