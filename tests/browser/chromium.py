"""The Chromium the browser tests drive, and the flags it needs on this kind of machine.

``SEALTRAIL_TEST_CHROMIUM`` names the executable; left unset, Debian's ``/usr/bin/chromium``
(``apt-get install chromium``, which ``.ci/run`` does when it is missing). Playwright drives it
through its ``executable_path``: Playwright's own browser download (``playwright install``) is
never used. With no browser the browser tests skip, saying why, except under ``CI=true``, where
a skip would hide a failure: there each of them fails with the same line.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass

VARIABLE = "SEALTRAIL_TEST_CHROMIUM"
DEFAULT_EXECUTABLE = "/usr/bin/chromium"

FLAGS = (
    # As root (CI runs as root) Chromium refuses to start inside its own sandbox.
    "--no-sandbox",
    "--disable-gpu",
    # Chromium's own connections (field trials, component updates, sync, QUIC probes) would
    # go to Google's hosts; on a closed network they fail at every start, and on any network
    # they are traffic the pages did not ask for.
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
"""Given to every launch, beside Playwright's ``--headless`` and its fresh, empty profile
(``--user-data-dir`` in a new temporary folder)."""


@dataclass(frozen=True)
class Chromium:
    """Which browser the browser tests use, or why none."""

    executable: str | None
    """The executable to launch; None: no browser tests."""
    state: str
    """Which browser, or why none, in words (the report's header, a skip's reason)."""

    @property
    def header(self) -> str:
        return f"Browser tests: {self.state}"


def find_chromium(environ: Mapping[str, str]) -> Chromium:
    """The Chromium named by ``SEALTRAIL_TEST_CHROMIUM`` in ``environ``, else Debian's."""
    if importlib.util.find_spec("playwright") is None:
        return Chromium(None, "skipped (playwright is not installed: pip install -e '.[test]')")
    named = environ.get(VARIABLE) or DEFAULT_EXECUTABLE
    executable = shutil.which(named)
    if executable is None or not os.access(executable, os.X_OK):
        how = (
            f"{VARIABLE} names {named}"
            if environ.get(VARIABLE)
            else "apt-get install chromium, or name another with " + VARIABLE
        )
        return Chromium(None, f"skipped (no Chromium at {named}: {how})")
    return Chromium(executable, executable)
