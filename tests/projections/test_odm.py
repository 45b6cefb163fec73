"""The whole log as a CDISC ODM 1.3.2 archive: valid against the official XSD, reproducible,
every subject event one audited and signed transaction, and refused when the log is not whole."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import UUID

import pytest

from api.schemas.submissions import submission_from
from domain.account import Account, Role
from domain.attribution import MEANINGS
from domain.authorship import Authorship, authored
from domain.errors import UnknownStudy
from domain.protocol import protocol_for
from domain.signed import SignedAggregate, stream_id
from domain.subject import EVENT_CLASSES, Subject
from domain.vocabulary import DeviationCategory
from domain.wire import recorded_instant
from infrastructure.application.commands import RecordEvent
from infrastructure.bootstrap import Store
from infrastructure.store.log_reader import open_log_reader
from projections.errors import OdmExportRefused, OdmSchemaInvalid
from projections.odm import CHANGE_KINDS, check_odm_schema, odm_document
from projections.odm.admin import write_admin_data
from projections.odm.clinical import add_clinical_data, subject_data
from projections.odm.metadata import write_study
from projections.odm.reading import LogReading
from signatures.chain import GENESIS_HASH
from tests.conftest import STUDY, Person, make_settings, new_store, open_person
from tests.projections.conftest import count, course, record_all
from tests.shared_templates import DemoCohort, opened

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}
CREATED_AT = datetime(2026, 12, 2, 7, 30, tzinfo=UTC)
Log = list[tuple[int, SignedAggregate.Event]]


def whole_log(store: Store) -> Log:
    """Every event of the store in log order with its position, read as a packet builder does."""
    select, decode = open_log_reader(store.settings)
    log: Log = []
    start = 1
    while page := select(start, 500):
        log += [(notification.id, decode(notification)) for notification in page]
        start = page[-1].id + 1
    return log


def parsed(document: bytes) -> ET.Element:
    return ET.fromstring(document)


TRANSACTIONS_OF_A_SUBJECT = "odm:StudyEventData/odm:FormData/odm:ItemGroupData"


def transactions(root: ET.Element) -> list[ET.Element]:
    """Every ItemGroupData of the clinical data, in document order."""
    return root.findall(f"odm:ClinicalData/odm:SubjectData/{TRANSACTIONS_OF_A_SUBJECT}", NS)


def source_id(group: ET.Element) -> int:
    return int(group.findtext("odm:AuditRecord/odm:SourceID", namespaces=NS) or "0")


def of_entry(root: ET.Element, subject: str, kind: str, entry: int) -> list[ET.Element]:
    """The transactions on one entry of a subject, in order."""
    return root.findall(
        f"odm:ClinicalData/odm:SubjectData[@SubjectKey='{subject}']/odm:StudyEventData/"
        f"odm:FormData[@FormOID='F.{kind}'][@FormRepeatKey='{entry}']/odm:ItemGroupData",
        NS,
    )


def attribute(element: ET.Element, path: str, name: str) -> str:
    """An attribute of the element at ``path`` below ``element`` (which must be there)."""
    found = element.find(path, NS)
    assert found is not None, path
    return found.attrib[name]


def items(group: ET.Element) -> dict[str, ET.Element]:
    return {item.attrib["ItemOID"]: item for item in group.findall("odm:ItemData", NS)}


@dataclass
class Course:
    """RP-101's course (a correction and a void) and a few more signed changes, and its log."""

    store: Store
    people: dict[str, Person]
    log: Log
    document: bytes

    @property
    def root(self) -> ET.Element:
        return parsed(self.document)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Course]:
    """RP-101's whole course by ``coord1``; an investigator's month-6 response (entry 23); AE-03
    (entry 22) corrected to answer its end date (entry 24), then corrected again to empty it
    (entry 25); the investigator's signature over the response, meaning ``responsibility``
    (entry 26, through the signing ceremony's recording step)."""
    store = new_store(make_settings(tmp_path_factory.mktemp("odm")))
    try:
        people = {
            "coord1": open_person(store, "coord1", printed_name="Ana Souza"),
            "coord9": open_person(store, "coord9", printed_name="Caio Reis", sites=("SP",)),
            "inv1": open_person(store, "inv1", printed_name="Bruno Lima", role=Role.INVESTIGATOR),
        }
        record_all(store, people["coord1"], course())  # entries 1-22
        investigator = people["inv1"]
        body = investigator.body(
            "RP-101",
            "ResponseAssessed",
            {"month": 6, "response": "partial", "assessed_on": "2011-09-12"},
        )
        store.records.record(
            RecordEvent(
                submission=submission_from(body, investigator.sign(body)),
                actor_id=investigator.user_id,
            )
        )  # entry 23
        record_all(
            store,
            people["coord1"],
            [
                (
                    "EntryCorrected",
                    {
                        "entry": 22,
                        "entry_kind": "AdverseEventReported",
                        "changes": {
                            "outcome": {"old": "recovering", "new": "recovered"},
                            "resolved_on": {"old": None, "new": "2011-07-01"},
                        },
                        "reason": "the discharge letter gives the end date",
                    },
                ),  # entry 24
                (
                    "EntryCorrected",
                    {
                        "entry": 22,
                        "entry_kind": "AdverseEventReported",
                        "changes": {
                            "outcome": {"old": "recovered", "new": "recovering"},
                            "resolved_on": {"old": "2011-07-01", "new": None},
                        },
                        "reason": "the letter gives the discharge: the event has not ended",
                    },
                ),  # entry 25
            ],
        )
        subject = store.app.find_subject(f"{STUDY}/RP-101")
        assert subject is not None
        signature = investigator.body(
            "RP-101",
            "RecordsSigned",
            {"entries": [{"entry": 23, "record_hash": subject.entries[23].record_hash}]},
            meaning="responsibility",
        )
        store.records.record_signature(
            RecordEvent(
                submission=submission_from(signature, investigator.sign(signature)),
                actor_id=investigator.user_id,
            )
        )  # entry 26
        log = whole_log(store)
        yield Course(store, people, log, odm_document(log, study=STUDY, created_at=CREATED_AT))
    finally:
        store.close()


