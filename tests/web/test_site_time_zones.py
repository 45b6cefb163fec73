"""Each site keeps its own time zone (the protocol's ``[sites.<code>] time_zone``, else the
study's): a subject's pages show its instants in its site's zone with UTC beside, and a list
across sites (``/queries``, ``/audit``) shows each row in its own site's zone.

The shipped protocol declares Ribeirão Preto (RP) in America/Sao_Paulo, as the study; here a
second site, SP, is moved to America/Manaus (UTC-4, an hour behind) so that a page showing the
study's zone for it fails.
"""

from __future__ import annotations

import re
from datetime import datetime
from importlib import resources
from zoneinfo import ZoneInfo

import pytest

from domain.errors import ProtocolDefinitionInvalid
from domain.protocol import NCT01297972, PROTOCOLS, load_protocol
from infrastructure.bootstrap import Store
from tests.e2e.conftest import SUBJECT
from tests.web.conftest import text
from tests.web.test_query_pages import Trial, signed_in

SHIPPED = resources.files("domain.protocols").joinpath("NCT01297972.toml").read_text("utf-8")
MANAUS = ZoneInfo("America/Manaus")
OTHER_SUBJECT = "SP-201"
SHOWN = re.compile(
    r'<time datetime="(?P<utc>[^"]+)">'
    r"(?P<local>\d{4}-\d\d-\d\d \d\d:\d\d) \((?P<zone>[^)]+)\)</time>"
)

ONE_BACKEND = pytest.mark.parametrize("backend", ["sqlite"])
"""The zones are the protocol's and the pages': one backend shows them as the other."""


@pytest.fixture
def sp_in_manaus(monkeypatch: pytest.MonkeyPatch) -> None:
    declared = SHIPPED + '\n[sites.SP]\ntime_zone = "America/Manaus"\n'
    monkeypatch.setitem(PROTOCOLS, NCT01297972.study_id, load_protocol(declared))


@pytest.fixture
def trial(timed: Store, sp_in_manaus: None) -> Trial:
    return Trial(timed)


def instants(page: str) -> list[tuple[datetime, str, str]]:
    """Each instant a page shows: (its UTC, the local time shown, the zone named)."""
    return [
        (datetime.fromisoformat(found["utc"]), found["local"], found["zone"])
        for found in SHOWN.finditer(page)
    ]


def in_zone(moment: datetime, zone: str) -> str:
    return f"{moment.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M}"


def test_the_protocol_gives_each_declared_site_its_zone_and_the_rest_the_studys(
    sp_in_manaus: None,
) -> None:
    protocol = PROTOCOLS[NCT01297972.study_id]

    assert protocol.zone_of("RP") == ZoneInfo("America/Sao_Paulo")
    assert protocol.zone_of("SP") == MANAUS
    assert protocol.zone_of("XX") == protocol.time_zone == ZoneInfo("America/Sao_Paulo")
    assert protocol.zone_of(None) == protocol.time_zone


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        (
            'time_zone = "Mars/Olympus"',
            "sites.SP.time_zone: 'Mars/Olympus' is not an IANA time zone",
        ),
        ('time_zone = "  "', "sites.SP.time_zone"),
        ("name = 'no zone named'", "sites.SP.time_zone"),
    ],
)
def test_a_site_without_a_real_time_zone_is_refused_with_the_protocol(
    declared: str, message: str
) -> None:
    with pytest.raises(ProtocolDefinitionInvalid, match=re.escape(message)):
        load_protocol(f"{SHIPPED}\n[sites.SP]\n{declared}\n")


@ONE_BACKEND
def test_a_subjects_page_shows_its_instants_in_its_sites_zone_beside_utc(
    timed: Store, trial: Trial
) -> None:
    auditor = signed_in(timed, trial.auditor)

    at_sp = instants(text(auditor.get(f"/subjects/{OTHER_SUBJECT}")))
    at_rp = instants(text(auditor.get(f"/subjects/{SUBJECT}")))

    assert at_sp and at_rp
    for moment, local, zone in at_sp:
        assert (local, zone) == (in_zone(moment, "America/Manaus"), "America/Manaus")
    for moment, local, zone in at_rp:
        assert (local, zone) == (in_zone(moment, "America/Sao_Paulo"), "America/Sao_Paulo")


@pytest.mark.requirement("P11-11.10e-1")
@ONE_BACKEND
def test_the_queries_and_the_audit_trail_across_sites_show_each_row_in_its_sites_zone(
    timed: Store, trial: Trial
) -> None:
    trial.raise_query()
    trial.raise_query(OTHER_SUBJECT)
    auditor = signed_in(timed, trial.auditor)

    queries = instants(text(auditor.get("/queries")))
    audit = text(auditor.get("/audit?size=500"))

    assert [zone for _moment, _local, zone in queries] == ["America/Sao_Paulo", "America/Manaus"]
    for moment, local, zone in queries:
        assert local == in_zone(moment, zone)
    shown = instants(audit)
    assert {zone for _moment, _local, zone in shown} == {"America/Sao_Paulo", "America/Manaus"}
    for moment, local, zone in shown:
        assert local == in_zone(moment, zone)
