"""Checking a document against the official ODM 1.3.2 schema."""

from __future__ import annotations

import io
from itertools import islice

from projections.errors import OdmSchemaInvalid

MAX_VIOLATIONS_NAMED = 5
"""How many schema violations :class:`OdmSchemaInvalid` names (the first ones in the file)."""


def check_odm_schema(document: bytes) -> None:
    """Check a document against the official ODM 1.3.2 XSD, as odmlib ships it.

    The document is read with entities and DTDs refused (a packet may come from anyone), and
    the schema's identity constraints (unique OIDs) are checked with its structure and types.

    Raises:
        OdmSchemaInvalid: the document is not well-formed XML, or not valid ODM 1.3.2; it names
            the first violations (at most :data:`MAX_VIOLATIONS_NAMED`), each with its path.
    """
    # Imported here: the API and CLI import projections, and only a packet needs the schema.
    import xmlschema
    from odmlib import odm_parser

    validator = odm_parser.ODMSchemaValidator(standard="odm", version="1.3.2")
    schema: xmlschema.XMLSchemaBase = validator.xsd
    # xmlschema refuses documents of more than a million elements, a guard against documents
    # that grow on reading; with entities refused, an element takes at least four bytes
    # ("<a/>"), so a bound taken from the size never refuses a genuine log of any length.
    default_limit = xmlschema.limits.MAX_XML_ELEMENTS
    xmlschema.limits.MAX_XML_ELEMENTS = max(default_limit, len(document) // 4 + 1)
    try:
        resource = xmlschema.XMLResource(io.BytesIO(document), defuse="always")
        errors = list(islice(schema.iter_errors(resource), MAX_VIOLATIONS_NAMED))
    except xmlschema.XMLResourceError as error:
        raise OdmSchemaInvalid([f"not a well-formed XML document: {error}"]) from None
    finally:
        xmlschema.limits.MAX_XML_ELEMENTS = default_limit
    if errors:
        raise OdmSchemaInvalid(
            [f"{error.path}: {error.reason or error.message}" for error in errors]
        )