# -- the schema -----------------------------------------------------------------------------------


def test_the_course_is_valid_odm_1_3_2_against_the_official_schema(recorded: Course) -> None:
    check_odm_schema(recorded.document)

    root = recorded.root
    assert root.tag == "{http://www.cdisc.org/ns/odm/v1.3}ODM"
    assert {name: root.attrib[name] for name in ("ODMVersion", "FileType", "Archival")} == {
        "ODMVersion": "1.3.2",
        "FileType": "Transactional",
        "Archival": "Yes",
    }
    assert root.attrib["SourceSystem"] == "sealtrail"
    assert root.attrib["CreationDateTime"] == "2026-12-02T07:30:00Z"
    assert root.attrib["FileOID"] == "sealtrail.NCT01297972.20261202T073000Z"
    assert recorded.document.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<ODM ')


@pytest.fixture(scope="module")
def cohort_document(
    tmp_path_factory: pytest.TempPathFactory, demo_cohort_template: DemoCohort
) -> Iterator[tuple[Log, bytes]]:
    """The nine-subject demonstration cohort, loaded as ``sealtrail demo`` loads it (a copy of
    the run's store)."""
    with opened(demo_cohort_template, tmp_path_factory.mktemp("cohort")) as store:
        log = whole_log(store)
        yield log, odm_document(log, study=STUDY, created_at=CREATED_AT)


@pytest.mark.requirement("P11-11.10b-1")
def test_the_demonstration_cohorts_odm_is_valid_against_the_official_schema(
    cohort_document: tuple[Log, bytes],
) -> None:
    log, document = cohort_document

    check_odm_schema(document)

    root = parsed(document)
    logged: dict[UUID, list[int]] = {}
    for position, event in log:
        if isinstance(event, Subject.Event):
            logged.setdefault(event.originator_id, []).append(position)
    assert sum(map(len, logged.values())) > 1000
    # A SubjectData per subject, each with the subject's transactions in log order: not the
    # log's order across subjects, whose events interleave (the steps that close site RP's
    # data follow every subject's records). A signature over records is a transaction on each
    # record it covers, all at the signature's position.
    written = [
        [source_id(group) for group in subject.findall(TRANSACTIONS_OF_A_SUBJECT, NS)]
        for subject in root.findall("odm:ClinicalData/odm:SubjectData", NS)
    ]
    assert all(ids == sorted(ids) for ids in written)
    assert [list(dict.fromkeys(ids)) for ids in written] == list(logged.values())
    assert len(root.findall("odm:ClinicalData/odm:SubjectData", NS)) == 9
    # A follow-up's changes are items typed as the adverse event's own fields.
    definitions = {
        d.attrib["OID"]: d for d in root.findall("odm:Study/odm:MetaDataVersion/odm:ItemDef", NS)
    }
    outcome = definitions["IT.AdverseEventFollowedUp.changes.outcome"]
    assert attribute(outcome, "odm:CodeListRef", "CodeListOID") == "CL.AdverseEventOutcome"
    assert definitions["IT.AdverseEventFollowedUp.changes.resolved_on"].attrib["DataType"] == "date"


