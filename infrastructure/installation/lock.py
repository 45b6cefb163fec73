"""The Python and the distributions installed, against the lock the project installs with.

The lock is ``constraints.txt`` at the top of the repository, made by ``make lock`` (``pip
freeze`` of the test environment) and given to every ``pip install`` of the Makefile with
``-c``: it pins the exact version of every distribution, the project's direct and transitive
dependencies and the test tools, and names the Python it was made with in its header
(``# python 3.11``). An installation qualifies when it runs that Python (major and minor) and
every distribution sealtrail needs at run time, followed through their own requirements
(markers evaluated, extras not taken), is installed at the version the lock pins.
"""

from __future__ import annotations

import platform
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from infrastructure.installation.results import CheckResult, failed, passed

LOCK_FILE = Path(__file__).resolve().parents[2] / "constraints.txt"
"""The lock at the top of the repository (sealtrail is installed editable, from there)."""
DISTRIBUTION = "sealtrail"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")
_PYTHON = re.compile(r"^#\s*python\s+(\d+\.\d+)\s*$")


@dataclass(frozen=True)
class Lock:
    """What the lock pins: each distribution's version (by canonical name) and the Python."""

    path: Path
    python: str | None
    pins: dict[str, str]


def read_lock(path: Path = LOCK_FILE) -> Lock:
    """The lock at ``path``.

    Raises:
        OSError: it cannot be read.
    """
    python = None
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if (found := _PYTHON.match(line)) is not None:
            python = found.group(1)
        elif (pinned := _PIN.match(line.strip())) is not None:
            pins[canonicalize_name(pinned.group(1))] = pinned.group(2)
    return Lock(path, python, pins)


def check_python(lock: Lock | None) -> CheckResult:
    """The running Python is the one the lock was made with, and one sealtrail accepts."""
    running = platform.python_version()
    minor = ".".join(running.split(".")[:2])
    required = _sealtrail().metadata["Requires-Python"] or "any"
    if lock is None:
        return failed("python", f"{running}: no lock to compare with (see dependencies)")
    if lock.python is None:
        return failed("python", f"{running}: {lock.path.name} names no '# python X.Y' line")
    if minor != lock.python:
        return failed(
            "python",
            f"{running} runs, {lock.path.name} was made with {lock.python}: "
            "install with that Python, or make the lock again on this one (make lock)",
        )
    return passed("python", f"{running} (the lock's {lock.python}; sealtrail requires {required})")


def check_dependencies(lock: Lock | None, lock_error: str | None = None) -> CheckResult:
    """Every distribution sealtrail needs at run time is installed at the lock's version."""
    if lock is None:
        return failed("dependencies", f"no lock: {lock_error}")
    wrong = []
    needed = needed_distributions()
    for name, installed in sorted(needed.items()):
        pinned = lock.pins.get(name)
        if installed is None:
            wrong.append(f"{name} not installed (the lock pins {pinned or 'nothing'})")
        elif pinned is None:
            wrong.append(f"{name} {installed} is not in the lock")
        elif installed != pinned:
            wrong.append(f"{name} {installed} installed, the lock pins {pinned}")
    if wrong:
        return failed("dependencies", "; ".join(wrong))
    return passed(
        "dependencies",
        f"{len(needed)} distributions sealtrail needs are installed as {lock.path.name} pins them",
    )


def installed_versions() -> dict[str, str]:
    """The distributions sealtrail needs, by name, at their installed versions (for the
    record)."""
    return {
        name: version or "not installed" for name, version in sorted(needed_distributions().items())
    }


def _sealtrail() -> metadata.Distribution:
    return metadata.distribution(DISTRIBUTION)


@cache
def needed_distributions() -> dict[str, str | None]:
    """Each distribution sealtrail requires, followed through theirs, with its installed
    version (None: not installed). Read once a process: reading every distribution's metadata
    takes most of a second, and a process's installation does not change under it."""
    return dict(_needed())


def _needed() -> Iterator[tuple[str, str | None]]:
    """Each distribution sealtrail requires, followed through theirs, with its installed
    version (None: not installed)."""
    seen: set[str] = {DISTRIBUTION}
    waiting = list(_requirements(_sealtrail()))
    while waiting:
        name = waiting.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            yield name, None
            continue
        yield name, distribution.version
        waiting.extend(_requirements(distribution))


def _requirements(distribution: metadata.Distribution) -> Iterator[str]:
    for text in distribution.requires or ():
        try:
            requirement = Requirement(text)
        except InvalidRequirement:  # pragma: no cover - pip installed it, so it parses
            continue
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            yield canonicalize_name(requirement.name)
