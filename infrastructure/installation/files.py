"""The key files ``sealtrail init`` writes, and the folders that hold them: present, owned by the
account that runs sealtrail, and private.

Private is 0600 for a file and 0700 for a folder, or stricter: nothing for the group or others
(a key readable by others is a key others may sign with). Public halves (``*.pub.pem``,
``*.cert.pem``) may be read by anyone but written by their owner alone. Every file under
``keys`` is checked, so the secrets made later (the pages' secret, the document-signing key,
the demonstration staff's keys) are too; so are the first administrator's key beside them when
it is still there, and the SQLite database and the files SQLite keeps beside it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from infrastructure.identity import server_key, sponsor_key
from infrastructure.installation.results import CheckResult, failed, passed
from infrastructure.settings import Settings

KEY_FILES = "key files"
REQUIRED = (
    server_key.PRIVATE_KEY_FILE,
    server_key.PUBLIC_KEY_FILE,
    server_key.TOKEN_SECRET_FILE,
    server_key.VIEW_SEAL_KEY_FILE,
    sponsor_key.PRIVATE_KEY_FILE,
)
"""What ``sealtrail init`` writes under ``keys``: a store without one of them is not whole."""
PUBLIC_SUFFIXES = (".pub.pem", ".cert.pem")
FIRST_ADMINISTRATOR_KEY = "admin.pem"
"""Where init writes the first administrator's key (until they take it away)."""
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal", "-writers.lock")


def check_key_files(settings: Settings) -> CheckResult:
    """The key files are there, the account's own, and none is open to others."""
    keys = settings.keys_dir
    problems = [f"{keys / name} missing" for name in REQUIRED if not (keys / name).is_file()]
    checked = 0
    for path, private in _kept(settings):
        checked += 1
        problem = _mode_problem(path, private)
        if problem is not None:
            problems.append(problem)
    if problems:
        return failed(KEY_FILES, "; ".join(problems))
    return passed(
        KEY_FILES,
        f"{checked} files and folders under {settings.home} present, this account's, "
        "private (0600 and 0700; public halves 0644)",
    )


def _kept(settings: Settings) -> Iterator[tuple[Path, bool]]:
    """Each folder and file to check, and whether it must be private."""
    for folder in (settings.home, settings.keys_dir):
        if folder.is_dir():
            yield folder, True
    if settings.keys_dir.is_dir():
        for path in sorted(settings.keys_dir.rglob("*")):
            if path.is_file():
                yield path, not path.name.endswith(PUBLIC_SUFFIXES)
    administrator = settings.home / FIRST_ADMINISTRATOR_KEY
    if administrator.is_file():
        yield administrator, True
    if settings.is_sqlite:
        database = str(settings.database_url.database)
        for suffix in SQLITE_COMPANIONS:
            path = Path(database + suffix)
            if path.is_file():
                yield path, True


def _mode_problem(path: Path, private: bool) -> str | None:
    try:
        status = path.stat()
    except OSError as error:
        return f"{path} cannot be looked at: {error.strerror or error}"
    mode = stat.S_IMODE(status.st_mode)
    kind = "folder" if path.is_dir() else "file"
    if status.st_uid != os.geteuid():
        return f"{path} belongs to uid {status.st_uid}, not to this account ({os.geteuid()})"
    if private and mode & 0o077:
        wanted = "0700" if kind == "folder" else "0600"
        return f"{path} is {mode:04o}: open to others (a private {kind} is {wanted} or stricter)"
    if not private and mode & 0o022:
        return f"{path} is {mode:04o}: others may change it (a public key is 0644 or stricter)"
    return None
