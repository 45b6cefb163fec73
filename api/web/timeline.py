"""A subject's timeline as the pages show it: every record of its audit index, in order.

The audit index (:mod:`projections.audit_index`, the API's ``.../audit``) holds each record as
its author signed it, each correction (old -> new, with the reason), the void and the signatures
over it, each with its signature manifestation and the server's recording time. This module only
turns that document into rows a template walks: instants and signers as the pages show them,
values as text (as the audit trail writes them, :func:`projections.audit_trail.value_text`; a
vocabulary's code in the page's language, :func:`api.web.coded.value_said`), and a
record that names another (a correction, a void, a signing) pointing at it. It computes nothing
the index does not say.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from api.web.coded import value_said
from api.web.dates import local_and_utc, page_zone
from api.web.wording import gettext as _
from projections.audit_index import AuditIndex

HELD_ELSEWHERE = {"changes", "entries"}
"""Fields shown on the records they concern (a correction's old -> new values, the records a
signing covers), not as text of their own."""


@dataclass(frozen=True)
class Evidence:
    """An event of the log: its entry, its position, the server's recording time and its
    author's signature manifestation (21 CFR 11.50), the last two as the page shows them."""

    entry: int
    position: int
    recorded_at: Markup
    """In the site's time zone with UTC beside (:func:`api.web.dates.local_and_utc`)."""
    signed_by: Markup
    """The signer's printed name and user id, the meaning and when they signed."""


@dataclass(frozen=True)
class Change:
    """A correction of the record (each field's old and new value) or its void, and why."""

    evidence: Evidence
    reason: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class TimelineRow:
    """One record of the subject, as it stands."""

    entry: int
    heading: Markup
    """``Entry n``, in the page's language."""
    kind: str
    evidence: Evidence
    evidence_line: Markup
    """When it was recorded, where in the log, and who signed it, in the page's language."""
    fields: list[tuple[str, str]]
    """The record's fields as its author signed them, as text."""
    about: list[int]
    """The entries this record is about: corrects, voids, queries, verifies or signs."""
    corrections: list[Change]
    void: Change | None
    """The void: the record stops counting and stays in the record, struck through."""
    signatures: list[tuple[Evidence, bool]]
    """Each electronic signature over the record, and whether it still covers its value."""


def timeline(index: AuditIndex) -> list[TimelineRow]:
    """The rows of the subject's audit index, oldest first."""
    return Rows(page_zone()).of(index)


class Rows:
    """Reads the index's records into rows; an instant or a signer seen before is shown as it
    was (a record's signers and times repeat: a casebook signature covers every record)."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.to_the_second = cache(self._instant)
        self.signer = cache(self._signer)
        # The phrases every row says, in the page's language, looked up once.
        self.entry_phrase = escape(_("Entry %(entry)s"))
        self.evidence_phrase = escape(
            _("Recorded %(when)s at log position %(position)s; signed by %(signer)s")
        )

    def instant(self, text: str) -> Markup:
        """A recorded instant as shown: to the second, so one shown before is not made again."""
        return self.to_the_second(text[: len("YYYY-MM-DDTHH:MM:SS")])

    def of(self, index: AuditIndex) -> list[TimelineRow]:
        return [self.row(record) for record in index["records"]]

    def _instant(self, to_the_second: str) -> Markup:
        return local_and_utc(datetime.fromisoformat(to_the_second).replace(tzinfo=UTC), self.zone)

    def _signer(self, user_id: str, name: str, meaning: str, signed_at: str | None) -> Markup:
        # The phrase is the catalogue's text, escaped as any text is; the values are escaped by %.
        if not signed_at:
            phrase = _("%(name)s (%(user_id)s), meaning %(meaning)s")
            return escape(phrase) % {"name": name, "user_id": user_id, "meaning": meaning}
        phrase = _("%(name)s (%(user_id)s), meaning %(meaning)s, signed %(when)s")
        return escape(phrase) % {
            "name": name,
            "user_id": user_id,
            "meaning": meaning,
            "when": self.instant(signed_at),
        }

    def _evidence(self, event: dict[str, Any]) -> Evidence:
        signer = event["signature"]
        return Evidence(
            entry=event["entry"],
            position=event["position"],
            recorded_at=self.instant(event["recorded_at"]),
            signed_by=self.signer(
                signer["user_id"],
                signer["printed_name"],
                signer["meaning"],
                signer.get("signed_at"),
            ),
        )

    def row(self, record: dict[str, Any]) -> TimelineRow:
        """One record of the index (an item of its ``records``) as a row."""
        original, *corrections = record["versions"]
        data: dict[str, Any] = original["data"]
        about: list[int] = []
        if isinstance(data.get("entry"), int) and "entry_kind" in data:
            # A correction, a void, a query, a source verification: about one earlier record.
            about = [data["entry"]]
        elif isinstance(data.get("entries"), list):
            # A signing (of records, of the casebook): the records it covers.
            about = [int(item["entry"]) for item in data["entries"] if isinstance(item, dict)]
        shown = {name: value for name, value in data.items() if name not in HELD_ELSEWHERE}
        kind = str(record["kind"])
        voided = record.get("voided")
        evidence = self._evidence(original)
        return TimelineRow(
            entry=record["entry"],
            heading=self.entry_phrase % {"entry": record["entry"]},
            kind=record["kind"],
            evidence=evidence,
            evidence_line=self.evidence_phrase
            % {
                "when": evidence.recorded_at,
                "position": evidence.position,
                "signer": evidence.signed_by,
            },
            fields=[(name, value_said(kind, name, value)) for name, value in shown.items()],
            about=about,
            corrections=[
                Change(
                    self._evidence(version),
                    version["reason"],
                    [
                        (
                            name,
                            value_said(kind, name, change["old"]),
                            value_said(kind, name, change["new"]),
                        )
                        for name, change in version["changes"].items()
                    ],
                )
                for version in corrections
            ],
            void=None if voided is None else Change(self._evidence(voided), voided["reason"]),
            signatures=[
                (self._evidence(signed), bool(signed["covers_current_value"]))
                for signed in record.get("signatures", [])
            ],
        )
