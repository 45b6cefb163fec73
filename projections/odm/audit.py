"""Each transaction's ``AuditRecord`` and ``Signature`` (ODM 1.3.2 section 3.3): who, where,
when the store recorded it and why, its log position, and the signer's meaning and time.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from projections.odm.elements import add_element
from projections.odm.names import CONTEXT, location_oid, signature_oid, user_oid
from projections.odm.reading import SubjectRecord, Transaction


def write_audit_record_and_signature(
    group: ET.Element, record: SubjectRecord, transaction: Transaction
) -> None:
    """The ``AuditRecord`` and ``Signature`` of one transaction's ``ItemGroupData``."""
    signer, location = transaction.signer, location_oid(record.site)
    # One event may sign several entries: each of its transactions needs IDs of its own.
    ids = str(transaction.position)
    if transaction.action == CONTEXT:
        ids += f".{transaction.entry}"
    audit = add_element(group, "AuditRecord", ID=f"AR.{ids}")
    add_element(audit, "UserRef", UserOID=user_oid(signer.user_id))
    add_element(audit, "LocationRef", LocationOID=location)
    add_element(audit, "DateTimeStamp", transaction.recorded_at)
    if transaction.reason is not None:
        add_element(audit, "ReasonForChange", transaction.reason)
    add_element(audit, "SourceID", str(transaction.position))
    signature = add_element(group, "Signature", ID=f"SG.{ids}")
    add_element(signature, "UserRef", UserOID=user_oid(signer.user_id))
    add_element(signature, "LocationRef", LocationOID=location)
    add_element(signature, "SignatureRef", SignatureOID=signature_oid(signer.meaning))
    add_element(signature, "DateTimeStamp", signer.signed_at)