@pytest.mark.postgres
def test_a_postgresql_stores_log_is_valid_odm_each_transaction_at_its_own_position(
    postgres_store: Store,
) -> None:
    coordinator = open_person(postgres_store, "coord1", printed_name="Ana Souza")
    record_all(postgres_store, coordinator, course()[:20])  # to the correction and the void
    log = whole_log(postgres_store)

    document = odm_document(log, study=STUDY, created_at=CREATED_AT)

    check_odm_schema(document)
    root = parsed(document)
    subject_positions = [p for p, e in log if isinstance(e, Subject.Event)]
    assert [source_id(group) for group in transactions(root)] == subject_positions
    assert [g.attrib["TransactionType"] for g in transactions(root)][-2:] == ["Update", "Remove"]


def test_a_document_missing_a_required_attribute_is_refused_naming_it(recorded: Course) -> None:
    broken = recorded.document.replace(b' FileOID="', b' NotFileOID="', 1)

    with pytest.raises(OdmSchemaInvalid) as refused:
        check_odm_schema(broken)

    assert any("FileOID" in violation for violation in refused.value.violations)
    assert "/ODM" in str(refused.value)


def test_an_audit_record_after_the_items_is_refused_naming_the_element(recorded: Course) -> None:
    root = recorded.root
    group = transactions(root)[0]
    audit = group.find("odm:AuditRecord", NS)
    assert audit is not None
    group.remove(audit)
    group.append(audit)
    broken = ET.tostring(root, encoding="utf-8")

    with pytest.raises(OdmSchemaInvalid) as refused:
        check_odm_schema(broken)

    assert len(refused.value.violations) >= 1
    assert "ItemGroupData" in refused.value.violations[0]
    assert "AuditRecord" in refused.value.violations[0]


def test_a_document_naming_two_item_groups_by_one_oid_is_refused(recorded: Course) -> None:
    broken = recorded.document.replace(
        b'<ItemGroupDef OID="IG.Enrolled"', b'<ItemGroupDef OID="IG.Screened"', 1
    )

    with pytest.raises(OdmSchemaInvalid) as refused:
        check_odm_schema(broken)

    assert "IG.Screened" in str(refused.value)


AGREEMENT_CASES = {
    "as written": (b"", b""),
    "an unknown transaction type": (b'TransactionType="Insert"', b'TransactionType="Bogus"'),
    "no FileOID": (b' FileOID="', b' NotFileOID="'),
    "two item groups of one OID": (
        b'<ItemGroupDef OID="IG.Enrolled"',
        b'<ItemGroupDef OID="IG.Screened"',
    ),
    "a month 13": (b"<DateTimeStamp>2026-", b"<DateTimeStamp>2026-13-"),
    "a time with no date": (b"<DateTimeStamp>", b"<DateTimeStamp>T"),
    "an element ODM does not have": (b"<AuditRecord ", b"<Remark/><AuditRecord "),
    "a user named by no OID": (b'<UserRef UserOID="', b'<UserRef UserName="'),
}


@pytest.mark.parametrize("case", list(AGREEMENT_CASES))
def test_the_check_agrees_with_xmlschema_the_reference_validator_odmlib_uses(
    recorded: Course, case: str
) -> None:
    # The check is libxml2's; xmlschema, a second implementation of XSD 1.0 (the one odmlib
    # itself validates with), must give the same verdict on the same document and schema.
    import xmlschema
    from odmlib import odm_parser

    old, new = AGREEMENT_CASES[case]
    document = recorded.document.replace(old, new, 1)
    assert (document == recorded.document) is (case == "as written")
    reference = odm_parser.ODMSchemaValidator(standard="odm", version="1.3.2").xsd
    assert isinstance(reference, xmlschema.XMLSchemaBase)
    try:
        check_odm_schema(document)
        valid = True
    except OdmSchemaInvalid:
        valid = False

    assert valid is reference.is_valid(document.decode("utf-8"))
    assert valid is (case == "as written")


def test_what_is_not_well_formed_xml_is_refused_as_such() -> None:
    with pytest.raises(OdmSchemaInvalid) as refused:
        check_odm_schema(b"<ODM xmlns='http://www.cdisc.org/ns/odm/v1.3'")

    assert refused.value.violations[0].startswith("not a well-formed XML document")


def test_a_document_declaring_entities_is_refused_unread() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE ODM [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3">&b;</ODM>'
    )

    with pytest.raises(OdmSchemaInvalid) as refused:
        check_odm_schema(bomb)

    assert "forbidden" in refused.value.violations[0].lower()


def test_a_valid_document_behind_a_document_type_declaration_is_refused(recorded: Course) -> None:
    declared = recorded.document.replace(b"\n<ODM ", b"\n<!DOCTYPE ODM>\n<ODM ", 1)
    assert declared != recorded.document

    with pytest.raises(OdmSchemaInvalid) as refused:
        check_odm_schema(declared)

    assert refused.value.violations == ["DTDs and entities are forbidden in an ODM document"]


