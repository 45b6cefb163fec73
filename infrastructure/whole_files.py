"""Files written whole: whoever reads one (another process, or the store after a crash) finds the
file as it was or as it is now, never half of it.

The content goes to a draft beside the file, named for this process and a random suffix so
that processes writing at once never share one, and is then moved into place in one step of
the file system: renamed over the file (:func:`replace_whole`), or linked to its name only if
no file has it yet (:func:`create_once`), so that of processes making the same file at once
(server workers starting together) the first wins and all read its file.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def replace_whole(path: Path, content: bytes) -> None:
    """Write ``path`` with ``content``, replacing any file there.

    Raises:
        OSError: it cannot be written (the file there, if any, is left as it was).
    """
    draft = _draft_beside(path)
    try:
        draft.write_bytes(content)
        draft.replace(path)
    finally:
        draft.unlink(missing_ok=True)


def create_once(path: Path, content: bytes, mode: int = 0o600) -> None:
    """Create ``path`` with ``content`` (``mode``: its owner's only by default) unless a file
    has that name already, which is then kept as it is.

    Raises:
        OSError: it cannot be written.
    """
    draft = _draft_beside(path)
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        os.link(draft, path)
    except FileExistsError:
        pass  # another process made it first; its file is the one
    finally:
        draft.unlink(missing_ok=True)


def _draft_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
