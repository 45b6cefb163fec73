"""Instants as the store hands them back: SQLite keeps no zone, and only UTC is ever stored."""

from __future__ import annotations

from datetime import UTC, datetime


def utc(moment: datetime) -> datetime:
    """A stored instant as an aware UTC datetime (SQLite hands them back naive)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
