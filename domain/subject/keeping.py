"""How a subject keeps its entries: by version, with an index of them by kind.

Entries are only ever added, each under a new (higher) version, and never change kind; a
correction, void or signature puts a new entry in place of the one it changes, never edits it.
"""

from __future__ import annotations

from typing import Any, overload

from domain.subject.entries import Entry
from domain.subject.record import Record

KIND_INDEX = "_kind_index"
"""Where a subject keeps its index of entries by kind: derived from ``entries``, not state."""


class EntryKeeping:
    """The entries of a subject's record, read by kind."""

    entries: dict[int, Entry]
    __dict__: dict[str, Any]

    def live(self, *kinds: type[Record]) -> list[Entry]:
        """The entries of these kinds that count (not voided), oldest first."""
        index = self.entries_by_kind()
        if len(kinds) == 1:
            return [e for e in index.get(kinds[0].kind(), ()) if e.is_live]
        names = dict.fromkeys(kind.kind() for kind in kinds)
        found = [e for name in names for e in index.get(name, ()) if e.is_live]
        return sorted(found, key=lambda e: e.version)

    def others(self, kind: type[Record], besides: int | None) -> list[Entry]:
        """The live entries of a kind but ``besides`` (an entry being corrected, which its
        correction stands in for; None for a new record), oldest first."""
        return [e for e in self.live(kind) if e.version != besides]

    def latest(self, kind: type[Record]) -> Entry | None:
        """The most recent live entry of a kind."""
        entries = self.live(kind)
        return entries[-1] if entries else None

    def entries_by_kind(self) -> dict[str, list[Entry]]:
        """The entries grouped by kind, oldest first: an index, brought up to date on read.

        The index extends by the entries added since it was last read. A summary of a long
        record reads ``live`` dozens of times; this spares a scan of every entry each time.
        """
        counted: int
        index: dict[str, list[Entry]]
        counted, index = self.__dict__.get(KIND_INDEX, (0, {}))
        if counted != len(self.entries):
            for entry in list(self.entries.values())[counted:]:
                index.setdefault(entry.kind, []).append(entry)
            self.__dict__[KIND_INDEX] = (len(self.entries), index)
        return index

    def replace_entry(self, entry: Entry) -> None:
        """Put a corrected or voided entry in place of the one of its version.

        Entries are replaced, never edited in place: a copy made for a command shares its
        entries with the subject it was copied from.
        """
        replaced = self.entries[entry.version]
        self.entries[entry.version] = entry
        _, index = self.__dict__.get(KIND_INDEX, (0, {}))
        same_kind = index.get(replaced.kind, [])
        for position in range(len(same_kind) - 1, -1, -1):
            if same_kind[position] is replaced:
                same_kind[position] = entry
                break

    def keep_copies_of(self, original: EntryKeeping) -> None:
        """Keep a dict of entries and an index of one's own, sharing ``original``'s entries
        (which events replace rather than change)."""
        index = original.entries_by_kind()
        self.entries = dict(original.entries)
        counted = len(original.entries)
        self.__dict__[KIND_INDEX] = (counted, {kind: list(e) for kind, e in index.items()})


class LatestEntry:
    """A subject's entry of one kind, read as an attribute: the most recent live one, or None
    (``subject.death``)."""

    def __init__(self, kind: type[Record]) -> None:
        self.kind = kind

    @overload
    def __get__(self, keeping: None, owner: type[Any]) -> LatestEntry: ...
    @overload
    def __get__(self, keeping: EntryKeeping, owner: type[Any]) -> Entry | None: ...
    def __get__(self, keeping: EntryKeeping | None, owner: type[Any]) -> LatestEntry | Entry | None:
        return self if keeping is None else keeping.latest(self.kind)
