"""The whole log as one CDISC ODM 1.3.2 archive: metadata, people, sites, every transaction.

A sponsor's submission packet carries the study's records in the exchange format regulators
read: CDISC ODM 1.3.2, ``FileType="Transactional"`` and ``Archival="Yes"`` (ODM 1.3.2 section
2.9, "Single Files and Collections"): every transaction of the study with its audit record and
its electronic signature, nothing summarised away. This module writes it from the events alone,
so anyone holding the events can write it again and compare bytes.

The document, element by element (ODM 1.3.2 chapter 3):

- ``ODM``: the file, created at the caller's instant (the checkpoint's time); its ``FileOID``
  is derived from the study and that instant.
- ``Study`` / ``GlobalVariables``: the study's registry id and title (``domain/protocols``).
- ``BasicDefinitions``: a ``MeasurementUnit`` for every unit a recorded quantity uses.
- ``MetaDataVersion``: one ``StudyEventDef`` (the subject's record, kept as it comes rather
  than by visit); a ``FormDef`` and an ``ItemGroupDef`` per record kind (``BloodCountRecorded``,
  ``MscInfusionGiven``...); an ``ItemDef`` per field, a quantity as its value with a
  ``MeasurementUnitRef``, a mapping (``results``, ``vital_signs_before``, ``criteria``...) as
  one item per key, a list (``seriousness``) as one item per place; a ``CodeList`` per coded
  answer. All of it is read from each kind's declaration (``Kind.items()``: the item's
  value type, vocabulary and whether it is required), none of it listed here by kind.
- ``AdminData``: a ``User`` per account of the log, the server's ``system`` among them, with
  the printed name its signatures show and a ``LocationRef`` for every site it was assigned;
  a ``Location`` per site; a ``SignatureDef`` per meaning of a signature (21 CFR 11.50(a)(3)).
- ``ClinicalData``: a ``SubjectData`` per subject, in which each of the subject's events is one
  transaction in log order. A record is an ``ItemGroupData`` with ``TransactionType="Insert"``;
  an ``EntryCorrected`` is an ``Update`` of the corrected entry's item group carrying the new
  values of the items it changed; an ``EntryVoided`` is a ``Remove`` of the voided entry's item
  group; a ``RecordsSigned`` (an investigator's electronic signature over records) is a
  ``Context`` transaction on each entry it signs, carrying no item and that signature's
  ``Signature`` (its meaning: review, approval or responsibility). Each entry is its own
  ``FormData`` whose ``FormRepeatKey`` is the entry (version) number, so a correction, void
  or signature addresses the entry it concerns. Each transaction has its ``AuditRecord``
  (who, where, the store's recording time in UTC, the reason for a correction or void, and
  ``SourceID`` = the event's log position) and its ``Signature`` (who, where, the
  meaning's ``SignatureDef``, and when the signer signed).

Account events are not transactions of ``ClinicalData``: ODM 1.3.2 keeps no audit trail of
``AdminData``, so they are read into the users, their printed names and sites. Subject events of
another study than the one asked for are not this study's and are left out.

Object identifiers are derived from names (``IG.BloodCountRecorded``,
``IT.BloodCountRecorded.results.haemoglobin``, ``MU.g-per-dL``, ``USR.coord1``, ``LOC.RP``):
letters, digits and ``_`` stand for themselves, and every other character is written as a named
or hexadecimal code between dashes, so two different names never share an OID.
"""

from __future__ import annotations

import inspect
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from functools import cache
from itertools import islice
from typing import Any, cast
from uuid import UUID

from domain.account import Account, Role, account_stream
from domain.attribution import MEANINGS, Signer, signer_of
from domain.authentication import AuthenticationLog
from domain.protocol import StudyProtocol, protocol_for
from domain.signed import SignedAggregate, stream_id
from domain.subject import EVENT_CLASSES, Subject
from domain.subject.declaration import DeclaredItem, ValueType, odm_code_type
from domain.wire import recorded_instant, to_wire
from projections.errors import OdmExportRefused, OdmSchemaInvalid