# -- reproducible ---------------------------------------------------------------------------------


def test_the_same_log_gives_the_same_bytes_read_again_or_not(recorded: Course) -> None:
    again = odm_document(recorded.log, study=STUDY, created_at=CREATED_AT)
    reread = odm_document(whole_log(recorded.store), study=STUDY, created_at=CREATED_AT)

    assert again == recorded.document
    assert reread == recorded.document


def test_written_a_subject_at_a_time_it_is_the_whole_document_elementtree_writes(
    cohort_document: tuple[Log, bytes],
) -> None:
    # What odm_document wrote before it wrote a subject at a time (and what every packet
    # published before holds): the whole tree, indented and written at once.
    log, document = cohort_document
    reading = LogReading(STUDY)
    reading.read(log)
    root = ET.Element("ODM", xmlns=NS["odm"])
    for name, value in parsed(document).attrib.items():
        root.set(name, value)
    write_study(root, protocol_for(STUDY), reading)
    write_admin_data(root, reading)
    clinical = add_clinical_data(root, reading)
    clinical.extend(subject_data(record) for record in reading.subjects.values())
    ET.indent(root, space="  ")
    whole = ET.tostring(root, encoding="unicode")

    assert len(reading.subjects) == 9
    assert document == f'<?xml version="1.0" encoding="UTF-8"?>\n{whole}\n'.encode()


def test_a_log_of_accounts_alone_has_an_empty_clinical_data(recorded: Course) -> None:
    accounts = [(p, e) for p, e in recorded.log if isinstance(e, Account.Event)]

    document = odm_document(accounts, study=STUDY, created_at=CREATED_AT)

    check_odm_schema(document)
    assert parsed(document).findall("odm:ClinicalData/*", NS) == []
    assert (
        f'  <ClinicalData StudyOID="{STUDY}" MetaDataVersionOID="MDV.1" />\n</ODM>\n'.encode()
    ) in document


def test_the_creation_time_is_the_callers_and_only_it_changes_the_file(recorded: Course) -> None:
    later = datetime(2026, 12, 3, 1, 2, 3, 456789, tzinfo=UTC)

    document = odm_document(recorded.log, study=STUDY, created_at=later)

    root, first = parsed(document), recorded.root
    assert root.attrib["CreationDateTime"] == "2026-12-03T01:02:03.456789Z"
    assert root.attrib["AsOfDateTime"] == "2026-12-03T01:02:03.456789Z"
    assert root.attrib["FileOID"] == "sealtrail.NCT01297972.20261203T010203.456789Z"
    for element in (root, first):
        for name in ("CreationDateTime", "AsOfDateTime", "FileOID"):
            del element.attrib[name]
    assert ET.tostring(root) == ET.tostring(first)


# -- every event, one transaction -----------------------------------------------------------------


def test_every_subject_event_is_exactly_one_transaction_whose_source_id_is_its_position(
    recorded: Course,
) -> None:
    subject_positions = [p for p, e in recorded.log if isinstance(e, Subject.Event)]
    account_positions = [p for p, e in recorded.log if isinstance(e, Account.Event)]

    written = [source_id(group) for group in transactions(recorded.root)]

    assert written == subject_positions
    assert len(written) == 26
    assert not set(written) & set(account_positions)
    assert len(subject_positions) + len(account_positions) == len(recorded.log)


def test_each_record_is_an_insert_of_its_own_kinds_item_group_keyed_by_its_entry(
    recorded: Course,
) -> None:
    root = recorded.root
    for position, event in recorded.log:
        if not isinstance(event, Subject.Event) or event.kind() in CHANGE_KINDS:
            continue
        group, *changes = of_entry(root, "RP-101", event.kind(), event.originator_version)
        assert all(change.attrib["TransactionType"] != "Insert" for change in changes)
        assert group.attrib == {
            "ItemGroupOID": f"IG.{event.kind()}",
            "TransactionType": "Insert",
        }
        assert source_id(group) == position
        assert group.find("odm:AuditRecord/odm:ReasonForChange", NS) is None


def test_a_quantity_is_its_value_with_a_unit_and_a_mapping_an_item_per_key(
    recorded: Course,
) -> None:
    group, _corrected = of_entry(recorded.root, "RP-101", "BloodCountRecorded", 11)
    written = items(group)

    assert list(written) == [
        "IT.BloodCountRecorded.collected_on",
        "IT.BloodCountRecorded.results.haemoglobin",
        "IT.BloodCountRecorded.results.neutrophils",
        "IT.BloodCountRecorded.results.platelets",
        "IT.BloodCountRecorded.results.reticulocytes",
        "IT.BloodCountRecorded.reticulocyte_method",
    ]
    haemoglobin = written["IT.BloodCountRecorded.results.haemoglobin"]
    assert haemoglobin.attrib["Value"] == "7.3"
    unit = haemoglobin.find("odm:MeasurementUnitRef", NS)
    assert unit is not None and unit.attrib["MeasurementUnitOID"] == "MU.g-per-dL"
    assert written["IT.BloodCountRecorded.collected_on"].attrib["Value"] == "2011-03-14"
    assert written["IT.BloodCountRecorded.reticulocyte_method"].attrib["Value"] == "automated"


