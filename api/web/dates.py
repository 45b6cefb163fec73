"""Instants on the pages: in the site's time zone, with UTC beside (the log's own time)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import Flask
from markupsafe import Markup, escape

from domain.protocol import protocol_for
from infrastructure.views.study_reports import served_study


def site_zone() -> ZoneInfo:
    """The time zone of the study this store serves (its sites keep its time, docs/pages.md)."""
    return protocol_for(served_study(None)).time_zone


def local_and_utc(moment: datetime | None, zone: ZoneInfo | None = None) -> Markup:
    """``2026-12-04 09:30 (America/Sao_Paulo) · 12:30 UTC`` in a ``<time>`` element whose
    ``datetime`` is the exact UTC instant; an empty string for None."""
    if moment is None:
        return Markup("")
    zone = zone or site_zone()
    at_utc = moment.astimezone(UTC)
    local = moment.astimezone(zone)
    utc_part = (
        f"{at_utc:%H:%M} UTC" if local.date() == at_utc.date() else f"{at_utc:%Y-%m-%d %H:%M} UTC"
    )
    return Markup('<time datetime="{iso}">{local} ({zone})</time> · {utc}').format(
        iso=at_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        local=f"{local:%Y-%m-%d %H:%M}",
        zone=escape(zone.key),
        utc=utc_part,
    )


def day(value: date | None) -> Markup:
    """A calendar day (a visit's, a report's) as ``2026-12-04`` in a ``<time>`` element."""
    if value is None:
        return Markup("")
    return Markup('<time datetime="{0}">{0}</time>').format(value.isoformat())


def install_date_filters(app: Flask) -> None:
    """``{{ moment|local_and_utc }}`` and ``{{ a_date|day }}`` in every template."""
    app.jinja_env.filters.update(local_and_utc=local_and_utc, day=day)