ODM_NAMESPACE = "http://www.cdisc.org/ns/odm/v1.3"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
LANGUAGE = "en"
SOURCE_SYSTEM = "sealtrail"
METADATA_VERSION_OID = "MDV.1"
STUDY_EVENT_OID = "SE.RECORD"
INSERT, UPDATE, REMOVE, CONTEXT = "Insert", "Update", "Remove", "Context"

CHANGE_KINDS = frozenset(
    kind.kind() for kind in (Subject.EntryCorrected, Subject.EntryVoided, Subject.RecordsSigned)
)
"""Events about earlier entries (a correction, a void, an electronic signature over records):
written as transactions on those entries' item groups."""

RECORD_KINDS: tuple[str, ...] = tuple(kind for kind in EVENT_CLASSES if kind not in CHANGE_KINDS)
"""The record kinds, one form and item group each, in the order ``Subject`` declares them."""

MAX_VIOLATIONS_NAMED = 5
"""How many schema violations :class:`OdmSchemaInvalid` names (the first ones in the file)."""

SIGNATURE_MEANINGS: Mapping[str, str] = {
    "authorship": "Authorship: the signer made this entry and attests that it is what they "
    "recorded.",
    "review": "Review: the signer reviewed this entry.",
    "approval": "Approval: the signer approved this entry.",
    "responsibility": "Responsibility: the signer takes responsibility for this entry.",
}
"""The ``Meaning`` of each :data:`domain.attribution.MEANINGS` (21 CFR 11.50(a)(3))."""

LEGAL_REASON = (
    "21 CFR 11.50: the signed record shows the signer's printed name, the date and time of "
    "signing and the meaning of the signature ({meaning}); 21 CFR 11.70: the signature is "
    "linked to its record (an Ed25519 signature over the record's canonical form) so it cannot "
    "be copied to another; 21 CFR 11.100(c): the signer certified that their electronic "
    "signature is the legally binding equivalent of their handwritten signature."
)
"""The ``LegalReason`` of every ``SignatureDef``."""

USER_TYPES: Mapping[Role, str] = {
    # Site staff act for the investigator; monitors and data managers for the sponsor.
    Role.INVESTIGATOR: "Investigator",
    Role.SITE_COORDINATOR: "Investigator",
    Role.MONITOR: "Sponsor",
    Role.SPONSOR_DATA_MANAGER: "Sponsor",
}
"""ODM's ``UserType`` of each role; any other role (or none) is ``Other``."""


# -- the shapes of recorded fields ----------------------------------------------------------------


@dataclass(frozen=True)
class _Leaf:
    """One ODM item: its ``DataType``, its code list, and whether it is a quantity."""

    data_type: str
    code_list: type[Enum] | None = None
    quantity: bool = False


@dataclass(frozen=True)
class _Keyed:
    """A mapping whose keys the author chose (analytes, vital signs, criteria): an item a key."""

    value: Shape


@dataclass(frozen=True)
class _Named:
    """A mapping of another record's fields (an adverse event's follow-up changes)."""

    fields: Mapping[str, Shape]


@dataclass(frozen=True)
class _Listed:
    """A sequence: an item per place, numbered from 1."""

    item: Shape


Shape = _Leaf | _Keyed | _Named | _Listed


def _shape_of(declared: DeclaredItem) -> Shape:
    """The shape of a declared item: one ODM item, or one per key, per place or per field.

    Raises:
        TypeError: an item whose type no record kind had when this was written (a change's
            corrections, a signature's records): it needs its shape here before it is written.
    """
    value_type = declared.value_type
    if value_type is ValueType.FOLLOW_UP and declared.about.follows is not None:
        # A follow-up's changes are new values of the adverse event's own fields
        # (Subject.adverse_events applies them over the report).
        return _Named(_field_shapes(declared.about.follows.__name__))
    leaf = _Leaf(
        declared.odm_data_type,
        code_list=declared.choices,
        quantity=value_type in (ValueType.QUANTITY, ValueType.QUANTITIES),
    )
    if value_type in (ValueType.QUANTITIES, ValueType.ANSWERS):
        return _Keyed(leaf)
    if value_type is ValueType.CHOICES:
        return _Listed(leaf)
    if value_type in _SINGLE_VALUES:
        return leaf
    raise TypeError(f"no ODM item shape for {declared.kind}.{declared.name} ({value_type.value})")