def test_a_list_is_an_item_per_place_and_a_yes_or_no_is_true_or_false(recorded: Course) -> None:
    (group,) = of_entry(recorded.root, "RP-101", "AdverseEventReported", 15)
    written = items(group)

    assert written["IT.AdverseEventReported.seriousness.1"].attrib["Value"] == "hospitalisation"
    assert "IT.AdverseEventReported.seriousness.2" not in written
    assert written["IT.AdverseEventReported.serious"].attrib["Value"] == "true"
    assert written["IT.AdverseEventReported.expected"].attrib["Value"] == "true"
    assert written["IT.AdverseEventReported.grade"].attrib["Value"] == "3"


# -- corrections and voids ------------------------------------------------------------------------


def test_a_correction_is_an_update_of_the_entry_with_the_new_value_and_the_reason(
    recorded: Course,
) -> None:
    inserted, corrected = of_entry(recorded.root, "RP-101", "BloodCountRecorded", 11)

    assert corrected.attrib["TransactionType"] == "Update"
    assert source_id(corrected) == _position_of(recorded.log, version=19)
    reason = corrected.findtext("odm:AuditRecord/odm:ReasonForChange", namespaces=NS)
    assert reason == "transcription error"
    (item,) = corrected.findall("odm:ItemData", NS)
    assert item.attrib == {
        "ItemOID": "IT.BloodCountRecorded.results.haemoglobin",
        "TransactionType": "Update",
        "Value": "7.8",
    }
    assert items(inserted)[item.attrib["ItemOID"]].attrib["Value"] == "7.3"
    assert count("2011-03-14", "7.8", "0.40", "12")[1]["results"]["haemoglobin"]["value"] == "7.8"


def test_a_correction_that_answers_a_field_inserts_it_and_one_that_empties_removes_it(
    recorded: Course,
) -> None:
    _, answered, emptied = of_entry(recorded.root, "RP-101", "AdverseEventReported", 22)

    assert [item.attrib for item in answered.findall("odm:ItemData", NS)] == [
        {
            "ItemOID": "IT.AdverseEventReported.outcome",
            "TransactionType": "Update",
            "Value": "recovered",
        },
        {
            "ItemOID": "IT.AdverseEventReported.resolved_on",
            "TransactionType": "Insert",
            "Value": "2011-07-01",
        },
    ]
    assert [item.attrib for item in emptied.findall("odm:ItemData", NS)] == [
        {
            "ItemOID": "IT.AdverseEventReported.outcome",
            "TransactionType": "Update",
            "Value": "recovering",
        },
        {"ItemOID": "IT.AdverseEventReported.resolved_on", "TransactionType": "Remove"},
    ]
    assert emptied.findtext("odm:AuditRecord/odm:ReasonForChange", namespaces=NS) == (
        "the letter gives the discharge: the event has not ended"
    )


def test_a_void_is_a_remove_of_the_entry_with_the_reason_and_no_items(recorded: Course) -> None:
    inserted, voided = of_entry(recorded.root, "RP-101", "TransfusionGiven", 12)

    assert inserted.attrib["TransactionType"] == "Insert"
    assert voided.attrib["TransactionType"] == "Remove"
    assert voided.findall("odm:ItemData", NS) == []
    assert voided.findtext("odm:AuditRecord/odm:ReasonForChange", namespaces=NS) == (
        "wrong subject"
    )
    assert source_id(voided) == _position_of(recorded.log, version=20)


def _position_of(log: Log, *, version: int, stream: str = f"{STUDY}/RP-101") -> int:
    (position,) = [
        p
        for p, e in log
        if e.originator_id == stream_id(stream) and e.originator_version == version
    ]
    return position


# -- who, where, when, under which signature ------------------------------------------------------


