"""Whether a piece of free text says anything a reader can see.

A reason, a conclusion or a change decided is required because a reader of the audit trail
must be told why; ``str.strip`` leaves characters that show nothing (a zero-width space, a word
joiner, a byte order mark, a Hangul filler, a Braille blank), so a "reason" of them alone would
pass for one and print as an empty cell.
"""

from __future__ import annotations

import unicodedata

BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
"""Characters drawn as nothing although Unicode does not call them spaces or formats: the
Hangul fillers and the Braille pattern blank."""


def says_nothing(text: str) -> bool:
    """True when ``text`` is empty or holds only spaces, format characters (category Cf) and
    characters drawn blank."""
    return all(
        character.isspace() or unicodedata.category(character) == "Cf" or character in BLANK_LETTERS
        for character in text
    )
