"""The names the ODM file gives: its namespace, fixed OIDs and every derived object identifier.

An OID is derived from a name: letters, digits and ``_`` stand for themselves, and every other
character is written as a named or hexadecimal code between dashes, so two different names
never share an OID.
"""

from __future__ import annotations

from enum import Enum
from functools import lru_cache

from projections.odm.items import Path

ODM_NAMESPACE = "http://www.cdisc.org/ns/odm/v1.3"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
LANGUAGE = "en"
SOURCE_SYSTEM = "sealtrail"
METADATA_VERSION_OID = "MDV.1"
STUDY_EVENT_OID = "SE.RECORD"
INSERT, UPDATE, REMOVE, CONTEXT = "Insert", "Update", "Remove", "Context"


# -- object identifiers ---------------------------------------------------------------------------

_NAMED_CHARACTERS = {
    "/": "per",
    "%": "pct",
    "^": "pow",
    ".": "dot",
    " ": "sp",
    "-": "dash",
    "[": "lb",
    "]": "rb",
    "*": "times",
}


@lru_cache(maxsize=4096)
def oid_part(name: str) -> str:
    """A name as a part of an OID: ``10^9/L`` -> ``10-pow-9-per-L`` (one OID per name).

    Kept per name: a log names the same few people, sites, meanings, units and items in every
    one of its thousands of transactions, and each was written out a character at a time."""
    return "".join(
        char
        if (char.isascii() and char.isalnum()) or char == "_"
        else f"-{_NAMED_CHARACTERS.get(char, format(ord(char), 'x'))}-"
        for char in name
    )


def item_oid(kind: str, path: Path) -> str:
    return f"IT.{kind}." + ".".join(oid_part(part) for part in path)


def unit_oid(unit: str) -> str:
    return f"MU.{oid_part(unit)}"


def user_oid(user_id: str) -> str:
    return f"USR.{oid_part(user_id)}"


def location_oid(site: str) -> str:
    return f"LOC.{oid_part(site)}"


def signature_oid(meaning: str) -> str:
    return f"SD.{oid_part(meaning)}"


def code_list_oid(vocabulary: type[Enum]) -> str:
    return f"CL.{vocabulary.__name__}"
