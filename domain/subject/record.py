"""The base of every record kind of a subject: what a declaration says besides its items.

A record kind is a subclass of :class:`Record` whose fields are declared with
:func:`domain.subject.declaration.item`; its class attributes place it among the other records
(the date it is about, whether it may precede consent or follow the end of the study, whether
it is a treatment, what a correction may change). Each is stored under the topic
``domain.subject:Subject.<kind>`` it has always had, wherever it is declared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import Field, fields, replace
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar

from eventsourcing.utils import register_topic

from domain.actions import Action
from domain.delegation import Task
from domain.protocol import StudyProtocol
from domain.signed import SignedAggregate
from domain.subject.declaration import ITEM, DeclaredItem, FormField, declared_items, form_of
from domain.subject.entries import Entry, subject_stream
from signatures.record_hash import record_hash, record_hash_after

if TYPE_CHECKING:
    from domain.subject.aggregate import Subject

TOPIC_PREFIX = "domain.subject:Subject"
"""Where stored events find a subject's classes: the module and class ``Subject`` had when the
first events were stored (eventsourcing resolves a class's explicit ``TOPIC``)."""


class Requirement(Enum):
    """What a subject has on record before a kind of record is made for them."""

    NOTHING = "nothing but the screening"
    CONSENT = "a signed TCLE"
    ENROLMENT = "a signed TCLE and the enrolment"


DECLARED: dict[str, type[Record]] = {}
"""Every record kind, by name, in the order declared (each registers itself)."""


class Record(SignedAggregate.Event):
    """An event of a subject's stream; the signed body addresses it by study and code."""

    TOPIC: ClassVar[str] = f"{TOPIC_PREFIX}.Event"

    DATED_BY: ClassVar[str | None] = None
    """The field giving the date the record is about (checked against today and death)."""
    COMMAND: ClassVar[str | None] = None
    """The subject's verb that records this kind (``record_blood_count``)."""
    MAY_PRECEDE_CONSENT: ClassVar[bool] = False
    """Dated before the TCLE was signed (screening, the consent itself, baseline tests)."""
    MAY_FOLLOW_THE_END: ClassVar[bool] = False
    """Dated after death or the end of study: it is about something earlier (a follow-up, a
    notification) or about another record."""
    TREATMENT: ClassVar[bool] = False
    """A treatment: none is given after the subject withdraws."""
    VOIDABLE: ClassVar[bool] = True
    """False when the record's existence is the fact (correct its fields instead)."""
    ABOUT_RECORDS: ClassVar[bool] = False
    """A change, signature or query about other records: neither corrected, voided nor signed
    (a new one is made instead)."""
    QUERY: ClassVar[bool] = False
    """Part of the data clarification dialogue (a query, an answer, a closing)."""
    SUBMITTED_AS: ClassVar[Action] = Action.RECORD_CLINICAL_DATA
    """What submitting one is, in the permission matrix: clinical data entered by the site, or
    a monitor's query and its closing (``Action.RAISE_QUERIES``)."""
    DELEGATED_TASK: ClassVar[Task] = Task.DATA_ENTRY
    """The task of the delegation log a write of this kind is, from the protocol's date
    (:func:`domain.permissions.check_delegated`): data entry, unless the kind says otherwise."""
    DESCRIBED_WHEN_RECORDED: ClassVar[bool] = False
    """Described in the ODM metadata and the SDTM data dictionary only once the log records one.
    Every kind declared after sponsors' packets were first published sets it: a packet is
    verified by deriving its files again from its own events, so a packet built before the
    kind existed must derive to the same bytes (the kinds declared before are always described)."""
    REQUIRES: ClassVar[Requirement] = Requirement.NOTHING
    """What the subject must have on record first (checked for a new record, before
    :meth:`admit`)."""
    ONCE: ClassVar[str | None] = None
    """What the record is, where a subject has one only (``"the death"``), or one for each
    value of the items named in braces (``"the month-{month} response"``): a second is refused,
    the first is corrected instead."""
    FIXED: ClassVar[frozenset[str]] = frozenset()
    """Fields a correction may not change: changing them would re-address other records (a
    subject moves site by transfer, an adverse event keeps its id, an infusion its number)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.TOPIC = f"{TOPIC_PREFIX}.{cls.__name__}"
        if any(isinstance(v, Field) and ITEM in v.metadata for v in vars(cls).values()):
            # A class that declares items is a record kind (its bases declare none).
            register_topic(cls.TOPIC, cls)
            DECLARED[cls.__name__] = cls

    @classmethod
    def admit(cls, subject: Subject, fields: Mapping[str, Any]) -> None:
        """Refuse a new record the subject cannot take now (not consented, not enrolled, out of
        the study, recorded once already...): checked for a new record only."""

    @classmethod
    def check_among(
        cls, subject: Subject, fields: Mapping[str, Any], *, besides: int | None
    ) -> None:
        """Refuse a record out of place among the subject's others (order, intervals, a second
        of what is recorded once): checked alike for a new record (``besides`` None) and for a
        corrected one (``besides``, the corrected entry, is left out of the others)."""

    @classmethod
    def check_values(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> None:
        """Refuse a record whose own values cannot be true under the protocol."""

    @classmethod
    def flags(cls, fields: Mapping[str, Any], protocol: StudyProtocol) -> tuple[str, ...]:
        """Flags a reviewer should see on an accepted record (out of range, implausible)."""
        return ()

    @staticmethod
    def stream_of(body: dict[str, Any]) -> str:
        return subject_stream(str(body.get("study")), str(body.get("subject")))

    @classmethod
    def items(cls) -> tuple[DeclaredItem, ...]:
        """The kind's declared items, in the order of its signed ``data``."""
        return declared_items(cls)

    @classmethod
    def form(cls) -> tuple[FormField, ...]:
        """The form a web page shows to record this kind."""
        return form_of(cls)

    @classmethod
    def arguments(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        """A record's values as its event takes them: each item once, mappings as dicts and
        lists as tuples, an optional item left out as None.

        Raises:
            TypeError: a value for no item, or none for a required one (as a call would).
        """
        items = {declared.name: declared for declared in cls.items()}
        unknown = sorted(values.keys() - items.keys())
        missing = [name for name, d in items.items() if d.required and name not in values]
        if unknown or missing:
            raise TypeError(
                f"a {cls.kind()} takes {', '.join(items)}; "
                f"not {', '.join(unknown) or '-'}, missing {', '.join(missing) or '-'}"
            )
        return {name: declared.taken(values.get(name)) for name, declared in items.items()}

    def record_fields(self) -> dict[str, Any]:
        """What the author recorded, as typed values."""
        return {
            f.name: getattr(self, f.name) for f in fields(self) if f.name not in self.BOOKKEEPING
        }

    def apply(self, subject: Subject) -> None:
        subject.entries[self.originator_version] = Entry(
            self.originator_version,
            self.kind(),
            self.record_fields(),
            self.recorded_at,
            record_hash=record_hash(self.event_hash),
        )

    def changed_entry(self) -> int | None:
        """The earlier entry this event changes (a correction or void), if any."""
        return None


def changed(subject: Subject, entry: Entry, event_hash: str, **changes: Any) -> None:
    """Put ``entry`` back changed by an event: its record hash now chains that event's."""
    subject.replace_entry(
        replace(entry, record_hash=record_hash_after(entry.record_hash, event_hash), **changes)
    )
