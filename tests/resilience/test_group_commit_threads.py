"""The concurrency tests of :mod:`tests.resilience.test_concurrency`, against workers whose
threads' writes share commits: gunicorn's gthread worker, two processes of four threads each
(``sealtrail serve --threads 4``), so that writes race both within a process (in one group,
:mod:`infrastructure.store.write_groups`) and between processes (for the store's write lock).
Each version is still won by exactly one writer, a retried request is recorded once, and the
leaves stay one per event in log order, verified. And clients mixing writes, reads, proofs and
sign-ins at once, so that a worker's threads serve all of them together, get no fault.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests

from tests.cli_stores import sealtrail
from tests.conftest import STUDY
from tests.resilience.conftest import Live, fresh_subject, served
from tests.resilience.test_concurrency import (
    test_each_version_is_won_by_exactly_one_writer_and_the_others_get_409,
    test_the_same_request_sent_at_once_by_many_retries_is_recorded_once,
    test_without_if_match_every_acknowledged_write_gets_a_version_of_its_own,
    test_writers_in_several_processes_keep_one_leaf_per_event_in_log_order,
)

THREADS = 4

__all__ = [
    "test_each_version_is_won_by_exactly_one_writer_and_the_others_get_409",
    "test_the_same_request_sent_at_once_by_many_retries_is_recorded_once",
    "test_without_if_match_every_acknowledged_write_gets_a_version_of_its_own",
    "test_writers_in_several_processes_keep_one_leaf_per_event_in_log_order",
]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    """gunicorn with two gthread workers of four threads each over a fresh store."""
    yield from served(request, tmp_path_factory, threads=THREADS)


CLIENTS = 10
MIXING = 8.0
"""Seconds the clients send their mixed requests."""
SCREENING = {"site": "RP", "sex": "F", "age": 34, "screened_on": "2011-02-14"}


@dataclass
class Mixed:
    """Clients sending writes, reads of them, proofs, checkpoints, sign-ins and a page, at once:
    the statuses they were answered, and what else happened."""

    live: Live
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, n: int, stop: threading.Event) -> None:
        site = self.live.site(n % 2)
        # A connection a request, as the sign-ins' requests.post opens: a server may close an
        # idle kept-alive connection at any moment (gunicorn's keep-alive, 2 s), and a request
        # sent as it closes is reset before any answer (RFC 9112, section 9.3.1: the client
        # retries it if it can). Here every failure is counted as the server's fault, so the
        # clients do not keep connections: seen once in a full run on a loaded machine, with
        # nothing in the server's log (benoitc/gunicorn#1698, #2676).
        site.http.headers["Connection"] = "close"
        written: list[tuple[str, int]] = []
        ask = random.Random(n)
        while not stop.is_set():
            choice = ask.random()
            try:
                if choice < 0.35 or not written:
                    subject = fresh_subject()
                    key = subject if choice < 0.1 else None
                    response = site.record(subject, "Screened", SCREENING, idempotency_key=key)
                    if response.status_code == 201:
                        written.append((subject, int(response.json()["position"])))
                elif choice < 0.5:
                    subject, _ = ask.choice(written)
                    response = site.get(f"/v1/studies/{STUDY}/subjects/{subject}/history")
                elif choice < 0.6:
                    _, position = ask.choice(written)
                    response = site.get(f"/v1/events/{position}/proof")
                elif choice < 0.7:
                    response = site.get("/v1/checkpoints/latest")
                elif choice < 0.8:
                    response = site.get("/v1/me")
                elif choice < 0.9:
                    response = requests.post(
                        self.live.server.url + "/v1/auth/token",
                        json={"username": f"nobody-{n}", "password": "wrong"},
                        timeout=30,
                    )
                else:
                    response = requests.get(self.live.server.url + "/login", timeout=30)
            except requests.RequestException as error:
                with self.lock:
                    self.failures.append(repr(error))
                continue
            with self.lock:
                self.statuses[response.status_code] += 1
                if response.status_code >= 500:
                    self.failures.append(f"{response.status_code}: {response.text[:300]}")


def test_mixed_requests_at_once_are_answered_without_a_fault_and_leave_a_log_verify_accepts(
    live: Live,
) -> None:
    """Ten clients against the threaded workers at once, mixing writes (some with a retry key),
    reads of what they wrote, proofs, the latest checkpoint, failed sign-ins and the sign-in
    page: no answer is a 5xx, the server's log gains no traceback, and verify names nothing."""
    log_before = live.server.log_path.stat().st_size
    mixed = Mixed(live)
    stop = threading.Event()
    clients = [threading.Thread(target=mixed.run, args=(n, stop)) for n in range(CLIENTS)]
    for client in clients:
        client.start()
    time.sleep(MIXING)
    stop.set()
    for client in clients:
        client.join(timeout=60)

    assert mixed.failures == []
    assert set(mixed.statuses) <= {200, 201, 401}, mixed.statuses
    assert mixed.statuses[201] > 20 and mixed.statuses[200] > 20
    with live.server.log_path.open("rb") as log:
        log.seek(log_before)
        assert b"Traceback" not in log.read()
    url = live.settings.database_url.render_as_string(hide_password=False)
    verified = sealtrail("verify", "--json", home=live.settings.home, url=url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["findings"] == []
