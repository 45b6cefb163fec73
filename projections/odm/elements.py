"""Writing ODM elements: a child in ODM's namespace, an English ``TranslatedText``, an instant,
and the refusal of text XML 1.0 cannot carry.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from projections.errors import OdmExportRefused
from projections.odm.names import LANGUAGE, XML_LANG

_NOT_IN_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 cannot carry at all, escaped or not (section 2.2, ``Char``)."""


def xml_safe(text: str, where: str) -> str:
    found = _NOT_IN_XML.search(text)
    if found is not None:
        raise OdmExportRefused(
            f"{where} holds U+{ord(found.group()):04X}, which an XML 1.0 document cannot carry"
        )
    return text


def add_element(
    parent: ET.Element, tag: str, text: str | None = None, **attributes: str | None
) -> ET.Element:
    """A child element (in the root's default namespace, ODM's); attributes in the order given,
    None left out."""
    element = ET.SubElement(parent, tag, _carried(tag, attributes))
    if text is not None:
        element.text = xml_safe(text, tag)
    return element


def new_element(tag: str, **attributes: str | None) -> ET.Element:
    """An element of no parent yet (a part of the document written on its own), as
    :func:`add_element` makes one."""
    return ET.Element(tag, _carried(tag, attributes))


def _carried(tag: str, attributes: dict[str, str | None]) -> dict[str, str]:
    """The attributes given a value, each refused if it holds what XML cannot carry."""
    given = {name: value for name, value in attributes.items() if value is not None}
    # One search over all the attributes (a document has hundreds of thousands of them); which
    # one holds the character is looked for only when one does.
    if _NOT_IN_XML.search("".join(given.values())) is not None:
        for name, value in given.items():
            xml_safe(value, f"{tag} {name}")
    return given


def add_translated(parent: ET.Element, tag: str, text: str) -> ET.Element:
    """An element holding one ``TranslatedText`` in English (Description, Decode, Symbol...)."""
    element = add_element(parent, tag)
    add_element(element, "TranslatedText", text).set(XML_LANG, LANGUAGE)
    return element


def instant(moment: datetime) -> str:
    """An aware instant in UTC as ISO 8601 with ``Z`` (microseconds only when it has them)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise OdmExportRefused(f"{moment.isoformat()} has no time zone: ODM times are instants")
    utc = moment.astimezone(UTC)
    return (
        utc.strftime("%Y-%m-%dT%H:%M:%S")
        + (f".{utc.microsecond:06d}" if utc.microsecond else "")
        + "Z"
    )