_SINGLE_VALUES = frozenset(
    {
        ValueType.DATE,
        ValueType.INSTANT,
        ValueType.BOOLEAN,
        ValueType.INTEGER,
        ValueType.TEXT,
        ValueType.CODE,
        ValueType.KIND,
        ValueType.QUANTITY,
        ValueType.CHOICE,
    }
)


def _is_quantity(wire: Any) -> bool:
    return isinstance(wire, Mapping) and set(wire) == {"value", "unit"}


@cache
def _field_shapes(kind: str) -> Mapping[str, Shape]:
    """Each item of a kind and its shape, in the order its declaration gives them."""
    return {declared.name: _shape_of(declared) for declared in EVENT_CLASSES[kind].items()}


@cache
def _required_fields(kind: str) -> frozenset[str]:
    """The items every record of a kind answers (not optional): ``Mandatory="Yes"``."""
    return frozenset(declared.name for declared in EVENT_CLASSES[kind].items() if declared.required)


Path = tuple[str, ...]


def _leaves(shape: Shape, path: Path, wire: Any) -> Iterator[tuple[Path, _Leaf, Any]]:
    """The items a signed value flattens to, each with its path and its signed value."""
    if wire is None:
        return
    if isinstance(shape, _Leaf):
        yield path, shape, wire
        return
    if isinstance(shape, _Listed):
        if not isinstance(wire, list | tuple):
            raise OdmExportRefused(f"{_dotted(path)} is not a list: {wire!r}")
        for place, item in enumerate(wire, 1):
            yield from _leaves(shape.item, (*path, str(place)), item)
        return
    if not isinstance(wire, Mapping):
        raise OdmExportRefused(f"{_dotted(path)} is not a mapping: {wire!r}")
    for key in sorted(wire, key=lambda key: _path_order((str(key),))):
        part = shape.value if isinstance(shape, _Keyed) else shape.fields.get(key)
        if part is None:
            raise OdmExportRefused(
                f"{_dotted(path)} names {key!r}, which is no field it may change"
            )
        yield from _leaves(part, (*path, str(key)), wire[key])


def _value_of(leaf: _Leaf, wire: Any, path: Path) -> tuple[str, str | None]:
    """An item's ``Value`` and, for a quantity, its unit."""
    if leaf.quantity:
        if not _is_quantity(wire):
            raise OdmExportRefused(f"{_dotted(path)} is not a quantity: {wire!r}")
        return str(wire["value"]), str(wire["unit"])
    if isinstance(wire, bool):
        return ("true" if wire else "false"), None
    if isinstance(wire, int | str):
        return str(wire), None
    raise OdmExportRefused(f"{_dotted(path)} is not a single value: {wire!r}")


def _dotted(path: Path) -> str:
    return ".".join(path)


def _path_order(path: Path) -> tuple[tuple[int, int, str], ...]:
    """Paths in reading order: places of a list by number (2 before 10), keys by name."""
    return tuple(
        (0, int(part), "") if part.isascii() and part.isdigit() else (1, 0, part) for part in path
    )


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


def _oid_part(name: str) -> str:
    """A name as a part of an OID: ``10^9/L`` -> ``10-pow-9-per-L`` (one OID per name)."""
    return "".join(
        char
        if (char.isascii() and char.isalnum()) or char == "_"
        else f"-{_NAMED_CHARACTERS.get(char, format(ord(char), 'x'))}-"
        for char in name
    )


def _item_oid(kind: str, path: Path) -> str:
    return f"IT.{kind}." + ".".join(_oid_part(part) for part in path)


def _unit_oid(unit: str) -> str:
    return f"MU.{_oid_part(unit)}"


def _user_oid(user_id: str) -> str:
    return f"USR.{_oid_part(user_id)}"


def _location_oid(site: str) -> str:
    return f"LOC.{_oid_part(site)}"


def _signature_oid(meaning: str) -> str:
    return f"SD.{_oid_part(meaning)}"


def _code_list_oid(vocabulary: type[Enum]) -> str:
    return f"CL.{vocabulary.__name__}"


# -- reading the log ------------------------------------------------------------------------------


