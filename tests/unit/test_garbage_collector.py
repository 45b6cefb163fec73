"""A serving worker's garbage collector (infrastructure.garbage_collector): once its app is
built, what is alive is frozen out of the collections and the young generation is collected
less often, whichever way the worker is started (gunicorn.conf.py, ``sealtrail serve``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from infrastructure.garbage_collector import YOUNG_GENERATION_THRESHOLD

REPOSITORY = Path(__file__).resolve().parents[2]

AFTER_GUNICORN_CONF = """
import gc, runpy
hooks = runpy.run_path("gunicorn.conf.py")
before = gc.get_threshold()
hooks["post_worker_init"](None)
print(before[0], gc.get_threshold()[0], gc.get_freeze_count(), gc.get_count()[0])
"""

AFTER_SEALTRAIL_SERVE = """
import gc
from api.console.server import gunicorn_options
before = gc.get_threshold()
gunicorn_options("127.0.0.1", 8000, 4)["post_worker_init"](None)
print(before[0], gc.get_threshold()[0], gc.get_freeze_count(), gc.get_count()[0])
"""


def collector_after(hook: str) -> list[int]:
    # A process of its own: the collector's settings are the whole process's.
    answer = subprocess.run(
        [sys.executable, "-c", hook],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
    )
    return [int(number) for number in answer.stdout.split()]


@pytest.mark.parametrize("started_by", [AFTER_GUNICORN_CONF, AFTER_SEALTRAIL_SERVE])
def test_a_worker_freezes_what_is_alive_and_collects_the_young_less_often(started_by: str) -> None:
    before, after, frozen, young = collector_after(started_by)
    assert before == 700  # CPython's default, which set off a full collection every few pages
    assert after == YOUNG_GENERATION_THRESHOLD
    assert frozen > 5_000  # the interpreter and every module imported so far
    assert young < 100  # collected before freezing: nothing young left behind


