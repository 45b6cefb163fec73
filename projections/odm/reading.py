"""Reading the log into what the ODM file says: the subjects' transactions in log order, the
accounts with their printed names and sites, the items recorded and the units used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, cast
from uuid import UUID

from domain.account import Account, account_stream
from domain.attribution import Signer, signer_of
from domain.observed import ObservedByServer
from domain.signed import SignedAggregate, stream_id
from domain.subject import EVENT_CLASSES, SIGNED_IN_CEREMONY, Subject
from domain.wire import recorded_instant, to_wire
from projections.errors import OdmExportRefused
from projections.odm.items import (
    ItemDef,
    ItemValue,
    Leaf,
    Path,
    field_shapes,
    leaves,
    path_order,
    value_of,
)
from projections.odm.names import CONTEXT, INSERT, REMOVE, UPDATE, item_oid

CHANGE_KINDS = (
    frozenset(kind.kind() for kind in (Subject.EntryCorrected, Subject.EntryVoided))
    | SIGNED_IN_CEREMONY
)
"""Events about earlier entries (a correction, a void, an electronic signature over records or
over a whole casebook): written as transactions on those entries' item groups."""

RECORD_KINDS: tuple[str, ...] = tuple(kind for kind in EVENT_CLASSES if kind not in CHANGE_KINDS)
"""The record kinds, one form and item group each, in the order ``Subject`` declares them."""


# -- reading the log ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transaction:
    """One event of a subject as an ODM transaction on one entry's item group."""

    position: int
    kind: str
    entry: int
    action: str
    items: tuple[ItemValue, ...]
    reason: str | None
    recorded_at: str
    signer: Signer


EntryChange = tuple[str, int, str, tuple[ItemValue, ...], str | None]
"""One transaction an event makes: the entry's record kind, the entry, the ``TransactionType``,
the items it carries and the reason for a correction or void."""


@dataclass
class SubjectRecord:
    """A subject's site and its transactions in log order."""

    code: str
    site: str
    transactions: list[Transaction] = field(default_factory=list)
    kinds: dict[int, str] = field(default_factory=dict)
    """Each entry's record kind, by entry (version): what a signature over it addresses."""


class LogReading:
    """Everything the document says, read from the log in one pass, in log order."""

    def __init__(self, study: str) -> None:
        self.study = study
        self.versions: dict[UUID, int] = {}
        self.accounts: dict[UUID, Account] = {}
        self.sites_of: dict[str, list[str]] = {}
        self.sites: dict[str, date] = {}
        self.subjects: dict[str, SubjectRecord] = {}
        self.items: dict[str, dict[Path, ItemDef]] = {kind: {} for kind in RECORD_KINDS}
        self.recorded: set[str] = set()
        for kind in RECORD_KINDS:
            # Every single-valued field is an item, answered in this log or not.
            for name, shape in field_shapes(kind).items():
                if isinstance(shape, Leaf):
                    self.items[kind][(name,)] = ItemDef((name,), shape)

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
            if isinstance(event, ObservedByServer):
                continue  # the server's logs (authentication, disclosures) are not ClinicalData
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
            record = self.subjects[code] = SubjectRecord(code, screening.site)
            self._site_seen(screening.site, event.recorded_at)
        signer = signer_of(event.authorship.body())
        if stream_id(account_stream(signer.user_id)) not in self.accounts:
            # An account opens before its holder can sign: without it the log is cut short.
            raise OdmExportRefused(
                f"log position {position}: signed by {signer.user_id!r}, whose account the log "
                "has not opened (is the log complete?)"
            )
        try:
            changes = self._entry_changes(event, record)
        except OdmExportRefused as refused:
            raise OdmExportRefused(f"log position {position} ({code}): {refused}") from None
        recorded_at = recorded_instant(event.recorded_at)
        for kind, entry, action, items, reason in changes:
            record.transactions.append(
                Transaction(position, kind, entry, action, items, reason, recorded_at, signer)
            )

    def _entry_changes(self, event: Subject.Event, record: SubjectRecord) -> list[EntryChange]:
        """What an event does to entries: a record inserts its own, a correction updates and a
        void removes the entry it names, and a signature over records is a ``Context``
        transaction on each entry it signs."""
        if isinstance(event, Subject.EntryCorrected):
            items = self._corrected_items(event.entry_kind, event.changes)
            return [(event.entry_kind, event.entry, UPDATE, items, event.reason)]
        if isinstance(event, Subject.EntryVoided):
            return [(event.entry_kind, event.entry, REMOVE, (), event.reason)]
        if isinstance(event, Subject.RecordsSigned):
            signed: list[EntryChange] = []
            for entry in sorted(event.covered()):
                kind = record.kinds.get(entry)
                if kind is None:
                    raise OdmExportRefused(f"the signature names entry {entry}, not a record")
                signed.append((kind, entry, CONTEXT, (), None))
            return signed
        kind, entry = event.kind(), event.originator_version
        items = self._recorded_items(kind, event.signed_data())
        record.kinds[entry] = kind
        self.recorded.add(kind)
        return [(kind, entry, INSERT, items, None)]

    def _recorded_items(self, kind: str, data: Mapping[str, Any]) -> tuple[ItemValue, ...]:
        """The items of a new record, field by field as the author signed them."""
        shapes = field_shapes(kind)
        values = []
        # signed_data() gives the event's own fields: each is a field its kind defines.
        for name in (name for name in shapes if name in data):
            for path, leaf, wire in leaves(shapes[name], (name,), data[name]):
                values.append(self._item_value(kind, path, leaf, wire, None))
        return tuple(values)

    def _corrected_items(
        self, kind: str, changes: Mapping[str, Mapping[str, Any]]
    ) -> tuple[ItemValue, ...]:
        """The items a correction changes: new values, new items, and items it empties."""
        shapes = field_shapes(kind)
        unknown = changes.keys() - shapes.keys()
        if unknown:
            raise OdmExportRefused(f"a {kind} has no field " + ", ".join(sorted(unknown)))
        values = []
        for name in (name for name in shapes if name in changes):
            shape = shapes[name]
            old = {
                p: (leaf, w) for p, leaf, w in leaves(shape, (name,), _wire(changes, name, "old"))
            }
            new = {
                p: (leaf, w) for p, leaf, w in leaves(shape, (name,), _wire(changes, name, "new"))
            }
            for path in sorted(old.keys() | new.keys(), key=path_order):
                if path not in new:
                    values.append(ItemValue(item_oid(kind, path), REMOVE, None, None))
                elif path not in old or old[path][1] != new[path][1]:
                    leaf, wire = new[path]
                    action = UPDATE if path in old else INSERT
                    values.append(self._item_value(kind, path, leaf, wire, action))
        return tuple(values)

    def _item_value(
        self, kind: str, path: Path, leaf: Leaf, wire: Any, action: str | None
    ) -> ItemValue:
        """An ``ItemData``, entering its item (and the unit) in the metadata."""
        value, unit = value_of(leaf, wire, path)
        known = self.items[kind].setdefault(path, ItemDef(path, leaf))
        if unit is not None:
            known.units.add(unit)
        return ItemValue(item_oid(kind, path), action, value, unit)

    def item_defs(self, kind: str) -> list[ItemDef]:
        """A kind's items: by field in declared order, then by key or place."""
        order = {name: index for index, name in enumerate(field_shapes(kind))}
        return sorted(
            self.items[kind].values(),
            key=lambda item: (order.get(item.path[0], len(order)), path_order(item.path)),
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
