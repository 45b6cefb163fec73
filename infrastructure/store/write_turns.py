"""SQLite writers take turns on an operating-system lock rather than polling for SQLite's.

SQLite lets one connection write at a time. A second writer that finds the database locked
retries from its busy handler, which sleeps 1, 2, 5, 10... milliseconds between tries: it
cannot be woken when the lock is released. Several server workers writing at once then spend
most of their time asleep beside a free database (with commits of about a millisecond, a
waiter typically wakes several milliseconds after its turn came). An exclusive ``flock`` on a
file beside the database is granted the moment its holder lets go, so the store's writers wait
there, in the kernel, and reach SQLite's lock when it is free. Every process that opens the
store (the server's workers, console commands) takes turns for its event inserts. It is a
queue in front of SQLite's lock, not a replacement: SQLite still locks, and a writer outside
the event store (a view catch-up, the credential tables) is serialised by SQLite as before.
Nothing about what is committed, or when, changes.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_SUFFIX = "-writers.lock"


class WriteTurns:
    """Exclusive turns among the processes (and threads) writing one SQLite database file."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + LOCK_SUFFIX)
        self._threads = threading.Lock()  # flock does not exclude threads sharing a descriptor

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this writer's turn and hold it for the duration of the block."""
        with self._threads:
            # Opened for each turn: a descriptor kept open would be shared with a fork()ed
            # child, and flock() lets every holder of the same open file in.
            descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                yield
            finally:
                os.close(descriptor)  # closing the last descriptor releases the lock
