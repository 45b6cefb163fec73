"""Stores that take seconds to make, made once per test run and copied for each user.

Loading the demonstration cohort costs several seconds of CPU (its 1,400 signed events, then
the investigator's site copy, a packet built and verified). Made once per module or per test
process, it was made some fifteen times a run; here it is made once for the whole run, by the
first test process that asks for it, while the others wait on a lock, and every module or test
that uses it opens a copy of its own (a SQLite file and the keys beside it): what one test
writes is never seen by another, as before.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.demonstration import loading
from infrastructure.bootstrap import Store, open_store


def made_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], object]
) -> Path:
    """The folder ``name`` that ``make`` fills, made by the first test process of the run that
    asks for it; the others wait for it (an exclusive ``flock``) and take it as it was left.

    ``make`` fills a folder of its own, renamed into place when it returns: a make that fails
    leaves nothing, and the next asker tries again (and fails as visibly).
    """
    # Under xdist each process has its own temporary root inside the run's: the run's is shared.
    base = tmp_path_factory.getbasetemp()
    run_root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    made = run_root / f"shared-{name}"
    with (run_root / f"shared-{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not made.exists():
            making = run_root / f"shared-{name}.making"
            shutil.rmtree(making, ignore_errors=True)
            making.mkdir()
            make(making)
            making.rename(made)
    return made


@dataclass(frozen=True)
class DemoCohort:
    """A store the demonstration cohort was loaded into (``loading.load`` on a store made by
    ``tests.conftest.new_store``), and how many events the load added."""

    home: Path
    added: int


@pytest.fixture(scope="session")
def demo_cohort_template(tmp_path_factory: pytest.TempPathFactory) -> DemoCohort:
    """The demonstration cohort loaded once for the whole run; open copies with :func:`opened`."""
    from tests.conftest import make_settings, new_store

    def load(folder: Path) -> None:
        store = new_store(make_settings(folder / "home"))
        try:
            added = loading.load(store)
        finally:
            store.close()
        (folder / "load.json").write_text(json.dumps({"added": added}))

    made = made_once(tmp_path_factory, "demo-cohort", load)
    added = json.loads((made / "load.json").read_text())["added"]
    return DemoCohort(made / "home", int(added))


@contextmanager
def opened(template: DemoCohort, home: Path) -> Iterator[Store]:
    """A copy of ``template``'s store under ``home``, open, closed on leaving."""
    from tests.conftest import make_settings

    shutil.copytree(template.home, home, dirs_exist_ok=True)
    store = open_store(make_settings(home))
    try:
        yield store
    finally:
        store.close()
