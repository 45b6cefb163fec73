"""A serving worker once its app is built (api.warm_up): its page templates compiled, what is
alive frozen out of the garbage collector's walks and the young generation collected less often,
whichever way the worker is started (gunicorn.conf.py, ``sealtrail serve``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from infrastructure.garbage_collector import YOUNG_GENERATION_THRESHOLD

REPOSITORY = Path(__file__).resolve().parents[2]
TEMPLATES = REPOSITORY / "api" / "web" / "templates"

AFTER_GUNICORN_CONF = """
import gc, runpy, types
from api.http.app import create_app
worker = types.SimpleNamespace(wsgi=create_app())
hooks = runpy.run_path("gunicorn.conf.py")
before = gc.get_threshold()
hooks["post_worker_init"](worker)
print(before[0], gc.get_threshold()[0], gc.get_freeze_count(), gc.get_count()[0])
print(*sorted(name for (_, name) in worker.wsgi.jinja_env.cache.keys()))
"""

AFTER_SEALTRAIL_SERVE = """
import gc, types
from api.console.server import gunicorn_options
from api.http.app import create_app
worker = types.SimpleNamespace(wsgi=create_app())
before = gc.get_threshold()
gunicorn_options("127.0.0.1", 8000, 4)["post_worker_init"](worker)
print(before[0], gc.get_threshold()[0], gc.get_freeze_count(), gc.get_count()[0])
print(*sorted(name for (_, name) in worker.wsgi.jinja_env.cache.keys()))
"""


def worker_after(hook: str) -> tuple[list[int], set[str]]:
    """The collector's figures and the templates compiled, once ``hook`` has run."""
    # A process of its own: the collector's settings are the whole process's.
    answer = subprocess.run(
        [sys.executable, "-c", hook],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
    )
    figures, templates = answer.stdout.splitlines()
    return [int(number) for number in figures.split()], set(templates.split())


@pytest.mark.parametrize("started_by", [AFTER_GUNICORN_CONF, AFTER_SEALTRAIL_SERVE])
def test_a_worker_freezes_what_is_alive_and_collects_the_young_less_often(started_by: str) -> None:
    (before, after, frozen, young), _ = worker_after(started_by)
    assert before == 700  # CPython's default, which set off a full collection every few pages
    assert after == YOUNG_GENERATION_THRESHOLD
    assert frozen > 5_000  # the interpreter and every module imported so far
    assert young < 100  # collected before freezing: nothing young left behind


@pytest.mark.parametrize("started_by", [AFTER_GUNICORN_CONF, AFTER_SEALTRAIL_SERVE])
def test_a_worker_compiles_every_page_template_before_its_first_request(started_by: str) -> None:
    _, compiled = worker_after(started_by)
    pages = {path.relative_to(TEMPLATES).as_posix() for path in TEMPLATES.rglob("*.html")}
    assert pages and pages <= compiled


def test_a_worker_imports_the_pdf_library_only_when_a_pdf_is_asked_for() -> None:
    # reportlab took 0.13 s of CPU to import at every worker's start, for the few files asked.
    started = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from api.http.app import create_app; create_app(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in {'reportlab', 'matplotlib'}"
            "))",
        ],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
    )
    assert started.stdout.strip() == "[]"
