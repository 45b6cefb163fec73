"""The ODM document: its root, its three parts, and its bytes."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import datetime

from domain.protocol import protocol_for
from domain.signed import SignedAggregate
from projections.odm.admin import LEGAL_REASON, write_admin_data
from projections.odm.clinical import write_clinical_data
from projections.odm.elements import instant, xml_safe
from projections.odm.metadata import write_study
from projections.odm.names import ODM_NAMESPACE, SOURCE_SYSTEM, oid_part
from projections.odm.reading import LogReading


def odm_document(
    log: Sequence[tuple[int, SignedAggregate.Event]],
    *,
    study: str,
    created_at: datetime,
    legal_reason: str = LEGAL_REASON,
) -> bytes:
    """The study's whole log as one ODM 1.3.2 archive (UTF-8), byte for byte reproducible.

    Args:
        log: every event of the log in log order, each with its log position: the subjects'
            events and the accounts' (read into the users, their names and sites).
        study: the study to write (its protocol gives the names; other studies are left out).
        created_at: the document's ``CreationDateTime`` and ``AsOfDateTime``: the instant the
            log was read up to (the checkpoint's time), an aware datetime.
        legal_reason: the signature definitions' ``LegalReason`` (an earlier version's only
            to check a packet it published: ``projections.odm.admin.EARLIER_LEGAL_REASONS``).

    Returns:
        The document, whose bytes depend on nothing but the arguments.

    Raises:
        UnknownStudy: no protocol is defined for ``study``.
        OdmExportRefused: the log is out of order or incomplete (a stream's version missing, a
            signer whose account it has not opened), holds an event that is neither a subject's,
            an account's nor the authentication log's, or holds text XML cannot carry; or
            ``created_at`` has no time zone.
    """
    protocol = protocol_for(study)
    stamp = instant(created_at)
    reading = LogReading(study)
    reading.read(log)
    # The namespace is declared as the root's first attribute, so every element is ODM's
    # without a prefix (ElementTree would otherwise invent ``ns0:``).
    root = ET.Element("ODM", xmlns=ODM_NAMESPACE)
    for name, value in (
        ("Description", f"The signed log of {study}: every transaction, audited and signed"),
        ("FileType", "Transactional"),
        ("Granularity", "All"),
        ("Archival", "Yes"),
        (
            "FileOID",
            f"{SOURCE_SYSTEM}.{oid_part(study)}.{stamp.replace('-', '').replace(':', '')}",
        ),
        ("CreationDateTime", stamp),
        ("AsOfDateTime", stamp),
        ("ODMVersion", "1.3.2"),
        ("Originator", protocol.sponsor),
        ("SourceSystem", SOURCE_SYSTEM),
    ):
        root.set(name, xml_safe(value, f"ODM {name}"))
    write_study(root, protocol, reading)
    write_admin_data(root, reading, legal_reason)
    write_clinical_data(root, reading)
    ET.indent(root, space="  ")
    # Written as bytes as it is serialised: the document as text, then with its declaration,
    # then encoded, held it three times over (91 against 24 MiB at 20,000 events).
    written = io.BytesIO()
    written.write(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    ET.ElementTree(root).write(written, encoding="utf-8", xml_declaration=False)
    written.write(b"\n")
    return written.getvalue()
