"""Every record kind of a subject, read from the declarations: by name, in the protocol's order.

Each kind is also set on :class:`Subject` (``Subject.BloodCountRecorded``), where eventsourcing
looks for a subject's event classes, and its command (``COMMAND``) becomes the subject's verb
(``subject.record_blood_count(...)``, which is ``subject.record(BloodCountRecorded, ...)``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, cast

from domain.actions import Action
from domain.subject import changes, disposition, enrolment, locks, measurements, safety, treatment
from domain.subject.aggregate import Subject
from domain.subject.record import DECLARED, Record

GROUPS = tuple(
    group.__name__
    for group in (enrolment, treatment, measurements, safety, disposition, changes, locks)
)
"""The modules declaring record kinds, in the protocol's order: the order of :data:`KINDS`
(within a module, the order declared) and so of the ODM forms."""


def _place(kind: type[Record]) -> int:
    module = kind.__module__
    return GROUPS.index(module) if module in GROUPS else len(GROUPS)


KINDS: dict[str, type[Record]] = dict(sorted(DECLARED.items(), key=lambda item: _place(item[1])))
"""Every kind of record an author signs, by its name, in the order declared."""
EVENT_CLASSES: dict[str, type[Record]] = {
    **KINDS,
    Subject.Created.kind(): cast("type[Record]", Subject.Created),
}
"""Every event class of a subject, by name (with eventsourcing's ``Created``, which no author
signs: a subject is opened by ``Screened``)."""
QUERY_KINDS = frozenset(name for name, kind in KINDS.items() if kind.QUERY)
"""The data clarification dialogue about records: neither clinical data nor corrected, voided
or signed (a new answer, or a new query, is made instead)."""
ABOUT_RECORDS = frozenset(name for name, kind in KINDS.items() if kind.ABOUT_RECORDS)
"""Kinds that are about other records (a change, a signature, a query), not records themselves."""
SITE_RECORDS: dict[str, type[Record]] = {
    name: kind
    for name, kind in KINDS.items()
    if not kind.ABOUT_RECORDS and kind.SUBMITTED_AS is Action.RECORD_CLINICAL_DATA
}
"""The records a site enters (clinical data, screening first), in the protocol's order: not
the changes, signatures, queries and lock steps about other records."""
SIGNED_IN_CEREMONY = frozenset(
    name for name, kind in KINDS.items() if issubclass(kind, changes.RecordsSigned)
)
"""Signatures over records (of chosen records, of a whole casebook): made only through the
signing ceremony, with the password re-entered (21 CFR 11.200), never as an ordinary entry."""


def _command(kind: type[Record]) -> Callable[..., None]:
    """The subject's verb for ``kind``: its keyword arguments are the kind's items."""

    def command(subject: Subject, **values: Any) -> None:
        subject.record(kind, **values)

    command.__name__ = command.__qualname__ = str(kind.COMMAND)
    command.__doc__ = inspect.getdoc(kind)
    return command


def set_on_subject(name: str, value: object) -> None:
    """Set a kind or its verb on :class:`Subject`, unless the name is taken by something else:
    a derived verb never silently replaces a method or attribute written by hand.

    Raises:
        TypeError: ``Subject`` already has ``name``, and it is not ``value`` (at import).
    """
    present = inspect.getattr_static(Subject, name, None)
    if present is value:  # a kind aggregate.py names already
        return
    if present is not None:
        raise TypeError(f"Subject.{name} is written by hand: {value!r} may not replace it")
    setattr(Subject, name, value)


for _kind in KINDS.values():
    set_on_subject(_kind.kind(), _kind)
    if _kind.COMMAND is not None:
        set_on_subject(_kind.COMMAND, _command(_kind))

RECORDERS: dict[str, Callable[..., None]] = {
    name: getattr(Subject, kind.COMMAND) for name, kind in KINDS.items() if kind.COMMAND
}
"""The command method that records each kind of event on an existing subject.

``Screened`` is not here: it opens a subject (:meth:`Subject.screen`).
"""
