"""What changed in a subject between two points of its history, field by field.

The two points are the subject's summaries then (:func:`projections.subject_summary.summarise`
of the subject as replayed at each point), so a change is stated in the summary's own fields:
``status``, ``msc_infusions[entry 12].dose.value``, ``adverse_events[entry 40].outcome``... A
list whose items each name their entry is compared entry by entry (an entry's second item, such
as a second signature over one record, is ``[entry n, 2]``), so a record added in the middle
reads as that record added, not as every later item changed; any other list is compared by
place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from projections.subject_summary import Summary

ADDED, REMOVED, CHANGED = "added", "removed", "changed"


@dataclass(frozen=True)
class FieldChange:
    """One field of the summary that differs: its path, and its value before and after (None
    where it did not exist)."""

    field: str
    before: Any
    after: Any
    change: str
    """``added``, ``removed`` or ``changed``."""


def changes_between(before: Summary, after: Summary) -> list[FieldChange]:
    """Every field that differs from ``before`` to ``after``, in the order of the paths."""
    old, new = leaves(before), leaves(after)
    changes = []
    for path in sorted(old.keys() | new.keys()):
        if path not in old:
            changes.append(FieldChange(path, None, new[path], ADDED))
        elif path not in new:
            changes.append(FieldChange(path, old[path], None, REMOVED))
        elif old[path] != new[path]:
            changes.append(FieldChange(path, old[path], new[path], CHANGED))
    return changes


def leaves(value: Any, path: str = "") -> dict[str, Any]:
    """The value's leaves by path: a scalar, or an empty list or mapping, is a leaf."""
    if isinstance(value, dict) and value:
        found: dict[str, Any] = {}
        for name, item in value.items():
            found.update(leaves(item, f"{path}.{name}" if path else str(name)))
        return found
    if isinstance(value, list) and value:
        by_entry = all(isinstance(item, dict) and "entry" in item for item in value)
        seen: dict[Any, int] = {}
        found = {}
        for place, item in enumerate(value):
            if by_entry:
                # An entry's second item (a second signature over one record) is "entry n, 2".
                seen[item["entry"]] = seen.get(item["entry"], 0) + 1
                count = seen[item["entry"]]
                key = f"entry {item['entry']}" + (f", {count}" if count > 1 else "")
            else:
                key = str(place)
            found.update(leaves(item, f"{path}[{key}]"))
        return found
    return {path: value}
