"""SIGKILL under sustained load, ten rounds, on SQLite and on PostgreSQL.

The run itself is :mod:`tests.resilience.crash` (also a script a user can run); this test holds
it to what it promises. Whether a kill lands inside a transaction is down to chance, so the test
also insists that some requests were cut off and retried: a run that never crashed a write in
flight proves nothing.

Each round costs a worker's start-up (an import of the app, a second and a half of CPU), far
more than the writes between kills: ten rounds, two of them whole servers, on two workers that
four writers keep busy. A longer run is the script's (``--rounds``), as docs/deployment.md
gives it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infrastructure.settings import Settings
from tests.resilience import crash

pytestmark = pytest.mark.slow

ROUNDS = 10


def test_every_acknowledged_write_survives_writers_killed_at_random(
    store_settings: Settings, tmp_path: Path
) -> None:
    report = crash.run(
        store_settings,
        rounds=ROUNDS,
        workers=2,
        writers=4,
        restart_every=5,
        pause=(0.1, 0.4),
        seed=8,
        log=tmp_path / "gunicorn.log",
    )

    assert report.ok, report.summary() + "\n" + (tmp_path / "gunicorn.log").read_text()[-3000:]
    assert report.rounds == ROUNDS
    assert report.workers_killed + report.server_restarts == ROUNDS
    assert report.server_restarts == 2
    assert report.interrupted > 0, "no kill landed on a request in flight"
    assert report.acknowledged >= report.rounds  # at least one write between kills
    assert report.events >= report.acknowledged
