"""``Study``: ``GlobalVariables``, ``BasicDefinitions`` and the ``MetaDataVersion`` (ODM 1.3.2
section 3.1): a form, item group and item definitions per record kind, and the code lists.
"""

from __future__ import annotations

import inspect
import re
import xml.etree.ElementTree as ET
from enum import Enum

from domain.protocol import StudyProtocol
from domain.subject import EVENT_CLASSES, Subject
from domain.subject.declaration import odm_code_type
from projections.odm.elements import add_element, add_translated
from projections.odm.items import dotted, required_fields
from projections.odm.names import (
    METADATA_VERSION_OID,
    STUDY_EVENT_OID,
    code_list_oid,
    item_oid,
    unit_oid,
)
from projections.odm.reading import LogReading


def _summary(cls: type) -> str:
    """The first line of a class's docstring: what a record kind or code list is."""
    doc = inspect.getdoc(cls) or cls.__name__
    return doc.splitlines()[0]


def _title(kind: str) -> str:
    """``BloodCountRecorded`` -> ``Blood count recorded``."""
    words = re.findall(r"[A-Z][a-z0-9]*", kind)
    return " ".join([words[0], *(word.lower() for word in words[1:])]) if words else kind


def write_study(root: ET.Element, protocol: StudyProtocol, reading: LogReading) -> None:
    """``Study``: ``GlobalVariables``, ``BasicDefinitions`` and the ``MetaDataVersion``."""
    study = add_element(root, "Study", OID=protocol.study_id)
    global_variables = add_element(study, "GlobalVariables")
    add_element(global_variables, "StudyName", protocol.study_id)
    add_element(global_variables, "StudyDescription", protocol.title)
    add_element(global_variables, "ProtocolName", protocol.study_id)
    basic = add_element(study, "BasicDefinitions")
    for unit in reading.units():
        add_translated(
            add_element(basic, "MeasurementUnit", OID=unit_oid(unit), Name=unit), "Symbol", unit
        )
    _write_metadata(study, protocol, reading)


def _write_metadata(study: ET.Element, protocol: StudyProtocol, reading: LogReading) -> None:
    """``MetaDataVersion`` (ODM 1.3.2 section 3.1.4), its children in the order the XSD wants."""
    metadata = add_element(
        study,
        "MetaDataVersion",
        OID=METADATA_VERSION_OID,
        Name=f"{protocol.study_id} records as sealtrail keeps them",
        Description="Every record kind of a subject, one form each, its fields as signed",
    )
    declared = add_element(metadata, "Protocol")
    add_translated(declared, "Description", protocol.title)
    add_element(
        declared, "StudyEventRef", StudyEventOID=STUDY_EVENT_OID, OrderNumber="1", Mandatory="Yes"
    )
    record = add_element(
        metadata,
        "StudyEventDef",
        OID=STUDY_EVENT_OID,
        Name="Subject record",
        Repeating="No",
        Type="Common",
    )
    add_translated(
        record, "Description", "The subject's record: every entry, in the order recorded"
    )
    described = reading.described_kinds()
    for order, kind in enumerate(described, 1):
        mandatory = "Yes" if kind == Subject.Screened.kind() else "No"
        add_element(
            record, "FormRef", FormOID=f"F.{kind}", OrderNumber=str(order), Mandatory=mandatory
        )
    for kind in described:
        form = add_element(metadata, "FormDef", OID=f"F.{kind}", Name=_title(kind), Repeating="Yes")
        add_translated(form, "Description", _summary(EVENT_CLASSES[kind]))
        add_element(form, "ItemGroupRef", ItemGroupOID=f"IG.{kind}", Mandatory="Yes")
    for kind in described:
        group = add_element(metadata, "ItemGroupDef", OID=f"IG.{kind}", Name=kind, Repeating="No")
        add_translated(group, "Description", _summary(EVENT_CLASSES[kind]))
        required = required_fields(kind)
        for order, item in enumerate(reading.item_defs(kind), 1):
            mandatory = "Yes" if len(item.path) == 1 and item.path[0] in required else "No"
            add_element(
                group,
                "ItemRef",
                ItemOID=item_oid(kind, item.path),
                OrderNumber=str(order),
                Mandatory=mandatory,
            )
    code_lists: dict[type[Enum], None] = {}
    for kind in described:
        for item in reading.item_defs(kind):
            definition = add_element(
                metadata,
                "ItemDef",
                OID=item_oid(kind, item.path),
                Name=dotted(item.path),
                DataType=item.leaf.data_type,
            )
            for unit in sorted(item.units):
                add_element(definition, "MeasurementUnitRef", MeasurementUnitOID=unit_oid(unit))
            if item.leaf.code_list is not None:
                add_element(
                    definition, "CodeListRef", CodeListOID=code_list_oid(item.leaf.code_list)
                )
                code_lists.setdefault(item.leaf.code_list)
    for vocabulary in code_lists:
        _write_code_list(metadata, vocabulary)


def _write_code_list(metadata: ET.Element, vocabulary: type[Enum]) -> None:
    """``CodeList``: each coded value as signed, decoded in words."""
    code_list = add_element(
        metadata,
        "CodeList",
        OID=code_list_oid(vocabulary),
        Name=vocabulary.__name__,
        DataType=odm_code_type(vocabulary),
    )
    add_translated(code_list, "Description", _summary(vocabulary))
    for member in vocabulary:
        item = add_element(code_list, "CodeListItem", CodedValue=str(member.value))
        add_translated(item, "Decode", member.name.lower().replace("_", " "))
