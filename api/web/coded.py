"""Coded values of the records and the facts (a status, a lock state, a response category, a
clock's standing), as a person reads them in the page's language."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import Flask

from api.web.wording import gettext as _
from domain.subject import KINDS
from projections.audit_trail import value_text


def said(code: str | None) -> str:
    """``code`` in words, in the page's language; an unknown code as it is, none as a dash."""
    if code is None:
        return "—"
    words = {
        # Where a subject stands (domain.vocabulary.Status).
        "screened": _("screened"),
        "screen_failed": _("screen failed"),
        "consented": _("consented"),
        "enrolled": _("enrolled"),
        "withdrawn": _("withdrawn"),
        "died": _("died"),
        "completed": _("completed"),
        "lost_to_follow_up": _("lost to follow-up"),
        # How far its records are closed (domain.subject.locks.LockState).
        "open": _("open"),
        "frozen": _("frozen"),
        "locked": _("locked"),
        # A hematologic response (domain.clinical.ResponseCategory) and the agreement.
        "complete": _("complete"),
        "partial": _("partial"),
        "none": _("no response"),
        "not_evaluable": _("not evaluable"),
        "agree": _("agrees"),
        "disagree": _("disagrees"),
        "no_investigator_assessment": _("no investigator assessment"),
        # Camitta severity (domain.clinical.Severity).
        "non_severe": _("non-severe"),
        "severe": _("severe"),
        "very_severe": _("very severe"),
        "not_assessable": _("not assessable"),
        # A notification clock (domain.clinical.ClockStatus).
        "met": _("met"),
        "late": _("late"),
        "overdue": _("overdue"),
        "pending": _("pending"),
        # A data clarification query (domain.subject.entries.Query.status), once not "open".
        "answered": _("answered"),
        "closed": _("closed"),
    }
    return words.get(code, code)


def value_said(kind: str, name: str, value: Any) -> str:
    """A record's value as a page says it: a code of a vocabulary (or a list of them) in the
    page's language, as ``portuguese.toml`` words it (the record keeps the code; an English
    page shows the code); any other value as the audit trail writes it."""
    if _coded(kind, name):
        if isinstance(value, str):
            return _(value)
        if isinstance(value, list | tuple) and all(isinstance(code, str) for code in value):
            return ", ".join(_(code) for code in value)
    return value_text(value)


@cache
def _coded(kind: str, name: str) -> bool:
    """Whether item ``name`` of record ``kind`` takes a vocabulary's codes."""
    declared = KINDS.get(kind)
    return declared is not None and any(
        item.name == name and item.choices is not None for item in declared.items()
    )


def install(app: Flask) -> None:
    """``{{ code|said }}`` and ``{{ value|value_text }}`` (a record's value as the audit trail
    writes it) in every template."""
    app.jinja_env.filters.update(said=said, value_text=value_text)