@dataclass
class _ItemDef:
    """An item of a record kind, with the units its values were recorded in."""

    path: Path
    leaf: _Leaf
    units: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _ItemValue:
    """One ``ItemData``: the item, its own transaction type (if not its group's), value, unit."""

    oid: str
    transaction: str | None
    value: str | None
    unit: str | None


@dataclass(frozen=True)
class _Transaction:
    """One event of a subject as an ODM transaction on one entry's item group."""

    position: int
    kind: str
    entry: int
    action: str
    items: tuple[_ItemValue, ...]
    reason: str | None
    recorded_at: str
    signer: Signer


@dataclass
class _SubjectRecord:
    """A subject's site and its transactions in log order."""

    code: str
    site: str
    transactions: list[_Transaction] = field(default_factory=list)
    kinds: dict[int, str] = field(default_factory=dict)
    """Each entry's record kind, by entry (version): what a signature over it addresses."""


class _LogReading:
    """Everything the document says, read from the log in one pass, in log order."""

    def __init__(self, study: str) -> None:
        self.study = study
        self.versions: dict[UUID, int] = {}
        self.accounts: dict[UUID, Account] = {}
        self.sites_of: dict[str, list[str]] = {}
        self.sites: dict[str, date] = {}
        self.subjects: dict[str, _SubjectRecord] = {}
        self.items: dict[str, dict[Path, _ItemDef]] = {kind: {} for kind in RECORD_KINDS}
        self.recorded: set[str] = set()
        for kind in RECORD_KINDS:
            # Every single-valued field is an item, answered in this log or not.
            for name, shape in _field_shapes(kind).items():
                if isinstance(shape, _Leaf):
                    self.items[kind][(name,)] = _ItemDef((name,), shape)

    def read(self, log: Sequence[tuple[int, SignedAggregate.Event]]) -> None:
        previous = 0
        for position, event in log:
            if position <= previous:
                raise OdmExportRefused(
                    f"log position {position} comes after {previous}: the log is not in order"
                )
            previous = position
            if isinstance(event, Subject.Event) and event.stream.split("/", 1)[0] != self.study:
                continue
            if isinstance(event, AuthenticationLog.Event):
                continue  # the authentication log is evidence of the log, not ClinicalData
            if not isinstance(event, Account.Event | Subject.Event):
                raise OdmExportRefused(
                    f"log position {position} holds a {type(event).__qualname__}, neither a "
                    "subject's nor an account's event"
                )
            self._check_next_version(position, event)
            if isinstance(event, Account.Event):
                self._read_account_event(event)
            else:
                self._read_subject_event(position, event)

    def _check_next_version(self, position: int, event: SignedAggregate.Event) -> None:
        """Each stream's events come one version after the other: a gap is a missing event."""
        due = self.versions.get(event.originator_id, 0) + 1
        if event.originator_version != due:
            raise OdmExportRefused(
                f"log position {position}: {event.stream} version {event.originator_version} "
                f"where version {due} was due (is the log complete?)"
            )
        self.versions[event.originator_id] = due

    def _read_account_event(self, event: Account.Event) -> None:
        # Folded as the verifier folds accounts: the printed name, role and sites in force.
        account = cast(Account, event.mutate(self.accounts.get(event.originator_id)))
        self.accounts[event.originator_id] = account
        sites = self.sites_of.setdefault(account.user_id, [])
        if isinstance(event, Account.SiteAssigned) and event.site not in sites:
            sites.append(event.site)
            self._site_seen(event.site, event.recorded_at)

    def _site_seen(self, site: str, at: datetime) -> None:
        """A site's records are kept under this metadata from the day (UTC) the log first
        names it: its ``MetaDataVersionRef`` ``EffectiveDate``."""
        self.sites.setdefault(site, at.astimezone(UTC).date())

    def _read_subject_event(self, position: int, event: Subject.Event) -> None:
        code = event.stream.split("/", 1)[1]
        record = self.subjects.get(code)
        if record is None:
            # Version 1 of a subject's stream is always its screening (Subject.screen).
            screening = cast(Subject.Screened, event)
            record = self.subjects[code] = _SubjectRecord(code, screening.site)
            self._site_seen(screening.site, event.recorded_at)
        signer = signer_of(event.authorship.body())
        if stream_id(account_stream(signer.user_id)) not in self.accounts:
            # An account opens before its holder can sign: without it the log is cut short.
            raise OdmExportRefused(
                f"log position {position}: signed by {signer.user_id!r}, whose account the log "
                "has not opened (is the log complete?)"
            )
        try:
            if isinstance(event, Subject.EntryCorrected):
                kind, entry, action, reason = event.entry_kind, event.entry, UPDATE, event.reason
                items = self._corrected_items(kind, event.changes)
            elif isinstance(event, Subject.EntryVoided):
                kind, entry, action, reason = event.entry_kind, event.entry, REMOVE, event.reason
                items = ()
            elif isinstance(event, Subject.RecordsSigned):
                self._read_signature(position, event, record, signer)
                return
            else:
                kind, entry, action, reason = event.kind(), event.originator_version, INSERT, None
                items = self._recorded_items(kind, event.signed_data())
                record.kinds[entry] = kind
                self.recorded.add(kind)
        except OdmExportRefused as refused:
            raise OdmExportRefused(f"log position {position} ({code}): {refused}") from None
        record.transactions.append(
            _Transaction(
                position=position,
                kind=kind,
                entry=entry,
                action=action,
                items=items,
                reason=reason,
                recorded_at=recorded_instant(event.recorded_at),
                signer=signer,
            )
        )

    def _read_signature(
        self,
        position: int,
        event: Subject.RecordsSigned,
        record: _SubjectRecord,
        signer: Signer,
    ) -> None:
        """A signature over records: a ``Context`` transaction on each entry it signs."""
        for entry in sorted(event.covered()):
            kind = record.kinds.get(entry)
            if kind is None:
                raise OdmExportRefused(f"the signature names entry {entry}, not a record")
            record.transactions.append(
                _Transaction(
                    position=position,
                    kind=kind,
                    entry=entry,
                    action=CONTEXT,
                    items=(),
                    reason=None,
                    recorded_at=recorded_instant(event.recorded_at),
                    signer=signer,
                )
            )

    def _recorded_items(self, kind: str, data: Mapping[str, Any]) -> tuple[_ItemValue, ...]:
        """The items of a new record, field by field as the author signed them."""
        shapes = _field_shapes(kind)
        values = []
        # signed_data() gives the event's own fields: each is a field its kind defines.
        for name in (name for name in shapes if name in data):
            for path, leaf, wire in _leaves(shapes[name], (name,), data[name]):
                values.append(self._item_value(kind, path, leaf, wire, None))
        return tuple(values)

    def _corrected_items(
        self, kind: str, changes: Mapping[str, Mapping[str, Any]]
    ) -> tuple[_ItemValue, ...]:
        """The items a correction changes: new values, new items, and items it empties."""
        shapes = _field_shapes(kind)
        unknown = changes.keys() - shapes.keys()
        if unknown:
            raise OdmExportRefused(f"a {kind} has no field " + ", ".join(sorted(unknown)))
        values = []
        for name in (name for name in shapes if name in changes):
            shape = shapes[name]
            old = {
                p: (leaf, w) for p, leaf, w in _leaves(shape, (name,), _wire(changes, name, "old"))
            }
            new = {
                p: (leaf, w) for p, leaf, w in _leaves(shape, (name,), _wire(changes, name, "new"))
            }
            for path in sorted(old.keys() | new.keys(), key=_path_order):
                if path not in new:
                    values.append(_ItemValue(_item_oid(kind, path), REMOVE, None, None))
                elif path not in old or old[path][1] != new[path][1]:
                    leaf, wire = new[path]
                    action = UPDATE if path in old else INSERT
                    values.append(self._item_value(kind, path, leaf, wire, action))
        return tuple(values)

    def _item_value(
        self, kind: str, path: Path, leaf: _Leaf, wire: Any, action: str | None
    ) -> _ItemValue:
        """An ``ItemData``, entering its item (and the unit) in the metadata."""
        value, unit = _value_of(leaf, wire, path)
        known = self.items[kind].setdefault(path, _ItemDef(path, leaf))
        if unit is not None:
            known.units.add(unit)
        return _ItemValue(_item_oid(kind, path), action, value, unit)

    def item_defs(self, kind: str) -> list[_ItemDef]:
        """A kind's items: by field in declared order, then by key or place."""
        order = {name: index for index, name in enumerate(_field_shapes(kind))}
        return sorted(
            self.items[kind].values(),
            key=lambda item: (order.get(item.path[0], len(order)), _path_order(item.path)),
        )

    def described_kinds(self) -> list[str]:
        """The kinds the metadata describes: those declared before packets were published, and
        a later one once this log records it (``Record.DESCRIBED_WHEN_RECORDED``)."""
        return [
            kind
            for kind in RECORD_KINDS
            if not EVENT_CLASSES[kind].DESCRIBED_WHEN_RECORDED or kind in self.recorded
        ]

    def units(self) -> list[str]:
        return sorted(
            {unit for items in self.items.values() for i in items.values() for unit in i.units}
        )


