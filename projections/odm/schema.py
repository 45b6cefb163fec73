"""Checking a document against the official ODM 1.3.2 schema."""

from __future__ import annotations

import re
from itertools import islice

from lxml import etree

from projections.errors import OdmSchemaInvalid

MAX_VIOLATIONS_NAMED = 5
"""How many schema violations :class:`OdmSchemaInvalid` names (the first ones in the file)."""

ODM_NAMESPACE = "{http://www.cdisc.org/ns/odm/v1.3}"


def check_odm_schema(document: bytes) -> None:
    """Check a document against the official ODM 1.3.2 XSD, as odmlib ships it.

    The document is read with entities and DTDs refused (a packet may come from anyone), and
    the schema's identity constraints (unique OIDs) are checked with its structure and types.
    The check is libxml2's (through lxml), in C: xmlschema, in pure Python, took about fifty
    times as long, seconds for the demonstration cohort's document.

    Raises:
        OdmSchemaInvalid: the document is not well-formed XML, or not valid ODM 1.3.2; it names
            the first violations (at most :data:`MAX_VIOLATIONS_NAMED`), each with its path.
    """
    # Nothing is fetched and no entity is expanded; libxml2's own limits (a text node of at
    # most 10 MB, 256 levels deep) bound what a hostile document can make it build, and a
    # genuine log of any length stays within them (its values are short, its depth fixed).
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)
    try:
        root = etree.fromstring(document, parser)
    except etree.XMLSyntaxError as error:
        raise OdmSchemaInvalid([f"not a well-formed XML document: {error}"]) from None
    tree = root.getroottree()
    if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
        # A DTD is where entities are declared: none was expanded, and the document is refused
        # before the schema reads it.
        raise OdmSchemaInvalid(["DTDs and entities are forbidden in an ODM document"])
    # A schema of its own for each check: lxml's validators keep their errors on themselves,
    # so one shared between threads would mix two checks' findings; it takes milliseconds.
    schema = etree.XMLSchema(etree.parse(_xsd_path(), parser))
    if schema.validate(root):
        return
    raise OdmSchemaInvalid(
        [
            f"{_readable_path(root, error.path)}: {error.message.replace(ODM_NAMESPACE, '')}"
            for error in islice(schema.error_log, MAX_VIOLATIONS_NAMED)
        ]
    )


def _xsd_path() -> str:
    # Imported here: the API and CLI import projections, and only a packet needs the schema.
    from odmlib import schema_manager

    return str(schema_manager.get_schema_path("odm", "1.3.2"))


def _readable_path(root: etree._Element, node_path: str | None) -> str:
    """libxml2's path of a node (``/*/*[1]/*[3]``: a ``*`` for each element of the default
    namespace) as the trial's reader names it (``/ODM/Study/MetaDataVersion``), each element by
    its name, numbered among its namesakes."""
    element = _node_at(root, node_path or "")
    if element is None:
        return node_path or "/"
    names = []
    step: etree._Element | None = element
    while step is not None:
        name = etree.QName(step).localname
        parent = step.getparent()
        namesakes = [] if parent is None else [e for e in parent if e.tag == step.tag]
        if len(namesakes) > 1:
            name += f"[{namesakes.index(step) + 1}]"
        names.append(name)
        step = parent
    return "/" + "/".join(reversed(names))


def _node_at(root: etree._Element, node_path: str) -> etree._Element | None:
    """The element at libxml2's path: each step a name (``*`` any element, ``prefix:name`` an
    element of that name) with its position among the siblings the step matches (1 if none)."""
    steps = node_path.split("/")
    if len(steps) < 2 or steps[0]:
        return None
    element: etree._Element | None = None
    for step in steps[1:]:
        matched = _STEP.fullmatch(step)
        if matched is None:
            return None
        name, position = matched["name"], int(matched["position"] or 1)
        children = [root] if element is None else [e for e in element if isinstance(e.tag, str)]
        candidates = [e for e in children if name == "*" or etree.QName(e).localname == name]
        if position > len(candidates):
            return None
        element = candidates[position - 1]
    return element


_STEP = re.compile(r"(?:[^:/\[\]]+:)?(?P<name>[^:/\[\]]+)(?:\[(?P<position>[1-9][0-9]*)\])?")
