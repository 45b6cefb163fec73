"""``sealtrail project --follow`` in a real process: it follows the log and stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from infrastructure.bootstrap import Store
from infrastructure.views.projection_runner import view_tracking
from infrastructure.views.tables import subject_summary
from tests.conftest import PersonFactory
from tests.projections.conftest import course, record_all

SEALTRAIL = str(Path(sys.executable).parent / "sealtrail")
STREAM = "NCT01297972/RP-101"
DEADLINE = 20.0


def follower(store: Store, poll_interval: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEALTRAIL_")}
    env["SEALTRAIL_HOME"] = str(store.settings.home)
    env["SEALTRAIL_DATABASE_URL"] = store.settings.database_url.render_as_string(
        hide_password=False
    )
    return subprocess.Popen(
        [SEALTRAIL, "project", "--follow", "--poll-interval", poll_interval],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if process.poll() is not None:
            _, stderr = process.communicate()
            pytest.fail(f"the follower exited with {process.returncode}: {stderr}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the follower did not get there in time")
        time.sleep(0.05)


def summary_version(store: Store) -> int:
    with store.engine.connect() as connection:
        version = connection.execute(
            select(subject_summary.c.version).where(subject_summary.c.stream == STREAM)
        ).scalar_one_or_none()
    return int(version or 0)


def caught_up(store: Store) -> bool:
    with store.engine.connect() as connection:
        positions = connection.execute(select(view_tracking.c.position)).scalars().all()
    head = store.app.recorder.max_notification_id() or 0
    return len(positions) >= 5 and min(positions) >= head


@pytest.mark.parametrize(
    # On PostgreSQL the poll interval is longer than the deadline: only the subscription
    # (LISTEN/NOTIFY) can wake the follower in time.
    ("backend", "poll_interval", "stop"),
    [
        ("sqlite", "0.2", signal.SIGINT),
        pytest.param("postgres", "60", signal.SIGTERM, marks=pytest.mark.postgres),
    ],
)
def test_the_follower_applies_an_event_recorded_after_it_started_and_stops_cleanly_on_a_signal(
    store: Store, person_in: PersonFactory, poll_interval: str, stop: signal.Signals
) -> None:
    person = person_in(store)
    record_all(store, person, course()[:4])
    process = follower(store, poll_interval)
    try:
        wait_for(lambda: caught_up(store), process)
        assert summary_version(store) == 4

        record_all(store, person, course()[4:5])
        wait_for(lambda: summary_version(store) == 5, process)
    finally:
        process.send_signal(stop)
        stdout, stderr = process.communicate(timeout=DEADLINE)

    assert process.returncode == 0, stderr
    assert stdout == stderr == ""  # quiet when not on a terminal