def _wire(changes: Mapping[str, Mapping[str, Any]], name: str, side: str) -> Any:
    return to_wire(changes[name].get(side))


# -- writing the document -------------------------------------------------------------------------

_NOT_IN_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 cannot carry at all, escaped or not (section 2.2, ``Char``)."""


def _xml_safe(text: str, where: str) -> str:
    found = _NOT_IN_XML.search(text)
    if found is not None:
        raise OdmExportRefused(
            f"{where} holds U+{ord(found.group()):04X}, which an XML 1.0 document cannot carry"
        )
    return text


def _add(
    parent: ET.Element, tag: str, text: str | None = None, **attributes: str | None
) -> ET.Element:
    """A child element (in the root's default namespace, ODM's); attributes in the order given,
    None left out."""
    element = ET.SubElement(parent, tag)
    for name, value in attributes.items():
        if value is not None:
            element.set(name, _xml_safe(value, f"{tag} {name}"))
    if text is not None:
        element.text = _xml_safe(text, tag)
    return element


def _translated(parent: ET.Element, tag: str, text: str) -> ET.Element:
    """An element holding one ``TranslatedText`` in English (Description, Decode, Symbol...)."""
    element = _add(parent, tag)
    _add(element, "TranslatedText", text).set(XML_LANG, LANGUAGE)
    return element


def _instant(moment: datetime) -> str:
    """An aware instant in UTC as ISO 8601 with ``Z`` (microseconds only when it has them)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise OdmExportRefused(f"{moment.isoformat()} has no time zone: ODM times are instants")
    utc = moment.astimezone(UTC)
    return (
        utc.strftime("%Y-%m-%dT%H:%M:%S")
        + (f".{utc.microsecond:06d}" if utc.microsecond else "")
        + "Z"
    )


