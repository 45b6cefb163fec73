"""A pytest run inside a test, for what a test session decides before any test: which
PostgreSQL server and which browser it uses, and whether it may run at all under ``CI=true``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.browser.chromium import VARIABLE as CHROMIUM_VARIABLE
from tests.postgres import VARIABLE as POSTGRES_VARIABLE

ROOT = Path(__file__).resolve().parents[1]
DECIDED_BY_THE_RUN = ("CI", POSTGRES_VARIABLE, CHROMIUM_VARIABLE)
"""Left out of the nested run's environment unless the test gives them: it decides afresh."""


def pytest_in_subprocess(*arguments: str, **environ: str) -> subprocess.CompletedProcess[str]:
    """``pytest ARGUMENTS`` in the repository, in a process of its own, with ``environ``."""
    env = {key: value for key, value in os.environ.items() if key not in DECIDED_BY_THE_RUN}
    env.update(environ)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
