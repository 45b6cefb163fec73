"""``sealtrail verify`` on a store that is taking writes reports no finding.

The guide runs verify from cron against the live primary, and on a replica that replays the
primary's writes. verify read the events first and the Merkle leaves, nodes and checkpoints
after, so leaves written in between read as ``event-missing`` (exit 1, as tampering would).
The deployment drill (tests/resilience/drill.py) found it. Now verify answers for the log as it
stood when it began.

verify runs three times at a console kept open in a process of its own
(:mod:`tests.resilience.console_process`), started before the writer: the writer writes while
verify reads, not while a console starts.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from infrastructure.settings import Settings
from tests.conftest import PersonFactory, new_store, screening
from tests.resilience.console_process import ConsoleProcess
from tests.resilience.harness import REPOSITORY, server_environment

pytestmark = pytest.mark.slow  # tens of seconds a backend: started first (tests/conftest.py)

LOG_BEFORE_VERIFY = 50
"""Events written before the first verify."""


def test_verify_under_writes_reports_nothing(
    store_settings: Settings, tmp_path: Path, person_in: PersonFactory
) -> None:
    store = new_store(store_settings)
    stop = threading.Event()
    written: list[int] = []
    console = ConsoleProcess(server_environment(store_settings), str(REPOSITORY))
    try:
        coordinator = person_in(store, "coord1")
        console.ready()

        def keep_writing() -> None:
            while not stop.is_set():
                coordinator.record(store, f"RP-{len(written) + 100}", "Screened", screening())
                written.append(1)

        writer = threading.Thread(target=keep_writing)
        writer.start()
        try:
            # A log of some size before the first verify (the console's start-up made one when
            # each verify was a process of its own), so that each verify reads for long enough
            # for writes to land between its reads.
            while len(written) < LOG_BEFORE_VERIFY:
                time.sleep(0.05)
            runs = []
            for _ in range(3):
                before = len(written)
                done = console.run("verify", "--workers", "1")
                runs.append((done, len(written) - before))
        finally:
            stop.set()
            writer.join()
    finally:
        console.close()
        store.close()

    assert sum(landed for _, landed in runs) > 0  # the writer kept writing while verify ran
    for done, _ in runs:
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.strip().splitlines()[-1].endswith(" 0 findings")
