"""``ClinicalData`` (ODM 1.3.2 section 3.3): each subject's transactions in log order, one
entry's ``FormData`` each, with its items; a subject's ``SubjectData`` made on its own.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from projections.errors import OdmExportRefused
from projections.odm.audit import write_audit_record_and_signature
from projections.odm.elements import add_element, new_element
from projections.odm.names import METADATA_VERSION_OID, STUDY_EVENT_OID, location_oid, unit_oid
from projections.odm.reading import LogReading, SubjectRecord, Transaction


def add_clinical_data(root: ET.Element, reading: LogReading) -> ET.Element:
    """``ClinicalData`` (section 3.3), with no subject yet: each subject's is made on its own
    (:func:`subject_data`), so that a document is written a subject at a time."""
    return add_element(
        root, "ClinicalData", StudyOID=reading.study, MetaDataVersionOID=METADATA_VERSION_OID
    )


def subject_data(record: SubjectRecord) -> ET.Element:
    """One subject's ``SubjectData``: its transactions in log order."""
    subject = new_element("SubjectData", SubjectKey=record.code)
    add_element(subject, "SiteRef", LocationOID=location_oid(record.site))
    events = add_element(subject, "StudyEventData", StudyEventOID=STUDY_EVENT_OID)
    for transaction in record.transactions:
        try:
            _write_transaction(events, record, transaction)
        except OdmExportRefused as refused:
            raise OdmExportRefused(
                f"log position {transaction.position} ({record.code}): {refused}"
            ) from None
    return subject


def _write_transaction(events: ET.Element, record: SubjectRecord, transaction: Transaction) -> None:
    """One entry's ``FormData`` > ``ItemGroupData``: ``AuditRecord``, ``Signature``, items."""
    form = add_element(
        events, "FormData", FormOID=f"F.{transaction.kind}", FormRepeatKey=str(transaction.entry)
    )
    group = add_element(
        form,
        "ItemGroupData",
        ItemGroupOID=f"IG.{transaction.kind}",
        TransactionType=transaction.action,
    )
    write_audit_record_and_signature(group, record, transaction)
    for item in transaction.items:
        data = add_element(
            group, "ItemData", ItemOID=item.oid, TransactionType=item.transaction, Value=item.value
        )
        if item.unit is not None:
            add_element(data, "MeasurementUnitRef", MeasurementUnitOID=unit_oid(item.unit))
