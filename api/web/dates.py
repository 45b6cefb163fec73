"""Instants on the pages: in the site's time zone, with UTC beside (the log's own time).

Each site's zone is the protocol's (``[sites.<code>] time_zone``, else the study's
``time_zone``). A page about one subject shows every instant in its site's zone
(:func:`show_in_site_zone`, called as the subject is read); a list across sites gives each row
its own site's zone (``{{ moment|local_and_utc(site_zone(row.site)) }}``); an instant of no site
(a checkpoint, a key's validity) is shown in the study's zone, UTC beside, always.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, g
from markupsafe import Markup, escape

from domain.protocol import protocol_for
from infrastructure.views.study_reports import served_study


def site_zone(site: str | None = None) -> ZoneInfo:
    """The time zone of ``site`` of the study this store serves: its own as the protocol
    declares it, else the study's (the study's too for no site)."""
    return protocol_for(served_study(None)).zone_of(site)


def show_in_site_zone(site: str) -> None:
    """Show this page's instants in ``site``'s time zone: the page is about a subject of it."""
    g.page_zone = site_zone(site)


def page_zone() -> ZoneInfo:
    """The zone this page shows an instant in by default: its subject's site's, else the
    study's."""
    zone = g.get("page_zone")
    return zone if isinstance(zone, ZoneInfo) else site_zone()


def local_and_utc(moment: datetime | None, zone: ZoneInfo | None = None) -> Markup:
    """``2026-12-04 09:30 (America/Sao_Paulo) · 12:30 UTC`` in a ``<time>`` element whose
    ``datetime`` is the exact UTC instant; an empty string for None."""
    if moment is None:
        return Markup("")
    zone = zone or page_zone()
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
    """``{{ moment|local_and_utc }}`` (or ``local_and_utc(site_zone(site))``) and
    ``{{ a_date|day }}`` in every template."""
    app.jinja_env.filters.update(local_and_utc=local_and_utc, day=day)
    app.jinja_env.globals.update(site_zone=site_zone)