def test_admin_data_has_every_account_with_its_printed_name_and_sites(recorded: Course) -> None:
    admin = recorded.root.find("odm:AdminData", NS)
    assert admin is not None

    users = {
        user.findtext("odm:LoginName", namespaces=NS): user
        for user in admin.findall("odm:User", NS)
    }

    assert {"system", "coord1", "coord9", "inv1"} <= set(users)
    assert users["coord1"].attrib == {"OID": "USR.coord1", "UserType": "Investigator"}
    assert users["coord1"].findtext("odm:DisplayName", namespaces=NS) == "Ana Souza"
    assert users["coord1"].findtext("odm:FullName", namespaces=NS) == "Ana Souza"
    assert [
        ref.attrib["LocationOID"] for ref in users["coord9"].findall("odm:LocationRef", NS)
    ] == ["LOC.SP"]
    assert users["system"].attrib["UserType"] == "Other"
    assert [location.attrib["OID"] for location in admin.findall("odm:Location", NS)] == [
        "LOC.RP",
        "LOC.SP",
    ]


@pytest.mark.requirement("P11-11.50-1")
def test_admin_data_defines_a_signature_for_each_meaning_with_a_legal_reason_the_store_backs(
    recorded: Course,
) -> None:
    definitions = recorded.root.findall("odm:AdminData/odm:SignatureDef", NS)

    assert [d.attrib["OID"] for d in definitions] == [f"SD.{m}" for m in MEANINGS]
    for definition, meaning in zip(definitions, MEANINGS, strict=True):
        assert definition.attrib["Methodology"] == "Digital"
        text = definition.findtext("odm:Meaning", namespaces=NS) or ""
        assert text.lower().startswith(meaning)
        legal_reason = definition.findtext("odm:LegalReason", namespaces=NS) or ""
        assert "21 CFR 11.50" in legal_reason
        # Only what the store records: no signer's 11.100(c) certification is ever recorded, so
        # the export names it as made outside sealtrail and never says a signer certified it.
        assert "certified" not in legal_reason
        assert "11.100(c)) is made by the sponsor and the sites outside sealtrail" in legal_reason


def test_each_transaction_names_its_signer_site_recording_time_and_signing_time(
    recorded: Course,
) -> None:
    groups = {source_id(group): group for group in transactions(recorded.root)}
    for position, event in recorded.log:
        if not isinstance(event, Subject.Event):
            continue
        body = event.authorship.body()
        user = f"USR.{body['signer']['user_id']}"
        group = groups[position]
        audit, signature = group.find("odm:AuditRecord", NS), group.find("odm:Signature", NS)
        assert audit is not None and signature is not None
        assert [child.tag.split("}")[1] for child in signature] == [
            "UserRef",
            "LocationRef",
            "SignatureRef",
            "DateTimeStamp",
        ]
        assert attribute(audit, "odm:UserRef", "UserOID") == user
        assert attribute(signature, "odm:UserRef", "UserOID") == user
        assert audit.findtext("odm:DateTimeStamp", namespaces=NS) == recorded_instant(
            event.recorded_at
        )
        assert signature.findtext("odm:DateTimeStamp", namespaces=NS) == body["signed_at"]
        assert attribute(signature, "odm:SignatureRef", "SignatureOID") == f"SD.{body['meaning']}"
        for where in (audit, signature):
            assert attribute(where, "odm:LocationRef", "LocationOID") == "LOC.RP"


def test_the_investigators_signature_carries_its_meaning_responsibility(recorded: Course) -> None:
    recorded_by, signed_by = of_entry(recorded.root, "RP-101", "ResponseAssessed", 23)

    assert signed_by.attrib["TransactionType"] == "Context"
    signature = signed_by.find("odm:Signature", NS)
    assert signature is not None
    assert attribute(signature, "odm:UserRef", "UserOID") == "USR.inv1"
    assert attribute(signature, "odm:SignatureRef", "SignatureOID") == "SD.responsibility"
    assert attribute(recorded_by, "odm:Signature/odm:SignatureRef", "SignatureOID") == (
        "SD.authorship"
    )
    (by_the_coordinator,) = of_entry(recorded.root, "RP-101", "ResponseAssessed", 18)
    assert attribute(by_the_coordinator, "odm:Signature/odm:SignatureRef", "SignatureOID") == (
        "SD.authorship"
    )


# -- the metadata ---------------------------------------------------------------------------------


def test_every_record_kind_has_a_form_and_an_item_group_and_changes_have_none(
    recorded: Course,
) -> None:
    metadata = recorded.root.find("odm:Study/odm:MetaDataVersion", NS)
    assert metadata is not None

    forms = [f.attrib["OID"] for f in metadata.findall("odm:FormDef", NS)]
    groups = [g.attrib["OID"] for g in metadata.findall("odm:ItemGroupDef", NS)]

    # A kind declared since packets were published is described once recorded (this course
    # records none), so a packet built before it verifies (test_packet_published_before.py).
    kinds = [
        kind
        for kind, declared in EVENT_CLASSES.items()
        if kind not in CHANGE_KINDS and not declared.DESCRIBED_WHEN_RECORDED
    ]
    assert forms == [f"F.{kind}" for kind in kinds]
    assert "F.PerformanceStatusRecorded" not in forms
    assert groups == [f"IG.{kind}" for kind in kinds]
    assert "F.EntryCorrected" not in forms and "F.EntryVoided" not in forms
    name = recorded.root.findtext("odm:Study/odm:GlobalVariables/odm:StudyName", namespaces=NS)
    assert name == STUDY


