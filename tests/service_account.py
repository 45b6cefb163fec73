"""Running the command line as an unprivileged service account, as docs/deployment.md does.

The tests may run as root, whom file modes do not stop; the guide runs sealtrail under a
service account of its own. As root, :func:`run_as_service_account` runs the command as
``nobody`` (``setpriv``); as anyone else, as the user running the tests, whom the modes stop.
Files it must reach live under :func:`shared_directory`, which that account may enter.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.cli_stores import SEALTRAIL

NOBODY = 65534


def is_root() -> bool:
    return os.geteuid() == 0


def service_account_ids() -> tuple[int, int]:
    """The uid and gid the service account runs as."""
    return (NOBODY, NOBODY) if is_root() else (os.geteuid(), os.getegid())


@contextmanager
def shared_directory() -> Iterator[Path]:
    """A fresh directory the service account may enter (pytest's tmp_path is the owner's only)."""
    path = Path(tempfile.mkdtemp(prefix="sealtrail-service-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def owned_by_service_account(path: Path) -> Path:
    """``path`` (a directory, made if missing) owned by the service account."""
    path.mkdir(parents=True, exist_ok=True)
    uid, gid = service_account_ids()
    os.chown(path, uid, gid)
    return path


def run_as_service_account(
    *args: str, home: Path, url: str, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``sealtrail ARGS`` as the service account, with the store's environment."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SEALTRAIL_")}
    env.update(extra_env or {})
    env["SEALTRAIL_HOME"] = str(home)
    env["SEALTRAIL_DATABASE_URL"] = url
    prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    return subprocess.run(
        [*(prefix if is_root() else []), SEALTRAIL, *args],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
