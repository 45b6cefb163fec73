"""What is computed from a subject's events, kept for as long as its events say the same.

A subject's stream is append-only and each of its events carries the chain hash of everything
before it: whatever is computed from the stream at version V, whose event has chain hash H, is
the same for anyone who asks about (stream, V, H) ever after. So a result is kept under a key
naming the stream, the version and that chain hash, and whatever else it depends on (a period,
the page's language and time zone, what the reader may do there); a new event makes a new key
at once, so a kept result is never stale: it is only no longer asked for, and ages out.

The global log position is not a usable key: every page shown appends its copy to the reader's
disclosure log, so the log grows with each request.

What is kept never decides who sees it: the caller checks the person's permission before it
asks (a result is kept per subject, and a person is only ever given the subjects they read),
and records the copy it hands out after, on every request.

Each cache is a least-recently-used one (cachetools) bounded by a size it is given (entries,
bytes or events), one per open store, safe to share between a worker's threads.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from cachetools import LRUCache

Value = TypeVar("Value")


class ReadCache(Generic[Value]):
    """Results by key, the least recently used dropped first past ``maxsize`` (counted by
    ``sizeof``, one per result by default)."""

    def __init__(self, maxsize: int, sizeof: Callable[[Value], int] | None = None) -> None:
        self._kept: LRUCache[Hashable, Value] = LRUCache(maxsize, getsizeof=sizeof)
        self._lock = threading.Lock()

    def get(
        self,
        key: Hashable,
        compute: Callable[[], Value],
        key_of: Callable[[Value], Hashable] | None = None,
    ) -> Value:
        """The result kept under ``key``; else ``compute()``'s, kept under ``key`` (or under
        ``key_of`` the result, when what was computed names its own version: a fold that read
        a newer head than the one asked about is kept as what it is, never as an older one).

        Two threads missing at once both compute: the results are equal, the second is kept.
        """
        with self._lock:
            found = self._kept.get(key)
        if found is not None:
            return found
        result = compute()
        kept_as = key if key_of is None else key_of(result)
        # A result larger than the whole cache is answered, not kept.
        with self._lock, contextlib.suppress(ValueError):
            self._kept[kept_as] = result
        return result

    def found(self, key: Hashable) -> Value | None:
        """The result kept under ``key``, or None: for a caller that computes what is missing
        in one pass and then :meth:`keep` s each."""
        with self._lock:
            return self._kept.get(key)

    def keep(self, key: Hashable, result: Value) -> None:
        """Keep ``result`` under ``key`` (a result larger than the whole cache is not kept)."""
        with self._lock, contextlib.suppress(ValueError):
            self._kept[key] = result

    def __len__(self) -> int:
        with self._lock:
            return len(self._kept)


class PerStore(Generic[Value]):
    """One :class:`ReadCache` per open store (per application object), made on first use and
    gone with the store."""

    def __init__(self, maxsize: int, sizeof: Callable[[Value], int] | None = None) -> None:
        self.maxsize = maxsize
        self.sizeof = sizeof
        self._caches: weakref.WeakKeyDictionary[object, ReadCache[Value]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def of(self, app: object) -> ReadCache[Value]:
        with self._lock:
            cache = self._caches.get(app)
            if cache is None:
                cache = self._caches[app] = ReadCache(self.maxsize, self.sizeof)
            return cache