def test_every_item_written_is_defined_with_its_units_and_code_list(recorded: Course) -> None:
    root = recorded.root
    definitions = {
        d.attrib["OID"]: d for d in root.findall("odm:Study/odm:MetaDataVersion/odm:ItemDef", NS)
    }
    units = {
        u.attrib["OID"]
        for u in root.findall("odm:Study/odm:BasicDefinitions/odm:MeasurementUnit", NS)
    }
    code_lists = {
        c.attrib["OID"] for c in root.findall("odm:Study/odm:MetaDataVersion/odm:CodeList", NS)
    }

    for group in transactions(root):
        for oid, item in items(group).items():
            assert oid in definitions
            unit = item.find("odm:MeasurementUnitRef", NS)
            if unit is not None:
                allowed = {
                    ref.attrib["MeasurementUnitOID"]
                    for ref in definitions[oid].findall("odm:MeasurementUnitRef", NS)
                }
                assert unit.attrib["MeasurementUnitOID"] in allowed & units
    haemoglobin = definitions["IT.BloodCountRecorded.results.haemoglobin"]
    assert haemoglobin.attrib["DataType"] == "float"
    sex = definitions["IT.Screened.sex"]
    assert sex.attrib["DataType"] == "text"
    assert attribute(sex, "odm:CodeListRef", "CodeListOID") == "CL.Sex"
    assert "CL.Sex" in code_lists and "CL.SeriousnessCriterion" in code_lists
    # A field no record of this log answered is still defined: every field is an item.
    assert definitions["IT.SubjectDied.cause"].attrib["DataType"] == "text"
    assert {"MU.g-per-dL", "MU.10-pow-9-per-L", "MU.10-pow-6-sp-cells-per-kg", "MU.-pct-"} <= units


# -- refused --------------------------------------------------------------------------------------


def test_a_creation_time_without_a_time_zone_is_refused(recorded: Course) -> None:
    with pytest.raises(OdmExportRefused, match="no time zone"):
        odm_document(recorded.log, study=STUDY, created_at=datetime(2026, 12, 2, 7, 30))


def test_a_study_with_no_protocol_is_refused(recorded: Course) -> None:
    with pytest.raises(UnknownStudy):
        odm_document(recorded.log, study="NCT00000000", created_at=CREATED_AT)


def test_a_log_out_of_order_is_refused(recorded: Course) -> None:
    log = recorded.log
    # Two neighbours of different streams, the second a stream's first event: swapped, each
    # stream's versions still follow on, and only the positions tell.
    (i, *_) = [
        i
        for i in range(len(log) - 1)
        if log[i][1].originator_id != log[i + 1][1].originator_id
        and log[i + 1][1].originator_version == 1
    ]
    shuffled = [*log[:i], log[i + 1], log[i], *log[i + 2 :]]

    with pytest.raises(OdmExportRefused, match="not in order"):
        odm_document(shuffled, study=STUDY, created_at=CREATED_AT)


def test_a_log_giving_one_position_twice_is_refused(recorded: Course) -> None:
    doubled = [*recorded.log, recorded.log[-1]]

    with pytest.raises(OdmExportRefused, match=f"log position {recorded.log[-1][0]} comes after"):
        odm_document(doubled, study=STUDY, created_at=CREATED_AT)


def test_a_log_missing_a_subjects_entry_is_refused(recorded: Course) -> None:
    missing = _position_of(recorded.log, version=11)
    incomplete = [(p, e) for p, e in recorded.log if p != missing]

    with pytest.raises(OdmExportRefused, match="RP-101 version 12 where version 11 was due"):
        odm_document(incomplete, study=STUDY, created_at=CREATED_AT)


def test_a_log_missing_a_subjects_screening_is_refused(recorded: Course) -> None:
    missing = _position_of(recorded.log, version=1)
    incomplete = [(p, e) for p, e in recorded.log if p != missing]

    with pytest.raises(OdmExportRefused, match="RP-101 version 2 where version 1 was due"):
        odm_document(incomplete, study=STUDY, created_at=CREATED_AT)


def test_a_log_missing_an_accounts_event_is_refused(recorded: Course) -> None:
    missing = _position_of(recorded.log, version=1, stream="accounts/inv1")
    incomplete = [(p, e) for p, e in recorded.log if p != missing]

    with pytest.raises(OdmExportRefused, match="accounts/inv1 version 2 where version 1"):
        odm_document(incomplete, study=STUDY, created_at=CREATED_AT)