def _summary(cls: type) -> str:
    """The first line of a class's docstring: what a record kind or code list is."""
    doc = inspect.getdoc(cls) or cls.__name__
    return doc.splitlines()[0]


def _title(kind: str) -> str:
    """``BloodCountRecorded`` -> ``Blood count recorded``."""
    words = re.findall(r"[A-Z][a-z0-9]*", kind)
    return " ".join([words[0], *(word.lower() for word in words[1:])]) if words else kind


def odm_document(
    log: Sequence[tuple[int, SignedAggregate.Event]], *, study: str, created_at: datetime
) -> bytes:
    """The study's whole log as one ODM 1.3.2 archive (UTF-8), byte for byte reproducible.

    Args:
        log: every event of the log in log order, each with its log position: the subjects'
            events and the accounts' (read into the users, their names and sites).
        study: the study to write (its protocol gives the names; other studies are left out).
        created_at: the document's ``CreationDateTime`` and ``AsOfDateTime``: the instant the
            log was read up to (the checkpoint's time), an aware datetime.

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
    stamp = _instant(created_at)
    reading = _LogReading(study)
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
            f"{SOURCE_SYSTEM}.{_oid_part(study)}.{stamp.replace('-', '').replace(':', '')}",
        ),
        ("CreationDateTime", stamp),
        ("AsOfDateTime", stamp),
        ("ODMVersion", "1.3.2"),
        ("Originator", protocol.sponsor),
        ("SourceSystem", SOURCE_SYSTEM),
    ):
        root.set(name, _xml_safe(value, f"ODM {name}"))
    _write_study(root, protocol, reading)
    _write_admin_data(root, reading)
    _write_clinical_data(root, reading)
    ET.indent(root, space="  ")
    text = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n").encode("utf-8")


def _write_study(root: ET.Element, protocol: StudyProtocol, reading: _LogReading) -> None:
    """``Study``: ``GlobalVariables``, ``BasicDefinitions`` and the ``MetaDataVersion``."""
    study = _add(root, "Study", OID=protocol.study_id)
    global_variables = _add(study, "GlobalVariables")
    _add(global_variables, "StudyName", protocol.study_id)
    _add(global_variables, "StudyDescription", protocol.title)
    _add(global_variables, "ProtocolName", protocol.study_id)
    basic = _add(study, "BasicDefinitions")
    for unit in reading.units():
        _translated(_add(basic, "MeasurementUnit", OID=_unit_oid(unit), Name=unit), "Symbol", unit)
    _write_metadata(study, protocol, reading)


def _write_metadata(study: ET.Element, protocol: StudyProtocol, reading: _LogReading) -> None:
    """``MetaDataVersion`` (ODM 1.3.2 section 3.1.4), its children in the order the XSD wants."""
    metadata = _add(
        study,
        "MetaDataVersion",
        OID=METADATA_VERSION_OID,
        Name=f"{protocol.study_id} records as sealtrail keeps them",
        Description="Every record kind of a subject, one form each, its fields as signed",
    )
    declared = _add(metadata, "Protocol")
    _translated(declared, "Description", protocol.title)
    _add(declared, "StudyEventRef", StudyEventOID=STUDY_EVENT_OID, OrderNumber="1", Mandatory="Yes")
    record = _add(
        metadata,
        "StudyEventDef",
        OID=STUDY_EVENT_OID,
        Name="Subject record",
        Repeating="No",
        Type="Common",
    )
    _translated(record, "Description", "The subject's record: every entry, in the order recorded")
    described = reading.described_kinds()
    for order, kind in enumerate(described, 1):
        mandatory = "Yes" if kind == Subject.Screened.kind() else "No"
        _add(record, "FormRef", FormOID=f"F.{kind}", OrderNumber=str(order), Mandatory=mandatory)
    for kind in described:
        form = _add(metadata, "FormDef", OID=f"F.{kind}", Name=_title(kind), Repeating="Yes")
        _translated(form, "Description", _summary(EVENT_CLASSES[kind]))
        _add(form, "ItemGroupRef", ItemGroupOID=f"IG.{kind}", Mandatory="Yes")
    for kind in described:
        group = _add(metadata, "ItemGroupDef", OID=f"IG.{kind}", Name=kind, Repeating="No")
        _translated(group, "Description", _summary(EVENT_CLASSES[kind]))
        required = _required_fields(kind)
        for order, item in enumerate(reading.item_defs(kind), 1):
            mandatory = "Yes" if len(item.path) == 1 and item.path[0] in required else "No"
            _add(
                group,
                "ItemRef",
                ItemOID=_item_oid(kind, item.path),
                OrderNumber=str(order),
                Mandatory=mandatory,
            )
    code_lists: dict[type[Enum], None] = {}
    for kind in described:
        for item in reading.item_defs(kind):
            definition = _add(
                metadata,
                "ItemDef",
                OID=_item_oid(kind, item.path),
                Name=_dotted(item.path),
                DataType=item.leaf.data_type,
            )
            for unit in sorted(item.units):
                _add(definition, "MeasurementUnitRef", MeasurementUnitOID=_unit_oid(unit))
            if item.leaf.code_list is not None:
                _add(definition, "CodeListRef", CodeListOID=_code_list_oid(item.leaf.code_list))
                code_lists.setdefault(item.leaf.code_list)
    for vocabulary in code_lists:
        _write_code_list(metadata, vocabulary)


def _write_code_list(metadata: ET.Element, vocabulary: type[Enum]) -> None:
    """``CodeList``: each coded value as signed, decoded in words."""
    code_list = _add(
        metadata,
        "CodeList",
        OID=_code_list_oid(vocabulary),
        Name=vocabulary.__name__,
        DataType=odm_code_type(vocabulary),
    )
    _translated(code_list, "Description", _summary(vocabulary))
    for member in vocabulary:
        item = _add(code_list, "CodeListItem", CodedValue=str(member.value))
        _translated(item, "Decode", member.name.lower().replace("_", " "))


def _write_admin_data(root: ET.Element, reading: _LogReading) -> None:
    """``AdminData`` (section 3.2): users, locations and signature definitions."""
    admin = _add(root, "AdminData", StudyOID=reading.study)
    for account in reading.accounts.values():
        role = account.role
        user = _add(
            admin,
            "User",
            OID=_user_oid(account.user_id),
            UserType=USER_TYPES.get(role, "Other") if role is not None else "Other",
        )
        _add(user, "LoginName", account.user_id)
        _add(user, "DisplayName", account.printed_name)
        _add(user, "FullName", account.printed_name)
        for site in reading.sites_of.get(account.user_id, ()):
            _add(user, "LocationRef", LocationOID=_location_oid(site))
    for site, first_seen in reading.sites.items():
        location = _add(admin, "Location", OID=_location_oid(site), Name=site, LocationType="Site")
        _add(
            location,
            "MetaDataVersionRef",
            StudyOID=reading.study,
            MetaDataVersionOID=METADATA_VERSION_OID,
            EffectiveDate=first_seen.isoformat(),
        )
    for meaning in MEANINGS:
        definition = _add(admin, "SignatureDef", OID=_signature_oid(meaning), Methodology="Digital")
        _add(definition, "Meaning", SIGNATURE_MEANINGS[meaning])
        _add(definition, "LegalReason", LEGAL_REASON.format(meaning=meaning))


def _write_clinical_data(root: ET.Element, reading: _LogReading) -> None:
    """``ClinicalData`` (section 3.3): each subject's transactions in log order."""
    clinical = _add(
        root, "ClinicalData", StudyOID=reading.study, MetaDataVersionOID=METADATA_VERSION_OID
    )
    for record in reading.subjects.values():
        subject = _add(clinical, "SubjectData", SubjectKey=record.code)
        _add(subject, "SiteRef", LocationOID=_location_oid(record.site))
        events = _add(subject, "StudyEventData", StudyEventOID=STUDY_EVENT_OID)
        for transaction in record.transactions:
            try:
                _write_transaction(events, record, transaction)
            except OdmExportRefused as refused:
                raise OdmExportRefused(
                    f"log position {transaction.position} ({record.code}): {refused}"
                ) from None


