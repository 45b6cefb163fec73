"""Where a report was made: the commit of the checkout, every installed distribution and its
version, and the machine. A validation report without them proves nothing about an installation.
"""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import distributions

from infrastructure.validation.requirements import CHECKOUT


@dataclass(frozen=True)
class Environment:
    """The software and the machine a report speaks for."""

    commit: str
    """The checkout's commit, ``... with uncommitted changes`` when it has some, or why none."""
    distributions: tuple[tuple[str, str], ...]
    """Every installed distribution (name, version), sorted by name."""
    machine: tuple[tuple[str, str], ...]
    made_at: datetime


def environment_now() -> Environment:
    """The environment this process runs in, now."""
    return Environment(
        commit=checkout_commit(),
        distributions=installed_distributions(),
        machine=(
            ("host", platform.node()),
            ("system", platform.platform()),
            ("processor", f"{platform.machine()}, {os.cpu_count()} cores"),
            ("python", f"{platform.python_implementation()} {platform.python_version()}"),
        ),
        made_at=datetime.now(UTC).replace(microsecond=0),
    )


def checkout_commit() -> str:
    """The commit the checkout stands at (git), saying so when files differ from it."""
    try:
        head = _git("rev-parse", "HEAD")
        changed = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown: not a git checkout, or git is not installed"
    return f"{head} with uncommitted changes" if changed else head


def installed_distributions() -> tuple[tuple[str, str], ...]:
    """Every distribution installed beside sealtrail, with its version."""
    found = {
        (dist.metadata["Name"] or "?").lower(): dist.version
        for dist in distributions()
        if dist.metadata["Name"]
    }
    return tuple(sorted(found.items()))


def _git(*arguments: str) -> str:
    done = subprocess.run(  # noqa: S603 - git with fixed arguments
        ["git", "-C", str(CHECKOUT), *arguments],  # noqa: S607 - git from PATH, as a developer's
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout.strip()