def test_a_log_without_the_signers_account_is_refused(recorded: Course) -> None:
    subjects_only = [(p, e) for p, e in recorded.log if isinstance(e, Subject.Event)]

    with pytest.raises(OdmExportRefused, match="signed by 'coord1', whose account the log has not"):
        odm_document(subjects_only, study=STUDY, created_at=CREATED_AT)


def test_an_event_of_neither_a_subject_nor_an_account_is_refused(recorded: Course) -> None:
    with authored(Authorship(signed_body="{}", signature="")):
        stray = SignedAggregate.Created(
            originator_id=stream_id("notes/1"),
            originator_version=1,
            timestamp=CREATED_AT,
            originator_topic="domain.signed:SignedAggregate",
            stream="notes/1",
            previous_hash=GENESIS_HASH,
        )
    last = recorded.log[-1][0]

    with pytest.raises(OdmExportRefused, match="neither a subject's nor an account's"):
        odm_document([*recorded.log, (last + 1, stray)], study=STUDY, created_at=CREATED_AT)


def test_text_xml_cannot_carry_is_refused_naming_the_position(recorded: Course) -> None:
    # The way in refuses control characters since issue 15.8; a store written before it may
    # still hold one, and the export must name it rather than write a document XML forbids.
    log = with_one_more(
        recorded.log,
        Subject.ProtocolDeviationRecorded,
        occurred_on=date(2011, 2, 22),
        category=DeviationCategory.OTHER,
        description="visit moved \x07 by the site",
        major=False,
    )

    with pytest.raises(OdmExportRefused, match=rf"log position {log[-1][0]} \(RP-101\).*U\+0007"):
        odm_document(log, study=STUDY, created_at=CREATED_AT)


def with_one_more(log: Log, event_class: type[Subject.Event], **recorded: object) -> Log:
    """The log and, after it, one more RP-101 event made as the domain makes one (under the
    last event's authorship): what a store should never hold, to see it refused."""
    position, last = log[-1]
    assert isinstance(last, Subject.Event) and last.stream == f"{STUDY}/RP-101"
    with authored(last.authorship):
        event = event_class(
            originator_id=last.originator_id,
            originator_version=last.originator_version + 1,
            timestamp=last.timestamp,
            stream=last.stream,
            previous_hash=last.event_hash,
            **recorded,
        )
    return [*log, (position + 1, event)]


RESULTS = count("2011-03-14", "7.8", "0.40", "12")[1]["results"]


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        ({"colour": {"old": None, "new": "red"}}, "a BloodCountRecorded has no field colour"),
        ({"results": {"old": RESULTS, "new": "7.9"}}, "results is not a mapping"),
        (
            {"results": {"old": RESULTS, "new": {**RESULTS, "haemoglobin": "7.9"}}},
            "results.haemoglobin is not a quantity",
        ),
        (
            {"reticulocyte_method": {"old": "automated", "new": ["manual"]}},
            "reticulocyte_method is not a single value",
        ),
    ],
)
def test_a_correction_whose_values_do_not_fit_the_record_kind_is_refused(
    recorded: Course, changes: dict[str, object], refusal: str
) -> None:
    log = with_one_more(
        recorded.log,
        Subject.EntryCorrected,
        entry=11,
        entry_kind="BloodCountRecorded",
        changes=changes,
        reason="a correction no store would accept",
    )

    with pytest.raises(OdmExportRefused, match=rf"log position {log[-1][0]} \(RP-101\): {refusal}"):
        odm_document(log, study=STUDY, created_at=CREATED_AT)


def test_a_follow_up_changing_what_is_no_field_of_an_adverse_event_is_refused(
    recorded: Course,
) -> None:
    log = with_one_more(
        recorded.log,
        Subject.AdverseEventFollowedUp,
        adverse_event="AE-03",
        followed_up_on=date(2011, 7, 2),
        changes={"colour": "red"},
    )

    with pytest.raises(OdmExportRefused, match="changes names 'colour', which is no field"):
        odm_document(log, study=STUDY, created_at=CREATED_AT)


def test_a_correction_giving_one_value_where_the_kind_keeps_a_list_is_refused(
    recorded: Course,
) -> None:
    log = with_one_more(
        recorded.log,
        Subject.EntryCorrected,
        entry=15,
        entry_kind="AdverseEventReported",
        changes={"seriousness": {"old": ["hospitalisation"], "new": "hospitalisation"}},
        reason="a correction no store would accept",
    )

    with pytest.raises(OdmExportRefused, match="seriousness is not a list"):
        odm_document(log, study=STUDY, created_at=CREATED_AT)