def _write_transaction(
    events: ET.Element, record: _SubjectRecord, transaction: _Transaction
) -> None:
    """One entry's ``FormData`` > ``ItemGroupData``: ``AuditRecord``, ``Signature``, items."""
    form = _add(
        events, "FormData", FormOID=f"F.{transaction.kind}", FormRepeatKey=str(transaction.entry)
    )
    group = _add(
        form,
        "ItemGroupData",
        ItemGroupOID=f"IG.{transaction.kind}",
        TransactionType=transaction.action,
    )
    signer, location = transaction.signer, _location_oid(record.site)
    # One event may sign several entries: each of its transactions needs IDs of its own.
    ids = str(transaction.position)
    if transaction.action == CONTEXT:
        ids += f".{transaction.entry}"
    audit = _add(group, "AuditRecord", ID=f"AR.{ids}")
    _add(audit, "UserRef", UserOID=_user_oid(signer.user_id))
    _add(audit, "LocationRef", LocationOID=location)
    _add(audit, "DateTimeStamp", transaction.recorded_at)
    if transaction.reason is not None:
        _add(audit, "ReasonForChange", transaction.reason)
    _add(audit, "SourceID", str(transaction.position))
    signature = _add(group, "Signature", ID=f"SG.{ids}")
    _add(signature, "UserRef", UserOID=_user_oid(signer.user_id))
    _add(signature, "LocationRef", LocationOID=location)
    _add(signature, "SignatureRef", SignatureOID=_signature_oid(signer.meaning))
    _add(signature, "DateTimeStamp", signer.signed_at)
    for item in transaction.items:
        data = _add(
            group, "ItemData", ItemOID=item.oid, TransactionType=item.transaction, Value=item.value
        )
        if item.unit is not None:
            _add(data, "MeasurementUnitRef", MeasurementUnitOID=_unit_oid(item.unit))


# -- checking a document against the official schema ----------------------------------------------


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
