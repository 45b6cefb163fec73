"""``sealtrail verify`` on a store that is taking writes reports no finding.

The guide runs verify from cron against the live primary, and on a replica that replays the
primary's writes. verify read the events first and the Merkle leaves, nodes and checkpoints
after, so leaves written in between read as ``event-missing`` (exit 1, as tampering would).
The deployment drill (tests/resilience/drill.py) found it. Now verify answers for the log as it
stood when it began.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from infrastructure.settings import Settings
from tests.conftest import PersonFactory, new_store, screening
from tests.resilience.test_backup_restore import sealtrail

pytestmark = pytest.mark.slow  # tens of seconds a backend: started first (tests/conftest.py)


def test_verify_under_writes_reports_nothing(
    store_settings: Settings, tmp_path: Path, person_in: PersonFactory
) -> None:
    store = new_store(store_settings)
    stop = threading.Event()
    written: list[int] = []
    try:
        coordinator = person_in(store, "coord1")

        def keep_writing() -> None:
            while not stop.is_set():
                coordinator.record(store, f"RP-{len(written) + 100}", "Screened", screening())
                written.append(1)

        writer = threading.Thread(target=keep_writing)
        writer.start()
        try:
            while len(written) < 3:
                time.sleep(0.05)
            runs = [sealtrail(store_settings, "verify", "--workers", "1") for _ in range(3)]
            during = len(written)
        finally:
            stop.set()
            writer.join()
    finally:
        store.close()

    assert during > 3  # the writer kept writing while verify ran
    for done in runs:
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.strip().splitlines()[-1].endswith(" 0 findings")
