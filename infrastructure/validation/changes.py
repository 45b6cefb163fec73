"""Change control: the requirements the CHANGELOG's unreleased entries touch.

An entry names the requirements it touches in brackets, ``[P11-11.10e-1]``, anywhere in its
text; the traceability report lists, for each, the tests the run re-ran for it. Brackets that
are no requirement id (``[Unreleased]``, a link) are text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from infrastructure.validation.requirements import (
    CHECKOUT,
    REQUIREMENT_ID,
    Requirements,
    RequirementsInvalid,
)

CHANGELOG = CHECKOUT / "CHANGELOG.md"
UNRELEASED = "## [Unreleased]"
_NAMED = re.compile(r"\[(" + REQUIREMENT_ID.pattern + r")\]")


@dataclass(frozen=True)
class Change:
    """One unreleased entry that names requirements."""

    section: str
    """Its Keep a Changelog section: Added, Changed, Fixed..."""
    summary: str
    """Its first line, without the list mark."""
    requirements: tuple[str, ...]


def unreleased_changes(requirements: Requirements, path: Path = CHANGELOG) -> list[Change]:
    """The entries of the Unreleased section that name requirements, in the file's order.

    Raises:
        RequirementsInvalid: the file cannot be read, or an entry names an id the requirements
            do not declare.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RequirementsInvalid(
            "the CHANGELOG %(path)s cannot be read: %(error)s",
            path=path,
            error=error.strerror or error,
        ) from None
    changes: list[Change] = []
    for section, entry in _unreleased_entries(text):
        named = tuple(dict.fromkeys(_NAMED.findall(entry)))
        for requirement_id in named:
            if requirement_id not in requirements.ids:
                raise RequirementsInvalid(
                    "the CHANGELOG's unreleased entry %(entry)r names [%(id)s], which "
                    "docs/validation/requirements.toml does not declare",
                    entry=_summary(entry),
                    id=requirement_id,
                )
        if named:
            changes.append(Change(section, _summary(entry), named))
    return changes


def _unreleased_entries(text: str) -> list[tuple[str, str]]:
    entries: list[tuple[str, str]] = []
    inside = False
    section = ""
    for line in text.splitlines():
        if line.startswith("## "):
            if inside:
                break
            inside = line.strip() == UNRELEASED
        elif not inside:
            continue
        elif line.startswith("### "):
            section = line[4:].strip()
        elif line.startswith("- "):
            entries.append((section, line[2:]))
        elif line.startswith("  ") and entries:
            entries[-1] = (entries[-1][0], f"{entries[-1][1]} {line.strip()}")
    return entries


def _summary(entry: str) -> str:
    words = entry.replace("**", "").replace("`", "")
    return words if len(words) <= 160 else words[:157].rstrip() + "..."
